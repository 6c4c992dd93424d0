"""The network built from a genotype: derived cells in the ResNet macro structure."""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from autoreid.space.cells import DerivedCell, stack_cells, stem
from autoreid.space.genotypes import Genotype


class CellNetwork(nn.Module):
    def __init__(self, genotype: Genotype, C: int, layers: Sequence[int], last_stride: int = 2):
        super().__init__()
        self.stem = stem(C)

        def make_cell(c_pp, c_p, c_node, reduction, reduction_prev, stride):
            edges = genotype.reduce if reduction else genotype.normal
            concat = genotype.reduce_concat if reduction else genotype.normal_concat
            cell = DerivedCell(edges, concat, c_pp, c_p, c_node, reduction, reduction_prev, stride)
            return cell, len(concat) * c_node

        self.cells, self.out_channels = stack_cells(C, layers, make_cell, last_stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return s1  # the feature map; the head pools it
