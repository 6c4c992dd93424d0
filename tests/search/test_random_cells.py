"""Random cells: drawn uniformly from what the derivation rule can produce in a space, seeded,
written as genotype files that build a network."""
from collections import Counter

import pytest
import torch

from autoreid.models.build import arch_spec, build
from autoreid.search.random_cells import random_genotype
from autoreid.space import genotypes
from autoreid.space.names import SPACES
from helpers import run_cli


@pytest.mark.parametrize("space", ["standard", "reid"])
def test_every_node_has_two_distinct_earlier_states_each_with_a_real_op(space):
    for seed in range(50):
        g = random_genotype(space, seed)
        for cell in (g.normal, g.reduce):
            assert len(cell) == 8
            for node in range(4):
                (op1, j1, _), (op2, j2, _) = cell[2 * node: 2 * node + 2]
                assert j1 != j2 and 0 <= min(j1, j2) and max(j1, j2) < 2 + node
                assert {op1, op2} <= set(SPACES[space]) - {"none"}


def test_draws_are_uniform_over_ops_and_input_pairs():
    """Over many seeds each op of the reid space (6 but none) and each input pair of the last node
    (10 pairs of its 5 earlier states) comes up about equally often."""
    ops, pairs = Counter(), Counter()
    n = 600
    for seed in range(n):
        g = random_genotype("reid", seed)
        ops.update(op for op, _, _ in g.normal + g.reduce)
        pairs[(g.normal[6][1], g.normal[7][1])] += 1
    assert set(ops) == set(SPACES["reid"]) - {"none"}
    expected = 16 * n / 6
    assert all(abs(c - expected) < 0.1 * expected for c in ops.values()), ops
    assert len(pairs) == 10 and all(abs(c - n / 10) < 0.35 * n / 10 for c in pairs.values()), pairs


def test_seeded_and_different_across_seeds_and_spaces():
    assert random_genotype("reid", 3) == random_genotype("reid", 3)
    assert random_genotype("reid", 3) != random_genotype("reid", 4)
    assert random_genotype("standard", 3) != random_genotype("reid", 3)
    g = random_genotype("standard", 3)
    assert "part_aware" not in {op for op, _, _ in g.normal + g.reduce}


def test_the_cli_writes_a_genotype_that_builds_a_network(tmp_path):
    out = tmp_path / "genotype.yaml"
    run_cli("random", "--space", "reid", "--run", "2", "--out", out, "--figure", tmp_path / "c.png",
            check=True)
    g = genotypes.load(out)
    assert g == random_genotype("reid", 0 + 2)  # search.seed 0 of the default profile, + run
    assert g.meta["random"] is True and (tmp_path / "c.png").stat().st_size > 0
    model = build(arch_spec(str(out), 5, 4, (1, 1, 1, 1), embedding=8))
    assert model(torch.randn(2, 3, 32, 16))["logits"].shape == (2, 5)
