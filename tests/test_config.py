from pathlib import Path

import pytest
import yaml

from autoreid.config import build, load_params, stage_config, validate
from autoreid.errors import UserError
from autoreid.search.search import SearchConfig
from autoreid.train.train import TrainConfig

PARAMS = sorted((Path(__file__).resolve().parents[1] / "params").glob("*.yaml"))


@pytest.mark.parametrize("path", PARAMS, ids=lambda p: p.name)
def test_every_params_file_validates_and_builds(path):
    params = load_params(path)
    for name in params["search_variants"]:
        stage_config(SearchConfig, str(path), "search", ("search_variants", name))
    for name in params["train_settings"]:
        stage_config(TrainConfig, str(path), "train", ("train_settings", name))


def test_profiles_have_the_same_keys():
    a, b = (yaml.safe_load(p.read_text()) for p in PARAMS[:2])

    def keys(d, prefix=""):
        out = set()
        for k, v in d.items():
            if isinstance(v, dict) and not k.endswith(("variants", "settings", "resources")):
                out |= keys(v, prefix + k + ".")
            else:
                out.add(prefix + k)
        return out

    assert keys(a) == keys(b)


def test_schema_errors_name_the_key(tmp_path):
    params = yaml.safe_load(PARAMS[0].read_text())
    params["search"]["epochs"] = 0
    with pytest.raises(UserError, match=r"search.epochs: 0 is less than the minimum of 1"):
        validate(params, "p.yaml")
    params["search"]["epochs"] = 2
    params["search"]["epoch"] = 2
    with pytest.raises(UserError, match="epoch"):
        validate(params, "p.yaml")


def test_dataclass_build_rejects_unknown_and_wrong_types():
    with pytest.raises(UserError, match="unknown parameter"):
        build(SearchConfig, {"epoch": 1}, "search")
    with pytest.raises(UserError, match="lr must be of type float"):
        build(SearchConfig, {"lr": "fast"}, "search")
    assert build(SearchConfig, {"lr": 1, "layers": [1, 1, 1, 1]}, "search").layers == (1, 1, 1, 1)


def test_unknown_variant(tmp_path):
    with pytest.raises(UserError, match="search_variants: no entry 'nope'"):
        stage_config(SearchConfig, str(PARAMS[0]), "search", ("search_variants", "nope"))
