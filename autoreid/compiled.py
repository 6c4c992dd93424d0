"""`compile: on` in the params: the network of a search or a training step compiled by torch.compile.

Eager, one first-order search iteration of the paper's supernet dispatches ~55k kernels for about
half a millisecond of arithmetic on an H200: the step is bound by dispatch, not by the GPU.
Compiled, inductor fuses the elementwise ops between convolutions into far fewer kernels (forward
and, through AOTAutograd, backward), and on a GPU CUDA graphs (mode "reduce-overhead") launch a
whole pass at once. Both need a step that never waits for the host and has no data-dependent
shape (autoreid.loop, the triplet loss, the cached stripe matrices): the graph is captured whole
(`fullgraph=True` fails loudly on a break).

What is compiled is a twin of the network that shares its weights: the step calls the twin, while
validation and feature extraction (other batch sizes, eval mode) call the network eagerly and do not
recompile. The optimizers' fused kernels stay as they are. Batches have one shape (P x K), so one
graph per precision (`dynamic=False`). The first steps compile: minutes on a GPU, longer on a CPU,
where inductor writes C++ (compile is meant for GPUs; the tiny profile leaves it off).
"""
from __future__ import annotations

import torch
from torch import nn


BACKEND = "inductor"  # torch.compile's backend (the tests capture with "aot_eager": no C++ to build)


def compiled(model: nn.Module, device: torch.device, enabled: bool) -> nn.Module:
    """`model` itself when `enabled` is false; else its compiled twin (the same weights and
    submodules: `twin.backbone` is `model.backbone`)."""
    if not enabled:
        return model
    mode = "reduce-overhead" if device.type == "cuda" and BACKEND == "inductor" else None
    return torch.compile(model, backend=BACKEND, mode=mode, fullgraph=True, dynamic=False)
