"""The scaffold the search (Alg. 1), the retraining and the ImageNet pre-training share around
their steps: a run that is stopped or killed goes on, when the same command is rerun, from its last
checkpoint, to the same result as a run that never stopped (on CPU, bit for bit).

    loop = Loop("train", out, config, epochs, {"model": model, "opt": opt, ...}, fresh=float)
    loop.resume()                     # the checkpoint written for this config, if there is one
    with loop:                        # SIGTERM/SIGUSR1 ask it to stop
        for epoch in loop.epochs_left():
            first, sums = loop.begin(epoch)
            for step, batch in enumerate(batches_from(first), first):
                loss = ...            # the step itself: the loop's own
                sums.add(step, loss=loss)     # on the device: nothing waits for it
                loop.after_step(epoch, step, steps, sums)  # a logging step reads the sums back
            loop.rows.append(row)
            loop.end_epoch(epoch)     # checkpoint, log.csv and live/, the epoch's line
    ...                               # the run's outputs
    loop.finish()                     # log.csv and live/ of every epoch; no checkpoint left

A checkpoint holds the config's hash, the epochs and steps done, the running sums of the epoch in
progress, each stateful object's `state_dict`, torch's random-number states (`rng=True`) and the
lists the run keeps (its rows, a search's alpha history). Each is written whole (autoreid.io) by
rank 0; every rank resumes from it.

Nothing between two logging steps waits for the GPU: an epoch's losses are summed on the device
(`Sums`) and read back every `READ_EVERY` steps and at the epoch's last (the "logging step"). There a
loss that is not finite stops the run, naming the step it first appeared at and the last good
checkpoint (a checkpoint is never written after it). Under torchrun the ranks pool, at every logging
step, whether any of them was asked to stop or saw a non-finite loss: all of them stop at the same
step, the last checkpoint kept.
"""
from __future__ import annotations

import hashlib
import json
import math
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

import torch
import torch.distributed as dist

from autoreid.errors import UserError
from autoreid.io import atomic_path
from autoreid.live import epoch_end
from autoreid.live import save as save_epochs
from autoreid.runtime import log

READ_EVERY = 25  # steps between two read-backs of the losses from the device (and each epoch's last)


def config_hash(config: dict) -> str:
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


def save_checkpoint(path: str | Path, state: dict) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_resumable(path: str | Path, config: dict) -> dict | None:
    """The checkpoint at `path` if it was written for the same config, else None (with a note)."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # noqa: BLE001 — a broken checkpoint is not resumable
        log(f"{path}: unreadable checkpoint, starting afresh")
        return None
    if state.get("config_hash") != config_hash(config):
        log(f"{path}: checkpoint is from a different config, starting afresh")
        return None
    return state


class StopRequest:
    """SIGTERM (what SLURM and most schedulers send before they kill or preempt a job) and SIGUSR1
    (`sbatch --signal=B:USR1@<seconds>`) ask a long run to stop: the loop checks `requested` after
    each step, writes a checkpoint and calls `stop()`, which exits with 128 + the signal's number
    (a failure, so a workflow manager reruns the job, and the rerun resumes)."""

    SIGNALS = (signal.SIGTERM, signal.SIGUSR1)

    def __init__(self, name: str):
        self.name, self.signum, self._old = name, None, {}

    @property
    def requested(self) -> bool:
        return self.signum is not None

    def _handle(self, signum, frame) -> None:
        self.signum = signum
        log(f"[{self.name}] {signal.Signals(signum).name}: stopping after this step with a checkpoint")

    def __enter__(self) -> "StopRequest":
        self._old = {s: signal.signal(s, self._handle) for s in self.SIGNALS}
        return self

    def __exit__(self, *exc) -> None:
        for s, old in self._old.items():
            signal.signal(s, old)

    def stop(self, checkpoint: str | Path, where: str) -> None:
        log(f"[{self.name}] checkpoint {checkpoint} written {where}; "
            "rerun the same command to resume")
        raise SystemExit(128 + self.signum)


@dataclass(frozen=True)
class Ranks:
    """The processes of one run (torchrun's ranks; one by default). Rank 0 logs and writes."""
    rank: int = 0
    world: int = 1
    device: torch.device | None = None

    def any(self, flag: bool) -> bool:
        """True on every rank when any rank has it (so all ranks stop at the same step)."""
        if self.world == 1:
            return flag
        t = torch.tensor([int(flag)], device=self.device)
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
        return bool(t.item())

    def barrier(self) -> None:
        if self.world > 1:
            dist.barrier()


class Sums:
    """An epoch's running sums (its losses; a count), kept on the run's device in float64: adding a
    step's values does not wait for the GPU. Beside them, the first step at which a sum stopped being
    finite, and the sums then. `read()` brings them to the host (a logging step, a checkpoint)."""

    def __init__(self, start: dict[str, float], device: torch.device | None = None):
        self.host = {key: float(value) for key, value in start.items()}  # as last read
        self.recent: dict[str, float] = {}  # each loss's mean over the steps between the last two reads
        self.totals = {key: torch.full((), value, dtype=torch.float64, device=device)
                       for key, value in self.host.items()}
        self.bad_step = torch.full((), -1, dtype=torch.int64, device=device)
        self.bad = torch.zeros(len(start), dtype=torch.float64, device=device)
        self.steps = 0  # steps added since the last read
        self.bad_values: dict[str, float] = {}  # the sums at the first step they were not finite

    def add(self, step: int, **values) -> None:
        """One step's values: 0-dim tensors on the device, or numbers."""
        for key, value in values.items():
            self.totals[key] += value
        totals = torch.stack(list(self.totals.values()))
        first = (self.bad_step < 0) & ~torch.isfinite(totals).all()
        self.bad_step = torch.where(first, step, self.bad_step)
        self.bad = torch.where(first, totals, self.bad)
        self.steps += 1

    def read(self) -> int | None:
        """Bring the sums to the host (one transfer); the first step whose sums were not finite, or
        None."""
        values = torch.cat([torch.stack(list(self.totals.values())), self.bad,
                            self.bad_step.double()[None]]).tolist()
        n = len(self.totals)
        before, self.host = self.host, dict(zip(self.totals, values[:n]))
        self.recent = {key: (self.host[key] - before[key]) / max(self.steps, 1) for key in self.host}
        self.steps, bad_step = 0, int(values[-1])
        self.bad_values = dict(zip(self.totals, values[n:2 * n]))
        return None if bad_step < 0 else bad_step

    def __getitem__(self, key: str) -> float:
        return self.host[key]


class Loop:
    """The epochs of one run around its steps, in `out`.

    `name`: the stage in log lines and errors (search, train, pretrain); `config`: what a checkpoint
    must have been written for to be resumed; `objects`: what the checkpoint holds the `state_dict`
    of, by key (a key it lacks restores an empty state: a GradScaler that was not used); `fresh`:
    the running sums of an epoch before its first step, which the checkpoint holds under `sums`
    (after an epoch: fresh ones); `label`: the stage in the epoch lines (default: `name`); `kept`:
    the lists the run appends to (`rows` among them), saved and restored as they are; `extra`: more
    values the checkpoint holds, not restored; `rng`: whether torch's random-number state is saved
    and restored (the CPU's, and that of `ranks.device` where it is a GPU; a single process's);
    `ranks`: the processes of the run (and their device); `reports`: what to call at every logging
    step (the precision's count of skipped steps)."""

    def __init__(self, name: str, out: Path, config: dict, epochs: int, objects: dict[str, Any], *,
                 fresh: Callable[[], Any], sums: str = "sums", label: str | None = None,
                 kept: tuple[str, ...] = ("rows",), extra: dict | None = None, rng: bool = True,
                 ranks: Ranks = Ranks(), reports: tuple[Callable[[], None], ...] = (),
                 read_every: int = READ_EVERY):
        self.name, self.label, self.out = name, label or name, Path(out)
        self.path = self.out / "checkpoint.pt"
        self.config, self.epochs, self.objects = config, epochs, objects
        self.sums_key, self.fresh, self.extra, self.rng, self.ranks = sums, fresh, extra or {}, rng, ranks
        self.kept: dict[str, list] = {key: [] for key in kept}
        self.start, self.skip, self.sums = 0, 0, None
        self.started, self.stop = 0.0, StopRequest(name)
        self.reports, self.read_every = reports, read_every

    @property
    def rows(self) -> list[dict]:
        """One row per epoch done: log.csv's lines."""
        return self.kept["rows"]

    def resume(self) -> dict | None:
        """Restore the objects, torch's random-number state, the epochs and steps done and the kept
        lists from the checkpoint written for this config; the checkpoint's contents, or None."""
        state = load_resumable(self.path, self.config)
        if state is None:
            return None
        for key, obj in self.objects.items():
            obj.load_state_dict(state.get(key, {}))
        if self.rng:
            self._set_rng_state(state)
        self.start, self.skip, self.sums = state["epoch"], state.get("step", 0), state.get(self.sums_key)
        self.kept = {key: state[key] for key in self.kept}
        if self.ranks.rank == 0:
            log(f"[{self.name}] resuming from {self.path} at epoch {self.start + 1} step {self.skip + 1}")
        return state

    def checkpoint(self, epoch: int, step: int, sums: Any) -> None:
        """`epoch` epochs and `step` steps of the next one done; `sums`: its running sums."""
        if self.ranks.rank:
            return
        state = {"config_hash": config_hash(self.config), "epoch": epoch, "step": step,
                 self.sums_key: sums, **self.extra,
                 **{key: obj.state_dict() for key, obj in self.objects.items()}}
        if self.rng:
            state.update(self._rng_state())
        save_checkpoint(self.path, {**state, **self.kept})

    def _cuda(self) -> torch.device | None:
        device = self.ranks.device
        return device if device is not None and device.type == "cuda" else None

    def _rng_state(self) -> dict:
        """torch's random-number state: the CPU generator's and, on a GPU, the run's CUDA device's
        (dropout on a GPU draws from it)."""
        cuda = self._cuda()
        return {"rng": torch.get_rng_state(),
                **({"cuda_rng": torch.cuda.get_rng_state(cuda)} if cuda else {})}

    def _set_rng_state(self, state: dict) -> None:
        torch.set_rng_state(state["rng"])
        cuda = self._cuda()
        if cuda and "cuda_rng" in state:
            torch.cuda.set_rng_state(state["cuda_rng"], cuda)
        elif cuda or "cuda_rng" in state:  # a run moved between the CPU and a GPU
            log(f"[{self.name}] the checkpoint was written on "
                f"{'a GPU' if 'cuda_rng' in state else 'the CPU'}: the GPU's random stream starts afresh")

    def __enter__(self) -> Loop:
        self.started = time.time()
        self.stop.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.__exit__(*exc)

    def epochs_left(self) -> Iterator[int]:
        return iter(range(self.start, self.epochs))

    def begin(self, epoch: int) -> tuple[int, Sums]:
        """The epoch's first step and its running sums on the run's device: where a resumed epoch
        stopped, else 0 and fresh ones."""
        resumed = epoch == self.start
        first = self.skip if resumed else 0
        start = self.sums if resumed and self.sums is not None else self.fresh()
        return first, Sums(start, self.ranks.device)

    def logging_step(self, step: int, steps: int) -> bool:
        """Whether the sums are read back after `step` (of `steps`): every `read_every` and the last."""
        return (step + 1) % self.read_every == 0 or step + 1 == steps

    def after_step(self, epoch: int, step: int, steps: int, sums: Sums) -> None:
        """At a logging step: read the sums back, stop every rank if any saw a non-finite loss, and
        call the reports. Then, if a rank was asked to stop and the epoch has steps left: a
        checkpoint, and exit. One process checks its stop request after every step; several pool
        theirs at the logging steps."""
        logging = self.logging_step(step, steps)
        stop = self.stop.requested if self.ranks.world == 1 else (
            logging and self.ranks.any(self.stop.requested))
        if logging or stop:
            self.check_finite(epoch, sums)
            for report in self.reports:
                report()
        if stop and step + 1 < steps:
            self.checkpoint(epoch, step + 1, sums.host)
            self.stop.stop(self.path, f"at epoch {epoch + 1} step {step + 1}")

    def check_finite(self, epoch: int, sums: Sums) -> None:
        """Read the sums back; stop every rank when any rank's became NaN or infinite, naming the
        step it happened at and the last good checkpoint."""
        bad_step = sums.read()
        if self.ranks.any(bad_step is not None):
            last = self.path if self.path.exists() else "none"
            if bad_step is None:
                raise UserError(f"{self.name}: another rank's loss stopped being finite in epoch "
                                f"{epoch + 1}; stopping every rank; last good checkpoint: {last}")
            bad = "/".join(f"{value}" for value in sums.bad_values.values() if not math.isfinite(value))
            where = f" on rank {self.ranks.rank}" if self.ranks.world > 1 else ""
            raise UserError(f"{self.name}: loss became {bad}{where} at epoch {epoch + 1} step "
                            f"{bad_step + 1}; last good checkpoint: {last}")

    def end_epoch(self, epoch: int) -> None:
        """The epoch, whose row is the last, is done: a checkpoint, log.csv and live/ and the
        epoch's line (rank 0); then, if a rank was asked to stop and epochs are left, exit."""
        self.checkpoint(epoch + 1, 0, self.fresh())
        if self.ranks.rank == 0:
            epoch_end(self.out, self.label, self.rows, self.epochs, self.started, self.start)
        self.ranks.barrier()
        if self.ranks.any(self.stop.requested) and epoch + 1 < self.epochs:
            self.stop.stop(self.path, f"after epoch {epoch + 1}")

    def finish(self) -> None:
        """After the run's outputs: log.csv and live/ of every epoch, and no checkpoint left to
        resume (rank 0)."""
        if self.ranks.rank == 0:
            save_epochs(self.out, self.rows)
            self.path.unlink(missing_ok=True)
