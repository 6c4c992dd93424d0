"""The supernet of the search: search cells in the ResNet macro structure, with the architecture
weights alpha (one row per edge, one column per op) as registered parameters. With `aux_skip`
(DARTS-, Chu et al., ICLR 2021) every stride-1 edge also adds its input times `skip_weight`, a
buffer the search decays from 1 to 0 over its epochs (autoreid.search.regularizers): a skip that
the edges need not learn, so alpha's skip_connect no longer has to stand in for it."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from autoreid.space.cells import SearchCell, edge_count, stack_cells, stem
from autoreid.space.ops import SPACES


class Supernet(nn.Module):
    def __init__(self, space: str, C: int, layers: Sequence[int], nodes: int = 4,
                 aux_skip: bool = False):
        super().__init__()
        self.space = space
        self.op_names = SPACES[space]
        self.nodes = nodes
        self.stem = stem(C)

        def make_cell(c_pp, c_p, c_node, reduction, reduction_prev, stride):
            cell = SearchCell(self.op_names, nodes, c_pp, c_p, c_node, reduction, reduction_prev)
            return cell, nodes * c_node

        self.cells, self.out_channels = stack_cells(C, layers, make_cell)
        shape = (edge_count(nodes), len(self.op_names))
        self.alpha_normal = nn.Parameter(1e-3 * torch.randn(shape))
        self.alpha_reduce = nn.Parameter(1e-3 * torch.randn(shape))
        self.aux_skip = aux_skip
        if aux_skip:  # a buffer: its value changes each epoch without a compiled graph noticing
            self.register_buffer("skip_weight", torch.tensor(1.0))

    def arch_parameters(self) -> list[nn.Parameter]:
        return [self.alpha_normal, self.alpha_reduce]

    def weight_parameters(self) -> list[nn.Parameter]:
        return [p for n, p in self.named_parameters() if not n.startswith("alpha_")]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w_normal = torch.softmax(self.alpha_normal, dim=-1)
        w_reduce = torch.softmax(self.alpha_reduce, dim=-1)
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1, w_reduce if cell.reduction else w_normal,
                              self.skip_weight if self.aux_skip else None)
        return s1  # the feature map; the head pools it
