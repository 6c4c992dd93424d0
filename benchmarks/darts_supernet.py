"""The straightforward DARTS supernet, kept as the baseline that benchmarks/search.py measures
ours against: every op of the space on every edge (the zero op included), each op with its own
leading ReLU, weighted and summed one by one, in the default (NCHW-contiguous) memory layout.
Same ops, cells and macro structure as autoreid's, so both compute the same function."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from autoreid.space.cells import edge_count, preprocess, stack_cells, stem
from autoreid.space.ops import OPS, POOLS, SPACES


class PlainMixedOp(nn.Module):
    def __init__(self, C: int, stride: int, ops: Sequence[str]):
        super().__init__()
        self.ops = nn.ModuleList(
            nn.Sequential(OPS[n](C, stride, False), nn.BatchNorm2d(C, affine=False)) if n in POOLS
            else OPS[n](C, stride, False) for n in ops)

    def forward(self, x, weights):
        return sum(w * op(x) for w, op in zip(weights, self.ops))


class PlainCell(nn.Module):
    def __init__(self, ops, nodes, c_pp, c_p, C, reduction, reduction_prev):
        super().__init__()
        self.reduction, self.nodes = reduction, nodes
        self.pre0 = preprocess(c_pp, C, reduction_prev, affine=False)
        self.pre1 = preprocess(c_p, C, False, affine=False)
        self.edges = nn.ModuleList(PlainMixedOp(C, 2 if reduction and j < 2 else 1, ops)
                                   for i in range(nodes) for j in range(2 + i))

    def forward(self, s0, s1, weights):
        states, offset = [self.pre0(s0), self.pre1(s1)], 0
        for _ in range(self.nodes):
            states.append(sum(self.edges[offset + j](h, weights[offset + j])
                              for j, h in enumerate(states)))
            offset += len(states) - 1
        return torch.cat(states[2:], dim=1)


class PlainSupernet(nn.Module):
    def __init__(self, space: str, C: int, layers: Sequence[int], nodes: int = 4):
        super().__init__()
        self.op_names = SPACES[space]
        self.stem = stem(C)
        self.cells, self.out_channels = stack_cells(
            C, layers, lambda c_pp, c_p, c, red, red_prev, stride: (
                PlainCell(self.op_names, nodes, c_pp, c_p, c, red, red_prev), nodes * c))
        shape = (edge_count(nodes), len(self.op_names))
        self.alpha_normal = nn.Parameter(1e-3 * torch.randn(shape))
        self.alpha_reduce = nn.Parameter(1e-3 * torch.randn(shape))

    def arch_parameters(self):
        return [self.alpha_normal, self.alpha_reduce]

    def weight_parameters(self):
        return [p for n, p in self.named_parameters() if not n.startswith("alpha_")]

    def forward(self, x):
        w_normal, w_reduce = (torch.softmax(a, dim=-1) for a in self.arch_parameters())
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, w_reduce if cell.reduction else w_normal)
        return s1
