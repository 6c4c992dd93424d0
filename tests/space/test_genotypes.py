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


# Property: any YAML document given as a genotype file either loads into a genotype that saves
# and loads back unchanged (and builds a network), or is refused with one UserError, never another
# exception.
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from autoreid.space.names import OP_NAMES  # noqa: E402

_op = st.sampled_from([*OP_NAMES, "part_aware", "conv_7x7", "", 3, None])
_entry = st.one_of(st.tuples(_op, st.integers(-1, 6)).map(list),
                   st.tuples(_op, st.integers(0, 6), st.one_of(st.floats(allow_nan=True),
                                                               st.text(max_size=3))).map(list),
                   st.lists(st.integers(0, 3), max_size=4), st.text(max_size=5), st.none())
_cell = st.one_of(st.lists(_entry, min_size=0, max_size=10), st.text(max_size=5), st.integers())
_real_op = st.sampled_from([o for o in OP_NAMES if o != "none"])


@st.composite
def _valid_cell(draw, nodes: int = 4):
    return [[draw(_real_op), draw(st.integers(0, i + 1))] for i in range(nodes) for _ in range(2)]


@st.composite
def _mutated_cell(draw):
    """A valid cell with one entry replaced by something else."""
    cell = draw(_valid_cell())
    cell[draw(st.integers(0, len(cell) - 1))] = draw(_entry)
    return cell


_doc = st.one_of(
    st.fixed_dictionaries({"normal": _valid_cell(), "reduce": _valid_cell()}),
    st.fixed_dictionaries({"normal": _mutated_cell(), "reduce": _valid_cell()}),
    st.fixed_dictionaries({"normal": _cell, "reduce": _cell},
                          optional={"normal_concat": st.lists(st.integers(-1, 7), max_size=5),
                                    "reduce_concat": st.one_of(st.lists(st.integers(0, 7)),
                                                               st.text(max_size=3)),
                                    "meta": st.dictionaries(st.text(max_size=4), st.integers()),
                                    "extra": st.integers()}),
    st.lists(st.integers(), max_size=3), st.text(max_size=10), st.none())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(doc=_doc)
def test_any_genotype_file_loads_round_trip_or_is_a_user_error(doc, tmp_path):
    import yaml

    path = tmp_path / "g.yaml"
    path.write_text(yaml.safe_dump(doc))
    try:
        g = genotypes.load(path)
    except UserError as e:
        assert "\n" not in str(e)
        return
    genotypes.save(g, tmp_path / "again.yaml")
    assert genotypes.load(tmp_path / "again.yaml") == g
    net = CellNetwork(g, C=4, layers=(1, 1, 1, 1))
    assert net(torch.randn(2, 3, 32, 16)).shape[1] == net.out_channels


@settings(max_examples=50, deadline=None)
@given(normal=_valid_cell(), reduce=_valid_cell())
def test_every_well_formed_genotype_loads(normal, reduce):
    g = Genotype.from_dict({"normal": normal, "reduce": reduce})
    assert [list(e[:2]) for e in g.normal] == normal
