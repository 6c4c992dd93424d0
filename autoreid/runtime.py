"""Run-time helpers shared by the long-running stages: device and threads, seeding, the digests of
their inputs, progress with ETA (their checkpoints and stop requests: autoreid.loop)."""
from __future__ import annotations

import hashlib
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from autoreid.devices import SHARE_ENV
from autoreid.errors import UserError


@dataclass(frozen=True)
class RuntimeConfig:
    """Where and how a job runs: the params' top-level device, threads, amp, tf32, compile and
    workers."""
    device: str  # auto | cpu | cuda
    threads: int  # CPU threads for torch (0: torch's default)
    amp: str  # off | bf16 | fp16
    tf32: bool  # fp32 matmuls and convolutions in TF32 on a GPU
    compile: bool  # torch.compile of the search and training steps
    workers: int  # DataLoader worker processes


@dataclass(frozen=True)
class Placement:
    """Where a stage runs once set up: its device, its DataLoader worker processes, the mixed
    precision of the network's passes, the image store it reads (None: decode the files), and
    whether its steps are compiled."""
    device: torch.device
    workers: int
    amp: str
    store: str | None
    compile: bool

    @classmethod
    def cpu(cls, amp: str = "off", compile: bool = False) -> "Placement":
        """The CPU, in the main process, decoding the files."""
        return cls(torch.device("cpu"), 0, amp, None, compile)


def setup(device: str = "auto", threads: int | None = None, seed: int | None = None,
          tf32: bool = True) -> torch.device:
    """The run's device: the CPU, or the first GPU this process sees (`autoreid place` and SLURM
    make that one of its own); under torchrun, rank LOCAL_RANK's own GPU, and `threads` shared
    among the node's ranks. On CUDA, cuDNN autotunes
    its convolution algorithms (the input shape is fixed), fp32 matmuls and convolutions run in
    TF32 or not as `tf32` says (torch's defaults differ: TF32 convolutions, fp32 matmuls), and a
    job that shares its GPU with S - 1 others (`autoreid place --jobs-per-gpu S`) may allocate
    1/S of its memory (beyond that it fails alone, with CUDA's out-of-memory error)."""
    if threads:  # the job's threads, shared by the processes torchrun started on this node
        torch.set_num_threads(max(1, threads // int(os.environ.get("LOCAL_WORLD_SIZE") or 1)))
    if seed is not None:
        torch.manual_seed(seed)
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA device is available (use --device cpu)")
    if device == "cuda":
        rank = int(os.environ.get("LOCAL_RANK", "0"))
        if rank >= torch.cuda.device_count():
            raise UserError(f"rank {rank} has no GPU of its own: this process sees "
                            f"{torch.cuda.device_count()} (run torchrun under `autoreid place "
                            f"--gpus N`, or with --nproc_per_node <= the GPUs)")
        device = f"cuda:{rank}"
        torch.cuda.set_device(rank)
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = tf32
        share = int(os.environ.get(SHARE_ENV) or 1)
        if share > 1:
            torch.cuda.set_per_process_memory_fraction(1 / share, rank)
    return torch.device(device)


def file_digest(path: str | Path | None) -> str | None:
    """The first 16 hex digits of a file's sha256 (None when there is no such file). Runs put the
    digests of their inputs in their config, so a checkpoint is resumed only over the same inputs."""
    if not path or not Path(path).is_file():
        return None
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:16]


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def hms(seconds: float) -> str:
    """h:mm:ss"""
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Progress lines within an epoch, with throughput and ETA, at most every `every` seconds
    (each epoch's own line, when it ends, comes from autoreid.live)."""

    def __init__(self, name: str, epochs: int, start_epoch: int, steps: int, every: float = 10.0):
        self.name, self.epochs, self.steps, self.every = name, epochs, steps, every
        self.start_epoch = start_epoch
        self.t0 = self.last = time.time()
        self.done_steps = 0
        self.images = 0

    def step(self, epoch: int, step: int, images: int, **values: float) -> None:
        self.done_steps += 1
        self.images += images
        now = time.time()
        if now - self.last >= self.every and step + 1 < self.steps:  # epochs end in autoreid.live
            self.last = now
            elapsed = now - self.t0
            remaining = (self.epochs - self.start_epoch) * self.steps - self.done_steps
            eta = elapsed / self.done_steps * remaining
            vals = " ".join(f"{k} {v:.4g}" for k, v in values.items())
            log(f"[{self.name}] epoch {epoch + 1}/{self.epochs} step {step + 1}/{self.steps} {vals}"
                f" | {self.images / max(elapsed, 1e-9):.1f} img/s | elapsed {hms(elapsed)}"
                f" ETA {hms(eta)}")
