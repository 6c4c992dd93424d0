"""Derivation (the DARTS rule, paper §3.1): a pure function of the architecture weights.

For each intermediate node keep the two incoming edges whose strongest non-`none` op weight is
largest; on each kept edge keep that strongest non-`none` op. The stored weight is that op's
softmax weight. Ties go to the earlier input and the earlier op.
"""
from __future__ import annotations

import math
from typing import Sequence

from autoreid.space.genotypes import Edge, Genotype


def derive_cell(weights: Sequence[Sequence[float]], op_names: Sequence[str], nodes: int = 4
                ) -> tuple[Edge, ...]:
    """weights: one row per edge (node 0's 2 inputs, node 1's 3, ...), one column per op."""
    keep_ops = [k for k, name in enumerate(op_names) if name != "none"]
    edges: list[Edge] = []
    offset = 0
    for i in range(nodes):
        n_inputs = 2 + i
        best = []
        for j in range(n_inputs):
            row = weights[offset + j]
            k = max(keep_ops, key=lambda k: (row[k], -k))
            best.append((row[k], -j, op_names[k], j))
        for strength, _, op, j in sorted(best, reverse=True)[:2]:
            edges.append((op, j, round(float(strength), 4)))
        offset += n_inputs
    return tuple(edges)


def derive(normal: Sequence[Sequence[float]], reduce: Sequence[Sequence[float]],
           op_names: Sequence[str], nodes: int = 4, meta: dict | None = None) -> Genotype:
    concat = tuple(range(2, 2 + nodes))
    return Genotype(normal=derive_cell(normal, op_names, nodes),
                    reduce=derive_cell(reduce, op_names, nodes),
                    normal_concat=concat, reduce_concat=concat, meta=meta or {})


def structure(g: Genotype) -> tuple:
    """What a genotype builds: each cell's (op, input) pairs, its stored weights left out."""
    return tuple((op, j) for op, j, _ in g.normal), tuple((op, j) for op, j, _ in g.reduce)


def normalised_entropy(*cells: Sequence[Sequence[float]]) -> float:
    """Mean over the edges of the cells' op weights of their entropy / log(ops): 1 is uniform (the
    search has decided nothing), 0 one op per edge."""
    rows = [row for cell in cells for row in cell]
    return sum(-sum(w * math.log(w) for w in row if w > 0) / math.log(len(row))
               for row in rows) / len(rows)
