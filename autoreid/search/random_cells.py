"""Random cells: the baseline a searched cell has to beat (Li & Talwalkar, UAI 2019; Yang et al.,
ICLR 2020: many NAS methods do not beat the average random architecture of their own space).

A random genotype is drawn uniformly from what the derivation rule (autoreid.search.derive) can
produce in a space: for each intermediate node, two distinct earlier states (the cell's two inputs
and the nodes before it), each with one op other than `none`; normal and reduction cell alike.
Seeded: the same space, nodes and seed give the same genotype.
"""
from __future__ import annotations

import numpy as np

from autoreid.space.genotypes import Edge, Genotype
from autoreid.space.names import SPACES


def random_cell(op_names: tuple[str, ...], nodes: int, rng: np.random.Generator) -> tuple[Edge, ...]:
    ops = [op for op in op_names if op != "none"]
    edges: list[Edge] = []
    for i in range(nodes):
        for j in sorted(rng.choice(2 + i, size=2, replace=False).tolist()):
            edges.append((ops[int(rng.integers(len(ops)))], int(j), None))
    return tuple(edges)


def random_genotype(space: str, seed: int, nodes: int = 4) -> Genotype:
    """A genotype drawn uniformly from `space`'s derivable cells, with `seed` (see the module)."""
    rng = np.random.default_rng([seed, nodes])
    concat = tuple(range(2, 2 + nodes))
    return Genotype(normal=random_cell(SPACES[space], nodes, rng),
                    reduce=random_cell(SPACES[space], nodes, rng),
                    normal_concat=concat, reduce_concat=concat,
                    meta={"space": space, "random": True, "seed": seed})
