"""The optimizers of search, training and pre-training: torch's SGD and Adam, without importing
`torch._dynamo`.

torch.optim runs every `step` inside a wrapper that imports `torch._dynamo` to place a graph break
for `torch.compile`, and wraps `add_param_group`, `zero_grad`, `state_dict` and `load_state_dict` in
`torch._disable_dynamo`, which imports it on their first call. That import is a noticeable part of
the start-up of every search, training and pre-training job, and nothing in autoreid is compiled.
So our two subclasses run the functions those wrappers wrap (`inspect.unwrap`, through the
`__wrapped__` that functools.wraps leaves): the step is torch's own update under `no_grad` (what the
wrapper does for an optimizer that is not `differentiable`), and the four methods are torch's,
unwrapped. torch itself is left as it is. The arithmetic is torch's, unchanged (tests/train/test_optim.py
compares the two step by step).
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


class _Unwrapped:
    """torch.optim.Optimizer's methods that `torch._disable_dynamo` wraps, without the wrapper."""

    add_param_group = inspect.unwrap(torch.optim.Optimizer.add_param_group)
    zero_grad = inspect.unwrap(torch.optim.Optimizer.zero_grad)
    state_dict = inspect.unwrap(torch.optim.Optimizer.state_dict)
    load_state_dict = inspect.unwrap(torch.optim.Optimizer.load_state_dict)


class SGD(_Unwrapped, torch.optim.SGD):
    step = _plain_step(torch.optim.SGD.step)


class Adam(_Unwrapped, torch.optim.Adam):
    step = _plain_step(torch.optim.Adam.step)
