from autoreid.search.derive import derive, derive_cell
from autoreid.space.names import SPACES

OPS = SPACES["standard"]  # none, max_pool, avg_pool, skip, sep_conv, dil_conv


def row(**w):
    r = [0.0] * len(OPS)
    for name, value in w.items():
        r[OPS.index(name)] = value
    return r


def test_darts_rule_on_hand_made_weights():
    weights = [
        # node 0: inputs 0, 1
        row(none=0.9, sep_conv_3x3=0.05), row(max_pool_3x3=0.3, skip_connect=0.2),
        # node 1: inputs 0, 1, 2
        row(dil_conv_3x3=0.5), row(avg_pool_3x3=0.1), row(sep_conv_3x3=0.6),
        # node 2: inputs 0..3 — 'none' is ignored even when it dominates
        row(none=0.99, skip_connect=0.01), row(skip_connect=0.4), row(), row(max_pool_3x3=0.45),
        # node 3: inputs 0..4, a tie between inputs 1 and 4 goes to the earlier input
        row(), row(sep_conv_3x3=0.3), row(), row(), row(sep_conv_3x3=0.3, dil_conv_3x3=0.2),
    ]
    cell = derive_cell(weights, OPS, nodes=4)
    assert [(op, i) for op, i, _ in cell] == [
        ("max_pool_3x3", 1), ("sep_conv_3x3", 0),
        ("sep_conv_3x3", 2), ("dil_conv_3x3", 0),
        ("max_pool_3x3", 3), ("skip_connect", 1),
        ("sep_conv_3x3", 1), ("sep_conv_3x3", 4),
    ]
    assert cell[0][2] == 0.3


def test_derive_makes_a_full_genotype():
    uniform = [[1 / len(OPS)] * len(OPS)] * 14
    g = derive(uniform, uniform, OPS, meta={"space": "standard"})
    assert len(g.normal) == len(g.reduce) == 8 and g.normal_concat == (2, 3, 4, 5)
    assert all(op != "none" for op, _, _ in g.normal + g.reduce)


def test_ties_between_ops_go_to_the_earlier_op_and_weights_are_rounded():
    weights = [row(sep_conv_3x3=0.3, dil_conv_3x3=0.3), row(skip_connect=0.123456)] + [row()] * 12
    cell = derive_cell(weights, OPS)  # the default: 4 nodes
    assert len(cell) == 8
    assert cell[0] == ("sep_conv_3x3", 0, 0.3) and cell[1] == ("skip_connect", 1, 0.1235)


def test_derive_passes_nodes_concat_and_meta():
    three = [[1 / len(OPS)] * len(OPS)] * 9  # 3 nodes: 2 + 3 + 4 edges
    g = derive(three, three, OPS, nodes=3)
    assert len(g.normal) == len(g.reduce) == 6
    assert g.normal_concat == g.reduce_concat == (2, 3, 4) and g.meta == {}
    four = [[1 / len(OPS)] * len(OPS)] * 14
    assert derive(four, four, OPS).reduce_concat == (2, 3, 4, 5)
    assert derive(four, four, OPS, meta={"space": "standard"}).meta == {"space": "standard"}
