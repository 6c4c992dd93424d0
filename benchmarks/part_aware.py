"""Part-aware module variants, counted: the module alone against sep_conv_3x3 (same C, same stride)
and the released Auto-ReID network (BASELINE_REID_SEARCH_SPACE, C=64, l=[2,2,2,2], 384x128,
751 classes) built with each variant. A Markdown table; docs/part_aware.md explains the choice.

    python benchmarks/part_aware.py        # a few seconds, CPU (shapes only, on the meta device)

Every variant splits its input into M=4 stripes, forms M body vectors, lets them attend to each
other, repeats them back over the stripes and fuses them with the input by a 1x1 conv, as the
paper's text and Fig. 2 say. They differ where the text is silent: the body vectors' width d*C,
whether the attention has query/key/value projections, one linear layer or one per stripe,
where the stride of a reduction cell applies, and at which resolution the linear layer runs.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from autoreid.models.build import arch_spec
from autoreid.complexity import count as count_network
from autoreid.space import ops
from autoreid.space.ops import ReLUConvBN
from autoreid.space.part_aware import PartAware, stripe_matrices

PAPER = (13.1, 2.05)


class Variant(nn.Module):
    """The module with its silent choices as arguments (`chosen` is autoreid's PartAware)."""

    def __init__(self, C, stride, d=1.0, qkv=True, per_stripe=False, stride_after_fusion=False,
                 parts=4):
        super().__init__()
        D = max(1, round(C * d))
        self.parts, self.qkv, self.after = parts, qkv, stride_after_fusion
        self.body = nn.ModuleList(nn.Linear(C, D) for _ in range(parts if per_stripe else 1))
        if qkv:
            self.q, self.k, self.v = (nn.Linear(D, D, bias=False) for _ in range(3))
        self.pool = nn.AvgPool2d(3, 2, 1, count_include_pad=False) if stride == 2 else None
        self.fuse = ReLUConvBN(C + D, C, 1, 1, 0)

    def forward(self, x):
        if self.pool is not None and not self.after:
            x = self.pool(x)
        n, _, h, w = x.shape
        pool, expand = (m.to(x.device) for m in stripe_matrices(h, self.parts))
        stripes = torch.matmul(x.mean(3), pool.t()).transpose(1, 2)
        if len(self.body) == 1:
            body = self.body[0](stripes)
        else:
            body = torch.stack([f(stripes[:, i]) for i, f in enumerate(self.body)], 1)
        q, k, v = (self.q(body), self.k(body), self.v(body)) if self.qkv else (body,) * 3
        body = body + torch.softmax(q @ k.transpose(1, 2) / math.sqrt(q.shape[-1]), -1) @ v
        enhanced = torch.matmul(expand, body).transpose(1, 2).unsqueeze(-1).expand(n, -1, h, w)
        y = self.fuse(torch.cat([x, enhanced], 1))
        return self.pool(y) if self.pool is not None and self.after else y


VARIANTS = {
    "previous: d=1, q/k/v, pool then split": dict(),
    "d=1, no q/k/v projections": dict(qkv=False),
    "d=1/2, q/k/v": dict(d=0.5),
    "d=1, q/k/v, fusion at full resolution, then pool": dict(stride_after_fusion=True),
    "d=3/4, a linear per stripe, fusion at full resolution, then pool":
        dict(d=0.75, per_stripe=True, stride_after_fusion=True),
    "chosen: d=1, q/k/v, linear at every position of the full-resolution input": None,
}


def count(module: nn.Module, C: int, h: int, w: int) -> tuple[int, float]:
    params = sum(p.numel() for p in module.parameters())
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, C, h, w, device="meta"))
    return params, counter.get_total_flops() / 2


def factory(kwargs):
    if kwargs is None:
        return lambda C, stride, affine: PartAware(C, stride, affine)
    return lambda C, stride, affine: Variant(C, stride, **kwargs)


def network(make) -> tuple[float, float]:
    saved = ops.OPS["part_aware"]
    ops.OPS["part_aware"] = make
    try:
        r = count_network(arch_spec("BASELINE_REID_SEARCH_SPACE", 751, 64, (2, 2, 2, 2)), 384, 128)
    finally:
        ops.OPS["part_aware"] = saved
    return r["params_M"], r["flops_G"]


def main() -> None:
    # where the released cell uses the module: reduction cells, stride 2; C=128 at 96x32 is the first
    C, h, w = 128, 96, 32
    with torch.device("meta"):
        sep = count(ops.build_op("sep_conv_3x3", C, 2), C, h, w)
        sep1 = count(ops.build_op("sep_conv_3x3", 64, 1), 64, 96, 32)
    print(f"Module alone: C={C}, stride 2, {h}x{w} input (sep_conv_3x3: {sep[0] / 1e3:.1f} k "
          f"params, {sep[1] / 1e6:.2f} M multiply-adds); ratios at C=64, stride 1, 96x32 in brackets.")
    print(f"Network: BASELINE_REID_SEARCH_SPACE, C=64, l=[2,2,2,2], 384x128, 751 classes "
          f"(paper: {PAPER[0]} M, {PAPER[1]} G); 'none' in place of the module: "
          f"{network(lambda C, stride, affine: ops.Zero(stride))}.\n")
    print("| variant | module params (x sep_conv) | module mult-adds (x sep_conv) "
          "| network params (M) | network mult-adds (G) | within 5% of both |")
    print("|---|---|---|---|---|---|")
    for name, kwargs in VARIANTS.items():
        make = factory(kwargs)
        with torch.device("meta"):
            p, f = count(make(C, 2, True), C, h, w)
            p1, f1 = count(make(64, 1, True), 64, 96, 32)
        P, F = network(make)
        ok = abs(P / PAPER[0] - 1) <= 0.05 and abs(F / PAPER[1] - 1) <= 0.05
        print(f"| {name} | {p / 1e3:.1f} k ({p / sep[0]:.1f}x) [{p1 / sep1[0]:.1f}x] "
              f"| {f / 1e6:.2f} M ({f / sep[1]:.1f}x) [{f1 / sep1[1]:.1f}x] "
              f"| {P:.2f} | {F:.2f} | {'yes' if ok else 'no'} |")


if __name__ == "__main__":
    main()
