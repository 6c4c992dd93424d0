"""The optimizers of search, training and pre-training: torch's SGD and Adam, without the start-up
cost of `torch._dynamo`.

torch.optim runs every `step` inside a wrapper that imports `torch._dynamo` to place a graph break
for `torch.compile`, and wraps `add_param_group`, `zero_grad`, `state_dict` and `load_state_dict` in
`torch._disable_dynamo`, which imports it on the first call. That import is ~2 s of every search,
training and pre-training job's start-up on a 2-core CPU. Nothing in autoreid is compiled, so here
the step is torch's own update run under `no_grad` (what the wrapper does for an optimizer that is
not `differentiable`), and the four methods are marked as already excluded from compilation. The
arithmetic is torch's, unchanged (tests/test_optim.py compares the two step by step).
"""
from __future__ import annotations

import functools
import inspect

import torch


def _plain_step(step):
    update = inspect.unwrap(step)

    @functools.wraps(update)
    def plain(self, closure=None):
        with torch.no_grad():
            return update(self, closure)

    return plain


def _mark_excluded() -> None:
    """torch._disable_dynamo's wrapper looks for `fn.__dynamo_disable` before it imports dynamo;
    give each wrapped method of torch.optim.Optimizer itself there."""
    wrapper = torch._disable_dynamo(lambda: None).__code__
    for method in vars(torch.optim.Optimizer).values():
        if getattr(method, "__code__", None) is wrapper:
            setattr(method.__wrapped__, "__dynamo_disable", method.__wrapped__)


_mark_excluded()


class SGD(torch.optim.SGD):
    step = _plain_step(torch.optim.SGD.step)


class Adam(torch.optim.Adam):
    step = _plain_step(torch.optim.Adam.step)
