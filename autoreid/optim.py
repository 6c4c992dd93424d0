"""The optimizers of search, training and pre-training: torch's SGD and Adam, without importing
`torch._dynamo`.

torch.optim runs every `step` inside a wrapper that imports `torch._dynamo` to place a graph break
for `torch.compile`, and wraps `add_param_group`, `zero_grad`, `state_dict` and `load_state_dict` in
`torch._disable_dynamo`, which imports it on their first call. That import is a noticeable part of
the start-up of every search, training and pre-training job, and nothing in autoreid is compiled.
So our two subclasses run the functions those wrappers wrap (`inspect.unwrap`, through the
`__wrapped__` that functools.wraps leaves): the step is torch's own update under `no_grad` (what the
wrapper does for an optimizer that is not `differentiable`), and the four methods are torch's,
unwrapped. torch itself is left as it is.

Both run torch's fused kernels (`fused=True`) where the weights live on the CPU or a GPU: one kernel
per device and dtype instead of one per weight, Adam's step count kept on the device (the other
implementations read it back to the host every step), and a `found_inf` flag that skips a step on
the device (autoreid.amp). SGD's fused update is torch's default one bit for bit; Adam's differs from
it in the last bits (tests/train/test_optim.py compares them step by step). SGD's momentum buffers
start at zero before the first step: the fused kernel skipping a first step (`found_inf`) would
otherwise leave them uninitialised, and with no dampening the first update is the same.
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


FUSED_DEVICES = ("cpu", "cuda")


def _fusable(params: list) -> bool:
    tensors = [p for item in params for p in (item["params"] if isinstance(item, dict) else [item])]
    return all(p.device.type in FUSED_DEVICES and p.is_floating_point() for p in tensors)


class SGD(_Unwrapped, torch.optim.SGD):
    _update = _plain_step(torch.optim.SGD.step)

    def __init__(self, params, lr: float, **kwargs):
        params = list(params)
        super().__init__(params, lr, fused=_fusable(params), **kwargs)

    def step(self, closure=None):
        for group in self.param_groups:
            if group["momentum"] and not group["dampening"]:
                for p in group["params"]:
                    if p.grad is not None and self.state[p].get("momentum_buffer") is None:
                        self.state[p]["momentum_buffer"] = torch.zeros_like(p)
        return self._update(closure)


class Adam(_Unwrapped, torch.optim.Adam):
    step = _plain_step(torch.optim.Adam.step)

    def __init__(self, params, lr: float, **kwargs):
        params = list(params)
        super().__init__(params, lr, fused=_fusable(params), **kwargs)
