"""The part-aware module of the reID search space (paper §3.3, Fig. 2).

1. split the input vertically into M horizontal stripes (any height: uneven stripes, and fewer
   rows than stripes, both work);
2. average-pool each stripe to a vector and map it by a linear layer to a "body vector";
3. let the M body vectors interact by (single-head, residual) self-attention;
4. repeat each vector over its stripe's rows and columns: the "enhanced tensor";
5. concatenate it with the input along channels and fuse by a 1x1 ReLU-conv-BN.

At stride 2 the input is first average-pooled 3x3/2 (as a pool op would), so the module fits a
reduction cell. Body vectors have C channels (`body_ratio`=1): the 1x1 fusion (2C -> C) then costs
about the multiply-adds of a 3x3 separable conv (~2 C^2 per pixel), as the paper says; with this
choice the released BASELINE_REID_SEARCH_SPACE cell at C=64 has 13.0 M parameters (paper: 13.1 M).
"""
from __future__ import annotations

import contextlib
import functools
import math

import torch
from torch import nn

from autoreid.space.ops import ReLUConvBN


@functools.lru_cache(maxsize=256)
def stripe_matrices(height: int, parts: int) -> tuple[torch.Tensor, torch.Tensor]:
    """(pool, expand): pool (parts x height) averages rows into stripes; expand (height x parts)
    gives each row the mean of the stripes that cover it.

    Stripe i covers rows [floor(i*H/M), max(floor(i*H/M)+1, floor((i+1)*H/M))): a partition into
    stripes whose heights differ by at most one when H >= M; overlapping one-row stripes when H < M.
    """
    cover = torch.zeros(parts, height, device="cpu")  # cached: never on the meta device of `profile`
    for i in range(parts):
        start = (i * height) // parts
        end = max(start + 1, ((i + 1) * height) // parts)
        cover[i, start:end] = 1.0
    pool = cover / cover.sum(dim=1, keepdim=True)
    expand = cover.t() / cover.t().sum(dim=1, keepdim=True)
    return pool, expand


def _full_precision(device: torch.device):
    """No autocast inside (the meta device of `profile` has none to turn off)."""
    if device.type in ("cpu", "cuda"):
        return torch.autocast(device.type, enabled=False)
    return contextlib.nullcontext()


class PartAware(nn.Module):
    def __init__(self, C: int, stride: int = 1, affine: bool = True, parts: int = 4,
                 body_ratio: float = 1.0):
        super().__init__()
        self.parts = parts
        dim = max(1, int(round(C * body_ratio)))
        self.reduce = nn.AvgPool2d(3, 2, 1, count_include_pad=False) if stride == 2 else None
        self.body = nn.Linear(C, dim)
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        self.fuse = ReLUConvBN(C + dim, C, 1, 1, 0, affine)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.reduce is not None:
            x = self.reduce(x)
        n, _, h, w = x.shape
        # the body vectors and their attention in fp32 (at least) under mixed precision: M small
        # vectors cost nothing, and bf16 dot products would blur the attention
        dtype = torch.promote_types(x.dtype, torch.float32)
        with _full_precision(x.device):
            pool, expand = (m.to(device=x.device, dtype=dtype)
                            for m in stripe_matrices(h, self.parts))
            stripes = torch.matmul(x.to(dtype).mean(dim=3), pool.t()).transpose(1, 2)  # (n, M, C)
            body = self.body(stripes)  # (n, M, D)
            q, k, v = self.query(body), self.key(body), self.value(body)
            attention = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]), dim=-1)
            body = body + attention @ v
            rows = torch.matmul(expand, body)  # (n, H, D)
        enhanced = rows.to(x.dtype).transpose(1, 2).unsqueeze(-1).expand(n, -1, h, w)
        return self.fuse(torch.cat([x, enhanced], dim=1))
