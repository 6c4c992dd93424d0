"""Model complexity the way the paper counts it (Tables 1, 3, 4): parameters of backbone + reID head
(embedding and the identity classifier) in millions, and multiply-adds of one forward pass at the
given input size in billions ("FLOPs (G)" in the paper): the multiply-adds of convolutions, linear
layers and matrix products; pooling, normalisation and activations are not counted. They are
counted by forward hooks on the layers that do them (the part-aware op's and the PCB head's matrix
products by their shapes), on the meta device: the same count as PyTorch's FLOP counter
(torch.utils.flop_counter, halved; tests/models/test_complexity.py holds them equal on every op
and head), without its dispatch mode, whose first use imports torch._dynamo (a second more for
each training that writes its model card)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from autoreid.models.build import ArchSpec, build
from autoreid.models.head import PCBHead
from autoreid.space.part_aware import PartAware


@dataclass(frozen=True)
class ComplexityConfig:
    """The network size at which Params and FLOPs are counted (the paper's: C=64, l=2222)."""
    C: int
    layers: tuple[int, ...]
    height: int
    width: int
    num_classes: int


def count(spec: ArchSpec, height: int, width: int) -> dict:
    with torch.device("meta"):
        model = build(spec).eval()
        params = sum(p.numel() for p in model.parameters())
        head = sum(p.numel() for p in model.head.parameters())
        macs = multiply_adds(model, height, width)
    return {"name": spec.name, "params_M": round(params / 1e6, 3),
            "head_params_M": round(head / 1e6, 3), "head": spec.head,
            "flops_G": round(macs / 1e9, 3),
            "input": [height, width], "C": spec.C, "layers": list(spec.layers),
            "num_classes": spec.num_classes}


def multiply_adds(model: nn.Module, height: int, width: int) -> int:
    """Multiply-adds of one forward pass of one image (on the model's device: meta costs nothing)."""
    total = 0

    def conv(m, inputs, out):
        nonlocal total
        total += out.numel() * m.weight[0].numel()  # each output: C_in/groups x k x k

    def linear(m, inputs, out):
        nonlocal total
        total += out.numel() * m.in_features

    def part_aware(m, inputs, out):  # rows -> stripes, attention (q.k, a.v), stripes -> rows
        nonlocal total
        n, c, h, _ = inputs[0].shape
        total += n * c * m.parts * (h + 2 * m.parts + out.shape[2])

    def pcb(m, inputs, out):  # the stripe average: a product over rows, the columns summed first
        nonlocal total
        n, c, h, _ = inputs[0].shape
        total += n * c * h * m.parts

    hooks = {nn.Conv2d: conv, nn.Linear: linear, PartAware: part_aware, PCBHead: pcb}
    handles = [m.register_forward_hook(hook) for m in model.modules()
               for kind, hook in hooks.items() if isinstance(m, kind)]
    try:
        with torch.no_grad():
            model(torch.zeros(1, 3, height, width, device=next(model.parameters()).device))
    finally:
        for h in handles:
            h.remove()
    return total


def complexity(archs: list[str], names: list[str | None], heads: list[str], cfg: ComplexityConfig,
               out_dir: str | Path | None) -> list[dict]:
    """Complexity's one entry: every architecture under every head (one start-up for a table's
    networks); each result -> `out_dir`/<name>-<head>.json when a folder is given."""
    from autoreid.io import write_json
    from autoreid.models.build import arch_spec

    results = []
    for arch, name in zip(archs, names):
        for head in heads:
            spec = arch_spec(arch, cfg.num_classes, cfg.C, cfg.layers, name=name, head=head)
            result = count(spec, cfg.height, cfg.width)
            if out_dir is not None:
                write_json(Path(out_dir) / f"{result['name']}-{head}.json", result)
            results.append(result)
    return results
