"""Candidate operations: a table OPS[name](C, stride, affine) -> nn.Module.

DARTS conventions: every conv op is ReLU -> conv -> BN; `sep_conv` stacks two depthwise-separable
blocks (stride only in the first); `dil_conv` is one dilated depthwise-separable block; `skip_connect`
is the identity at stride 1 and a factorized 1x1 reduction at stride 2; `none` is the zero op.
Every op keeps the spatial size at stride 1 and halves it (ceil) at stride 2.
"""
from __future__ import annotations

from typing import Callable

from torch import nn

from autoreid.space.layers import DilConv, FactorizedReduce, ReLUConvBN, SepConv, StridedPointwise, Zero  # noqa: F401 (re-exported)
from autoreid.space.names import OP_NAMES, POOLS, SPACES  # noqa: F401 (re-exported)
from autoreid.space.part_aware import PartAware

OpFactory = Callable[[int, int, bool], nn.Module]

OPS: dict[str, OpFactory] = {
    "none": lambda C, stride, affine: Zero(stride),
    "avg_pool_3x3": lambda C, stride, affine: nn.AvgPool2d(3, stride, 1, count_include_pad=False),
    "max_pool_3x3": lambda C, stride, affine: nn.MaxPool2d(3, stride, 1),
    "skip_connect": lambda C, stride, affine: (
        nn.Identity() if stride == 1 else FactorizedReduce(C, C, affine)),
    "sep_conv_3x3": lambda C, stride, affine: SepConv(C, C, 3, stride, 1, affine),
    "sep_conv_5x5": lambda C, stride, affine: SepConv(C, C, 5, stride, 2, affine),
    "dil_conv_3x3": lambda C, stride, affine: DilConv(C, C, 3, stride, 2, 2, affine),
    "dil_conv_5x5": lambda C, stride, affine: DilConv(C, C, 5, stride, 4, 2, affine),
    "part_aware": lambda C, stride, affine: PartAware(C, stride=stride, affine=affine),
}

assert tuple(OPS) == OP_NAMES, "OPS and names.OP_NAMES must list the same ops"


def build_op(name: str, C: int, stride: int, affine: bool = True) -> nn.Module:
    from autoreid.errors import UserError

    if name not in OPS:
        raise UserError(f"unknown op {name!r} (known: {', '.join(OPS)})")
    return OPS[name](C, stride, affine)
