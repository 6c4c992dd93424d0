"""The part-aware module of the reID search space (paper §3.3, Fig. 2).

Given an input tensor F:
1. split F vertically into M horizontal stripes (any height: uneven stripes, and fewer rows than
   stripes, both work), average-pool each stripe to a vector and map it by a linear layer to a
   "body vector";
2. let the M body vectors interact by (single-head, residual) self-attention;
3. repeat each vector over its stripe's rows and columns: the "enhanced tensor";
4. concatenate it with the input along channels and fuse by a 1x1 ReLU-conv-BN.

The linear layer is applied at every position of the full-resolution F (a 1x1 conv), then the
stripes are averaged. A linear map commutes with the mean, so this is the same function as
"average, then linear", at the cost the paper's counts imply: with it the released
BASELINE_REID_SEARCH_SPACE cell at C=64 counts 13.0 M parameters and 2.05 G multiply-adds
(paper: 13.1 M, 2.05 G). docs/part_aware.md compares the variants measured and why this one.

At stride 2 the body vectors are read from the full-resolution F, and F is average-pooled
3x3/2 (as a pool op would) before the fusion, so the module fits a reduction cell. Body vectors
have C channels, and the fusion maps 2C -> C.
"""
from __future__ import annotations

import contextlib
import functools
import math

import torch
from torch import nn

from autoreid.space.layers import ReLUConvBN


def stripe_matrices(height: int, parts: int,
                    device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """(pool, expand) in fp32 on `device` (default: the CPU): pool (parts x height) averages rows into
    stripes; expand (height x parts) gives each row the mean of the stripes that cover it.

    Stripe i covers rows [floor(i*H/M), max(floor(i*H/M)+1, floor((i+1)*H/M))): a partition into
    stripes whose heights differ by at most one when H >= M; overlapping one-row stripes when H < M.
    Made from `arange`s on the device itself: nothing is copied from the host.
    """
    i = torch.arange(parts, device=device)
    start = i * height // parts
    end = torch.maximum(start + 1, (i + 1) * height // parts)
    rows = torch.arange(height, device=device)
    cover = ((rows >= start[:, None]) & (rows < end[:, None])).float()
    pool = cover / cover.sum(dim=1, keepdim=True)
    expand = cover.t() / cover.t().sum(dim=1, keepdim=True)
    return pool, expand


def _full_precision(device: torch.device):
    """No autocast inside (the meta device of `complexity` has none to turn off)."""
    if device.type in ("cpu", "cuda"):
        return torch.autocast(device.type, enabled=False)
    return contextlib.nullcontext()


def stripe_matrix(height: int, parts: int, which: int, like: torch.Tensor) -> torch.Tensor:
    """`stripe_matrices`' pool (`which` 0) or expand (1) on `like`'s device in its dtype: made there
    once, and cached (a forward pass copies nothing from the host); in a compiled graph, made by the
    graph itself (inductor folds it into a constant)."""
    if torch.compiler.is_compiling():
        return stripe_matrices(height, parts, like.device)[which].to(like.dtype)
    return _on_device(height, parts, which, like.device, like.dtype)


@functools.lru_cache(maxsize=256)
def _on_device(height: int, parts: int, which: int, device: torch.device,
               dtype: torch.dtype) -> torch.Tensor:
    return stripe_matrices(height, parts, device)[which].to(dtype)


class PartAware(nn.Module):
    def __init__(self, C: int, stride: int = 1, affine: bool = True, parts: int = 4):
        super().__init__()
        self.parts = parts
        self.body = nn.Conv2d(C, C, 1)  # the linear layer, at every position of F
        self.query = nn.Linear(C, C, bias=False)
        self.key = nn.Linear(C, C, bias=False)
        self.value = nn.Linear(C, C, bias=False)
        self.reduce = nn.AvgPool2d(3, 2, 1, count_include_pad=False) if stride == 2 else None
        self.fuse = ReLUConvBN(2 * C, C, 1, 1, 0, affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # the body vectors and their attention in fp32 (at least) under mixed precision: M small
        # vectors cost nothing, and bf16 dot products would blur the attention
        dtype = torch.promote_types(x.dtype, torch.float32)
        columns = self.body(x).to(dtype).mean(dim=3)  # (n, C, H): each row's mean over columns
        with _full_precision(x.device):
            pool = stripe_matrix(x.shape[2], self.parts, 0, columns)
            body = torch.matmul(columns, pool.t()).transpose(1, 2)  # (n, M, C)
            q, k, v = self.query(body), self.key(body), self.value(body)
            attention = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]), dim=-1)
            body = body + attention @ v
        if self.reduce is not None:
            x = self.reduce(x)
        n, _, h, w = x.shape
        with _full_precision(x.device):
            rows = torch.matmul(stripe_matrix(h, self.parts, 1, body), body)  # (n, H, C)
        enhanced = rows.to(x.dtype).transpose(1, 2).unsqueeze(-1).expand(n, -1, h, w)
        # in x's memory format: a cat of mixed formats comes out NCHW, and the fusion's ReLU,
        # conv and BN (and their backward) would mix it with the channels-last network around them
        # (a ReLU's backward on mixed formats is ~25x slower on a CPU)
        return self.fuse(torch.cat([x, enhanced.contiguous(memory_format=_format(x))], dim=1))


def _format(x: torch.Tensor) -> torch.memory_format:
    channels_last = x.dim() == 4 and x.is_contiguous(memory_format=torch.channels_last)
    return torch.channels_last if channels_last else torch.contiguous_format
