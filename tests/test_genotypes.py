import pytest
import torch

from autoreid.errors import UserError
from autoreid.models.network import CellNetwork
from autoreid.space import genotypes
from autoreid.space.genotypes import PUBLISHED, Genotype


@pytest.mark.parametrize("name", list(PUBLISHED))
def test_published_round_trip_and_build(name, tmp_path):
    g = PUBLISHED[name]
    genotypes.save(g, tmp_path / "g.yaml")
    again = genotypes.load(tmp_path / "g.yaml")
    assert again == g and again.to_dict() == g.to_dict()
    net = CellNetwork(g, C=8, layers=(1, 1, 1, 1))
    assert net(torch.randn(2, 3, 64, 32)).shape == (2, net.out_channels, 2, 1)  # stride 32


def test_released_cells_keep_weights_and_allow_repeated_inputs():
    g = PUBLISHED["BASELINE_REID_SEARCH_SPACE"]
    assert g.reduce[1] == ("part_aware", 0, 0.43) and g.reduce[3] == ("part_aware", 0, 0.43)
    assert g.normal[1][2] == 0.0


@pytest.mark.parametrize("cell,message", [
    ([["conv_7x7", 0], ["skip_connect", 1]], "unknown op 'conv_7x7'"),
    ([["none", 0], ["skip_connect", 1]], "unknown op 'none'"),
    ([["skip_connect", 2], ["skip_connect", 1]], "input 2 must be a state 0..1"),
    ([["skip_connect", 0]], "two per node"),
    ([["skip_connect", 0, "big"], ["skip_connect", 1]], "weight 'big'"),
    ("sep_conv_3x3", "list of [op, input] pairs"),
])
def test_malformed_genotypes_are_user_errors(cell, message):
    ok = [["skip_connect", 0], ["skip_connect", 1]]
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        Genotype.from_dict({"normal": cell, "reduce": ok})


def test_unknown_genotype_name():
    with pytest.raises(UserError, match="unknown genotype 'DARTS_V9'"):
        genotypes.resolve("DARTS_V9")


def test_missing_cell_and_unknown_key():
    with pytest.raises(UserError, match="missing 'reduce'"):
        Genotype.from_dict({"normal": [["skip_connect", 0], ["skip_connect", 1]]})
    with pytest.raises(UserError, match="unknown genotype key"):
        Genotype.from_dict({"normal": [], "reduce": [], "extra": 1})
