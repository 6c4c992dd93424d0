"""Mixed precision (`amp: bf16 | fp16 | off` in the params; `--amp` on the command line).

The convolutions run under autocast in bf16 or fp16; the weights, the architecture weights alpha,
the optimizer states, the losses (`objective_loss` casts its inputs to fp32) and the features
written for evaluation stay fp32. fp16 scales the loss (a gradient scaler, one per run: the search's
omega and alpha steps share it). A step whose gradients are not finite is skipped without the host
waiting for the GPU: one check, on the gradients' norm (the one clipping computes), handed to the
optimizer's fused kernel (autoreid.optim), which leaves the weights and its state as they were; the
count of skipped steps is read back at the logging steps (`report`). bf16 on a CUDA device without
bf16 tensor cores (compute capability below 8.0: the V100 and T4, where torch emulates bf16 slowly)
falls back to fp16; on the CPU, bf16 autocast works (the tests run it there) and fp16 is refused.
"""
from __future__ import annotations

import contextlib

import torch

from autoreid.errors import UserError

MODES = ("off", "bf16", "fp16")


def has_bf16(device: torch.device) -> bool:
    """Whether a CUDA device computes in bf16 natively (Ampere, compute capability 8.0, and later).
    Not `torch.cuda.is_bf16_supported()`, which also counts emulation and says yes on a V100."""
    return torch.cuda.get_device_capability(device) >= (8, 0)


class Precision:
    def __init__(self, mode: str, device: torch.device, log=None):
        if mode not in MODES:
            raise UserError(f"amp: must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "bf16" and device.type == "cuda" and not has_bf16(device):
            if log:
                log(f"[amp] {torch.cuda.get_device_name(device)} has no bf16 tensor cores: using fp16")
            mode = "fp16"
        if mode == "fp16" and device.type != "cuda":
            raise UserError(f"amp: fp16 needs a CUDA device, this run is on {device.type} "
                            "(use bf16 or off)")
        self.mode, self.device, self.log = mode, device, log
        self.skips: torch.Tensor | None = None  # steps skipped so far, on the device
        self.reported = 0
        self.dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(mode)
        self.scaler = torch.amp.GradScaler("cuda") if mode == "fp16" else None

    def autocast(self):
        """The forward passes' context: autocast to the run's dtype (nothing when off)."""
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.dtype)

    def backward(self, loss: torch.Tensor, inputs=None) -> None:
        (self.scaler.scale(loss) if self.scaler else loss).backward(inputs=inputs)

    def step(self, opt: torch.optim.Optimizer, clip_params=None, clip: float = 0.0) -> None:
        """Unscale (fp16), clip the gradient norm of `clip_params` to `clip` (when > 0), step.
        Under mixed precision a step whose gradients are not finite is skipped, as the fp16
        scaler does (bf16 too: one bad step would otherwise turn every weight into NaN)."""
        if self.scaler:
            self.scaler.unscale_(opt)
        norm = torch.nn.utils.clip_grad_norm_(clip_params, clip) if clip > 0 else None
        if self.scaler:
            self.scaler.step(opt)  # fused optimizers: the scaler's found_inf goes to the kernel
        elif self.dtype is not None:
            self._guarded_step(opt, norm)
        else:
            opt.step()

    def _guarded_step(self, opt: torch.optim.Optimizer, norm: torch.Tensor | None) -> None:
        """A step unless the gradients' norm is not finite: on the device for a fused optimizer
        (its kernel reads `found_inf`), else asked of the host."""
        if norm is None:
            norm = torch.nn.utils.get_total_norm(
                [p.grad for group in opt.param_groups for p in group["params"] if p.grad is not None])
        found_inf = (~torch.isfinite(norm)).float()
        self.skips = found_inf if self.skips is None else self.skips + found_inf
        if opt.defaults.get("fused"):
            opt.found_inf = found_inf
            try:
                opt.step()
            finally:
                del opt.found_inf
        elif not found_inf:
            opt.step()

    @property
    def skipped(self) -> int:
        """Steps skipped so far for non-finite gradients (a read from the device)."""
        return 0 if self.skips is None else int(self.skips.item())

    def report(self) -> None:
        """At a logging step: log the steps skipped since the last report."""
        skipped = self.skipped
        if skipped > self.reported and self.log:
            self.log(f"[amp] non-finite gradients: {skipped - self.reported} step(s) skipped "
                     f"({skipped} so far)")
        self.reported = skipped

    def update(self) -> None:
        """After the iteration's last step: the fp16 scaler adapts its scale."""
        if self.scaler:
            self.scaler.update()

    def state_dict(self) -> dict:
        return self.scaler.state_dict() if self.scaler else {}

    def load_state_dict(self, state: dict) -> None:
        if self.scaler and state:
            self.scaler.load_state_dict(state)


OFF = Precision("off", torch.device("cpu"))
