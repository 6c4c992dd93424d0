"""Model complexity the way the paper counts it (Tables 1, 3, 4): parameters of backbone + reID head
(embedding and the identity classifier) in millions, and multiply-adds of one forward pass at the
given input size in billions ("FLOPs (G)" in the paper). Multiply-adds come from PyTorch's own
FLOP counter (torch.utils.flop_counter), which counts 2 FLOPs per multiply-add of convolutions,
linear layers and matrix products; pooling, normalisation and activations are not counted."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch.utils.flop_counter import FlopCounterMode

from autoreid.models.build import ArchSpec, build


@dataclass(frozen=True)
class ComplexityConfig:
    """The network size at which Params and FLOPs are counted (the paper's: C=64, l=2222)."""
    C: int
    layers: tuple[int, ...]
    height: int
    width: int
    num_classes: int


def count(spec: ArchSpec, height: int, width: int, digits: int = 3) -> dict:
    with torch.device("meta"):
        model = build(spec).eval()
        params = sum(p.numel() for p in model.parameters())
        head = sum(p.numel() for p in model.head.parameters())
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            model(torch.zeros(1, 3, height, width))
    return {"name": spec.name, "params_M": round(params / 1e6, digits),
            "head_params_M": round(head / 1e6, digits), "head": spec.head,
            "flops_G": round(counter.get_total_flops() / 2e9, digits),
            "input": [height, width], "C": spec.C, "layers": list(spec.layers),
            "num_classes": spec.num_classes}


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
