from pathlib import Path

import pytest
import yaml

from autoreid.config import STAGES, as_dict, build, load_params, resolve, validate
from autoreid.errors import UserError
from autoreid.search.search import SearchConfig

PARAMS = sorted((Path(__file__).resolve().parents[1] / "params").glob("*.yaml"))


@pytest.mark.parametrize("path", PARAMS, ids=lambda p: p.name)
def test_every_params_file_validates_and_builds(path):
    params = load_params(path)
    for stage in STAGES:
        resolve(stage, path)
    for name in params["search_variants"]:
        resolve("search", path, name)
    for name in params["train_settings"]:
        resolve("train", path, name)


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


def test_dataclass_build_rejects_unknown_missing_and_wrong_types():
    full = as_dict(resolve("search", PARAMS[0]))
    with pytest.raises(UserError, match="unknown parameter"):
        build(SearchConfig, {**full, "epoch": 1}, "search")
    with pytest.raises(UserError, match="missing parameter.*alpha_lr"):
        build(SearchConfig, {k: v for k, v in full.items() if k != "alpha_lr"}, "search")
    with pytest.raises(UserError, match="lr must be of type float"):
        build(SearchConfig, {**full, "lr": "fast"}, "search")
    cfg = build(SearchConfig, {**full, "lr": 1, "layers": [1, 1, 1, 1]}, "search")
    assert cfg.layers == (1, 1, 1, 1) and cfg.lr == 1.0 and isinstance(cfg.lr, float)


def test_no_stage_dataclass_has_a_default():
    """Defaults live in the params files only (a missing key is refused, never filled in)."""
    import dataclasses
    import importlib

    for stage, (_, target) in STAGES.items():
        module, cls = target.split(":")
        for f in dataclasses.fields(getattr(importlib.import_module(module), cls)):
            assert f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING, (
                stage, f.name)


def _schema_keys(section: str | None) -> set[str]:
    """The keys the schema requires of a params section (None: the top level's scalars)."""
    from autoreid.config import schema

    node = schema()
    if section is None:
        return {k for k, v in node["properties"].items()
                if "properties" not in v and "additionalProperties" not in v}
    for part in section.split("."):
        node = node["properties"][part]
    return set(node["required"])


def test_every_stage_dataclass_has_exactly_the_keys_its_section_requires():
    """The schema and the dataclasses cannot drift: a key added to one is missing from the other."""
    import dataclasses
    import importlib

    for stage, (section, target) in STAGES.items():
        module, cls = target.split(":")
        fields = {f.name for f in dataclasses.fields(getattr(importlib.import_module(module), cls))}
        required = _schema_keys(section)
        if section is None:  # the runtime: some of the top-level keys
            assert fields <= required, (stage, fields - required)
        else:
            assert fields == required, (stage, fields ^ required)


def test_overrides_meet_the_schema_and_land_in_the_named_entry():
    with pytest.raises(UserError, match=r"with lam=1.7: search.lam: 1.7 is greater than the maximum"):
        resolve("search", PARAMS[0], None, ["lam=1.7"])
    with pytest.raises(UserError, match=r"search_variants.baseline: Unevaluated properties.*'bogus'"):
        resolve("search", PARAMS[0], "baseline", {"bogus": 1})
    with pytest.raises(UserError, match=r"train_settings.pcb.lr: -1 is less than"):
        resolve("train", PARAMS[0], "pcb", {"lr": -1})
    cfg = resolve("search", PARAMS[0], "baseline", ["lam=0.25", "C=4"])  # over the variant too
    assert (cfg.space, cfg.loss, cfg.lam, cfg.C) == ("standard", "softmax", 0.25, 4)
    assert resolve("rerank", PARAMS[0], None, {"k1": 7}).k1 == 7


BAD = [  # (where, key, value or None to delete it, what the one line names)
    ("search_variants.baseline", "lam", 1.7, "search_variants.baseline.lam: 1.7 is greater than"),
    ("search_variants.baseline", "bogus", 1, "search_variants.baseline: Unevaluated properties"),
    ("search_variants.baseline", "loss", "hinge", "search_variants.baseline.loss"),
    ("train_settings.pcb", "lr", -1, "train_settings.pcb.lr: -1 is less than"),
    ("train_settings.imagenet", "P", "many", "train_settings.imagenet.P: 'many' is not of type"),
    ("train", "epochs", None, "train: 'epochs' is a required property"),
    ("train", "loss", "hinge", "train.loss: 'hinge' is not one of"),
    ("search", "alpha_lr", None, "search: 'alpha_lr' is a required property"),
    ("pretrain", "lr_decay", None, "pretrain: 'lr_decay' is a required property"),
    ("pretrain", "scale", [0.5], "pretrain.scale: [0.5] is too short"),
    ("train", "dropout", "half", "train.dropout: 'half' is not of type"),
    ("rerank", "k1", 0, "rerank.k1: 0 is less than the minimum of 1"),
    ("complexity", "layers", [2, 2, 2], "complexity.layers: [2, 2, 2] is too short"),
    # what the schema cannot say (autoreid/config_checks.py)
    ("table3", "setting", "nope", "table3.setting: 'nope' is not an entry of train_settings"),
    ("table2", "searches", ["nope"], "table2.searches.0: 'nope' is not an entry of search_variants"),
    ("table4", "archs", ["NOPE_V9"], "table4.archs.0: 'NOPE_V9' is not a known architecture"),
    ("synth.market1501", "cameras_per_id", [2, 9], "synth.market1501.cameras_per_id: [2, 9] must"),
    ("train", "milestones", [14, 11], "train.milestones: [14, 11] must be increasing"),
    ("search_variants.baseline", "alpha_milestones", [5, 5],
     "search_variants.baseline.alpha_milestones: [5, 5] must be increasing"),
    ("train", "lr", float("nan"), "train.lr: nan is not a finite number"),
    ("search_variants.baseline", "alpha_lr", float("inf"),
     "search_variants.baseline.alpha_lr: inf is not a finite number"),
]


def test_more_than_one_gpu_a_job_is_refused_as_wasted():
    """Every job runs on one GPU (pre-training on one a process): a second one would sit idle."""
    params = yaml.safe_load(PARAMS[0].read_text())
    params["gpus_per_job"] = 2
    with pytest.raises(UserError) as e:
        validate(params, "p.yaml")
    assert str(e.value) == ("p.yaml: gpus_per_job: 2: a job runs on one GPU (search, train and "
                            "evaluate on one device; pre-training on pretrain_processes GPUs, one a "
                            "process): set 0 or 1")


def test_nodes_that_do_not_divide_the_processes_are_refused():
    params = yaml.safe_load(PARAMS[0].read_text())
    params.update(pretrain_processes=8, pretrain_nodes=3)
    with pytest.raises(UserError) as e:
        validate(params, "p.yaml")
    assert str(e.value) == ("p.yaml: pretrain_nodes: 3 does not divide pretrain_processes: 8 (each "
                            "node runs the same number of processes)")
    params["pretrain_nodes"] = 2
    validate(params, "p.yaml")


def _broken(where: str, key: str, value) -> dict:
    params = yaml.safe_load(PARAMS[0].read_text())
    node = params
    for part in where.split("."):
        node = node[part]
    if value is None:
        del node[key]
    else:
        node[key] = value
    return params


@pytest.mark.parametrize("where,key,value,message", BAD, ids=[f"{w}.{k}" for w, k, _, _ in BAD])
def test_bad_params_are_refused_naming_the_key(where, key, value, message):
    with pytest.raises(UserError) as e:
        validate(_broken(where, key, value), "p.yaml")
    assert str(e.value).startswith(f"p.yaml: {message}") and "\n" not in str(e.value)


def test_snakemake_plan_refuses_a_bad_variant(tmp_path):
    from helpers import snakemake

    (tmp_path / "p.yaml").write_text(yaml.safe_dump(_broken("search_variants.baseline", "lam", 1.7)))
    proc = snakemake("-n", "tables", "--configfile", tmp_path / "p.yaml", cwd=tmp_path, timeout=300)
    assert proc.returncode != 0
    assert "p.yaml: search_variants.baseline.lam: 1.7 is greater than the maximum of 1" in (
        proc.stdout + proc.stderr)
