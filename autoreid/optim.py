"""The optimizers of search, training and pre-training: torch's SGD and Adam, without importing
`torch._dynamo`; their lr schedules and warm-up (`schedule`, `warm_up`).

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
import math

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


SCHEDULES = ("step", "exponential", "cosine")


def schedule(opt, kind: str, epochs: int, milestones=(), gamma: float = 0.1,
             warmup_epochs: int = 0) -> torch.optim.lr_scheduler.LRScheduler:
    """The lr's schedule over the epochs, stepped at each epoch's end: `step` (x gamma at each
    milestone), `exponential` (x gamma every epoch) or `cosine` (from the lr down a half cosine
    towards 0, over the epochs after the warm-up). Without a warm-up, step and exponential are
    torch's MultiStepLR and ExponentialLR (the runs made before warm-ups existed, bit for bit);
    with one, every schedule is a closed form of the epoch (LambdaLR), which `warm_up`'s per-step
    lr cannot disturb (the chained forms would carry a ramp's scaled lr into every later epoch)."""
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r} (known: {', '.join(SCHEDULES)})")
    if warmup_epochs == 0 and kind == "step":
        return torch.optim.lr_scheduler.MultiStepLR(opt, list(milestones), gamma)
    if warmup_epochs == 0 and kind == "exponential":
        return torch.optim.lr_scheduler.ExponentialLR(opt, gamma)
    return torch.optim.lr_scheduler.LambdaLR(
        opt, functools.partial(_factor, kind, epochs, tuple(milestones), gamma, warmup_epochs))


def _factor(kind: str, epochs: int, milestones: tuple, gamma: float, warmup: int, epoch: int) -> float:
    """The schedule's lr at `epoch` over the base lr."""
    if kind == "step":
        return gamma ** sum(epoch >= m for m in milestones)
    if kind == "exponential":
        return gamma ** epoch
    done = max(epoch - warmup, 0) / max(epochs - warmup, 1)
    return 0.5 * (1 + math.cos(math.pi * done))


def warm_up(opt, sched, epochs: int, epoch: int, step: int, steps: int) -> None:
    """Within the first `epochs` epochs, the lr of step `step` (of `steps` an epoch) of epoch
    `epoch` is the schedule's times (k + 1) / (epochs x steps), k the steps done: a linear ramp to
    the full lr (Goyal et al. 2017; Luo et al. 2019 for reID). After the ramp (and with `epochs`
    0), the schedule's own lr, untouched. Call it before each step, on a `schedule` made with the
    same warm-up."""
    if epoch >= epochs:
        return
    done = epoch * steps + step
    factor = min(1.0, (done + 1) / (epochs * steps))
    for group, lr in zip(opt.param_groups, sched.get_last_lr()):
        group["lr"] = lr * factor
