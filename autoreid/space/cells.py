"""Cells: the search cell (every op on every edge, mixed by softmax(alpha)) and the derived cell
(one op per kept edge, from a genotype), and the ResNet macro structure that stacks them.

Macro structure (paper §4.2): a 3x3 conv stem, then 4 stages of l = [l1, l2, l3, l4] cells with
C, 2C, 4C, 8C channels per node; the first cell of stages 2-4 is a reduction cell. The stem is
conv3x3/2 -> BN -> ReLU -> maxpool3x3/2, a ResNet-like stride 4: a 384x128 input reaches stage 1
at 96x32 and leaves stage 4 at 12x4. With `last_stride` 1 (PCB) the first cell of stage 4 keeps
the reduction cell's ops but not its down-sampling: stage 4 stays at 24x8.
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch
from torch import nn

from autoreid.space.ops import OPS, POOLS, FactorizedReduce, ReLUConvBN


def preprocess(c_in: int, c_out: int, reduce_input: bool, affine: bool) -> nn.Module:
    """Bring a cell input to C channels (and to this cell's resolution if it is one step larger)."""
    if reduce_input:
        return FactorizedReduce(c_in, c_out, affine)
    return ReLUConvBN(c_in, c_out, 1, 1, 0, affine)


def edge_count(nodes: int) -> int:
    """Number of edges of a search cell: node i (0-based) has 2 + i inputs."""
    return sum(2 + i for i in range(nodes))


def _drop_leading_relu(op: nn.Module) -> bool:
    """Replace the ReLU an op starts with by the identity; True if it had one."""
    module, parent, key = op, None, None
    while isinstance(module, nn.Sequential) and len(module):
        parent, key, module = module, "0", module[0]
    if isinstance(module, nn.ReLU) and parent is not None:
        parent[int(key)] = nn.Identity()
        return True
    if isinstance(getattr(op, "relu", None), nn.ReLU):  # FactorizedReduce
        op.relu = nn.Identity()
        return True
    return False


class MixedOp(nn.Module):
    """sum_o w_o * o(x); in the supernet pools are followed by a non-affine BN (DARTS).

    Two savings that change nothing in the result: `none` (the zero op) adds nothing and is not
    run (its weight still takes part in the softmax, and its gradient is zero either way), and the
    ops that start with a ReLU (sep_conv, dil_conv, the stride-2 skip_connect) share one."""

    def __init__(self, C: int, stride: int, ops: Sequence[str]):
        super().__init__()
        self.ops = nn.ModuleList()  # one per column of alpha, `none` included (state_dict keys)
        self.after_relu = []
        for name in ops:
            op = OPS[name](C, stride, False)
            if name in POOLS:
                op = nn.Sequential(op, nn.BatchNorm2d(C, affine=False))
            self.after_relu.append(_drop_leading_relu(op))
            self.ops.append(op)
        self.run = [i for i, name in enumerate(ops) if name != "none"]

    def forward(self, x: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
        relu_x = torch.relu(x) if any(self.after_relu) else None
        out = None
        for i in self.run:
            y = self.ops[i](relu_x if self.after_relu[i] else x) * weights[i]
            out = y if out is None else out + y
        return out


class SearchCell(nn.Module):
    def __init__(self, ops: Sequence[str], nodes: int, c_pp: int, c_p: int, C: int,
                 reduction: bool, reduction_prev: bool):
        super().__init__()
        self.reduction = reduction
        self.nodes = nodes
        self.pre0 = preprocess(c_pp, C, reduction_prev, affine=False)
        self.pre1 = preprocess(c_p, C, False, affine=False)
        self.edges = nn.ModuleList()
        self.strides = []
        for i in range(nodes):
            for j in range(2 + i):
                stride = 2 if reduction and j < 2 else 1
                self.edges.append(MixedOp(C, stride, ops))
                self.strides.append(stride)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor, weights: torch.Tensor,
                skip: torch.Tensor | None = None) -> torch.Tensor:
        """`skip`: DARTS-'s auxiliary skip weight, added as skip * h to every edge of stride 1 (an
        edge of stride 2 has no parameter-free skip); None: no auxiliary skip."""
        states = [self.pre0(s0), self.pre1(s1)]
        offset = 0
        for _ in range(self.nodes):
            states.append(sum(self._edge(offset + j, h, weights, skip) for j, h in enumerate(states)))
            offset += len(states) - 1
        return torch.cat(states[2:], dim=1)

    def _edge(self, k: int, h: torch.Tensor, weights: torch.Tensor, skip: torch.Tensor | None):
        out = self.edges[k](h, weights[k])
        return out if skip is None or self.strides[k] != 1 else out + skip * h


class DerivedCell(nn.Module):
    def __init__(self, edges, concat: Sequence[int], c_pp: int, c_p: int, C: int,
                 reduction: bool, reduction_prev: bool, stride: int = 2):
        """`reduction`: the reduction genotype; its ops on the inputs take `stride`."""
        super().__init__()
        self.reduction = reduction
        self.pre0 = preprocess(c_pp, C, reduction_prev, affine=True)
        self.pre1 = preprocess(c_p, C, False, affine=True)
        self.inputs = [src for _, src, _ in edges]
        self.concat = list(concat)
        self.ops = nn.ModuleList(
            OPS[op](C, stride if reduction and src < 2 else 1, True) for op, src, _ in edges)

    def forward(self, s0: torch.Tensor, s1: torch.Tensor) -> torch.Tensor:
        states = [self.pre0(s0), self.pre1(s1)]
        for k in range(0, len(self.ops), 2):
            states.append(self.ops[k](states[self.inputs[k]])
                          + self.ops[k + 1](states[self.inputs[k + 1]]))
        return torch.cat([states[i] for i in self.concat], dim=1)


def stem(C: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(3, C, 3, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(C),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(3, stride=2, padding=1),
    )


CellFactory = Callable[[int, int, int, bool, bool, int], tuple[nn.Module, int]]


def stack_cells(C: int, layers: Sequence[int], make_cell: CellFactory,
                last_stride: int = 2) -> tuple[nn.ModuleList, int]:
    """Cells of the ResNet macro structure; returns the cells and the channels of the last one.
    `make_cell(c_pp, c_p, C, reduction, reduction_prev, stride)` returns (cell, output channels):
    `reduction` picks the reduction genotype, `stride` its down-sampling (`last_stride` in stage 4),
    `reduction_prev` says whether the cell before halved the resolution."""
    if len(layers) != 4 or any(n < 1 for n in layers):
        raise ValueError(f"layers must be 4 positive stage depths, got {list(layers)}")
    cells = nn.ModuleList()
    c_pp = c_p = C
    reduction_prev = False
    for stage, depth in enumerate(layers):
        c_node = C * 2 ** stage
        for k in range(depth):
            reduction = stage > 0 and k == 0
            stride = (last_stride if stage == 3 else 2) if reduction else 1
            cell, c_out = make_cell(c_pp, c_p, c_node, reduction, reduction_prev, stride)
            cells.append(cell)
            c_pp, c_p, reduction_prev = c_p, c_out, stride == 2
    return cells, c_p
