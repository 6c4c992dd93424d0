"""GPU placement: every GPU job runs on a device of its own, or on a share of one.

`autoreid place --gpus N -- COMMAND ...` takes N free devices among those this machine exposes
(CUDA_VISIBLE_DEVICES when it is set, else every NVIDIA GPU), sets CUDA_VISIBLE_DEVICES to them
and becomes COMMAND (exec: same process, same signals). With `--jobs-per-gpu S` (the params'
jobs_per_gpu) a device has S slots: a job of one GPU takes one slot (up to S jobs share a device;
each job's CUDA memory is capped at 1/S of it, so that one job's excess fails that job, not its
neighbours), a job of several GPUs (torchrun's ranks) takes whole devices, every slot of each.
A slot is taken by an exclusive `flock` on its file in the lock folder (AUTOREID_GPU_LOCKS,
default /tmp/autoreid-gpu-locks); the lock files stay open in COMMAND and in its children, and the
kernel releases a lock when the last process holding it ends: on exit, on a crash, on SIGKILL. A
job that finds too few free slots waits for them, holding none meanwhile (no deadlock between
jobs). The jobs of one machine should agree on S (the lock files do not record it).

Inside a SLURM job the allocation is used as it is: SLURM has already given the job its devices.
With no GPU at all, COMMAND runs as it is (on the CPU, with `--device auto`).

This module does not import torch, so `place` starts at once.
"""
from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import time
from pathlib import Path

from autoreid.errors import UserError

LOCKS_ENV = "AUTOREID_GPU_LOCKS"
PLACED_ENV = "AUTOREID_PLACED"   # how the devices were chosen: locks | slurm (set for COMMAND)
SHARE_ENV = "AUTOREID_JOBS_PER_GPU"  # set for COMMAND where it shares its device with others
DEFAULT_LOCKS = "/tmp/autoreid-gpu-locks"
POLL_SECONDS = 1.0


def visible_devices() -> list[str]:
    """The devices a job may use: the entries of CUDA_VISIBLE_DEVICES when it is set (indices or
    UUIDs; empty: none), else 0..n-1 for the n NVIDIA GPUs of this machine."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [d.strip() for d in env.split(",") if d.strip()]
    return [str(i) for i in range(_gpu_count())]


def _gpu_count() -> int:
    proc = Path("/proc/driver/nvidia/gpus")
    if proc.is_dir():
        return sum(1 for _ in proc.iterdir())
    try:
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(line.startswith("GPU ") for line in out.stdout.splitlines())


def in_slurm_job() -> bool:
    return "SLURM_JOB_ID" in os.environ


def lock_folder() -> Path:
    folder = Path(os.environ.get(LOCKS_ENV) or DEFAULT_LOCKS)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if str(folder) == DEFAULT_LOCKS:
            os.chmod(folder, 0o1777)  # one folder for every user of the machine, like /tmp
    except PermissionError:
        pass
    except OSError as e:
        raise UserError(f"{LOCKS_ENV}={folder}: cannot create the GPU lock folder ({e.strerror})")
    return folder


def _try_lock(folder: Path, device: str, slot: int = 0) -> int | None:
    """An open descriptor holding the lock of `device`'s `slot`, or None when another job holds it."""
    path = folder / f"{socket.gethostname()}-gpu-{device}{f'.{slot}' if slot else ''}.lock"
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for a person looking
    return fd


def _shares(n: int, slots: int) -> bool:
    """Whether a job of n GPUs takes one slot of a device shared by `slots` jobs (else whole ones)."""
    return n == 1 and slots > 1


def _whole(folder: Path, device: str, slots: int) -> list[int] | None:
    """Descriptors holding every slot of `device`, or None (holding nothing) when one is taken."""
    fds = []
    for slot in range(slots):
        fd = _try_lock(folder, device, slot)
        if fd is None:
            for held in fds:
                os.close(held)
            return None
        fds.append(fd)
    return fds


def _take(folder: Path, devices: list[str], n: int, slots: int) -> tuple[list[str], list[int]] | None:
    """One free slot (n == 1 and slots > 1: the first slot free on any device, slot by slot, so
    that jobs spread over the devices before they share one), else n whole devices; or None."""
    if _shares(n, slots):
        for slot in range(slots):
            for device in devices:
                fd = _try_lock(folder, device, slot)
                if fd is not None:
                    return [device], [fd]
        return None
    held: list[tuple[str, list[int]]] = []
    for device in devices:
        fds = _whole(folder, device, slots)
        if fds is not None:
            held.append((device, fds))
            if len(held) == n:
                return [d for d, _ in held], [fd for _, fds in held for fd in fds]
    for _, fds in held:  # too few: hold none while waiting
        for fd in fds:
            os.close(fd)
    return None


def claim(n: int, log=None, slots: int = 1) -> tuple[list[str], list[int]]:
    """Wait until n of the visible devices (or, n == 1 with `slots` > 1 jobs a device, one slot of
    one) are free; return them and the descriptors holding them (close the descriptors, or end the
    process, to free them)."""
    devices = visible_devices()
    if n > len(devices):
        raise UserError(f"place --gpus {n}: this machine exposes {len(devices)} GPU(s) "
                        f"(CUDA_VISIBLE_DEVICES={os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')})")
    folder = lock_folder()
    waited = False
    while True:
        taken = _take(folder, devices, n, slots)
        if taken is not None:
            return taken
        if not waited and log:
            what = f"a free slot ({slots} jobs a GPU)" if _shares(n, slots) else f"{n} free GPU(s)"
            log(f"[place] waiting for {what} of {', '.join(devices)} (locks in {folder})")
        waited = True
        time.sleep(POLL_SECONDS)


def place(n: int, command: list[str], log, slots: int = 1) -> None:
    """Run `command` in this process on n devices of its own, or, with n == 1 and `slots` > 1
    jobs a device, on a slot of one (never returns)."""
    if not command:
        raise UserError("place: give the command to run after --")
    if n < 0:
        raise UserError(f"place --gpus {n}: must be >= 0")
    if slots < 1:
        raise UserError(f"place --jobs-per-gpu {slots}: must be >= 1")
    env = dict(os.environ)
    if n == 0:
        pass
    elif in_slurm_job():
        have = visible_devices()
        if have and len(have) < n:
            raise UserError(f"place --gpus {n}: this SLURM job was given {len(have)} GPU(s) "
                            f"(CUDA_VISIBLE_DEVICES={','.join(have)})")
        env[PLACED_ENV] = "slurm"
    elif not visible_devices():
        log(f"[place] no GPU on this machine: {command[0]} runs on the CPU")
    else:
        devices, fds = claim(n, log, slots)
        for fd in fds:
            os.set_inheritable(fd, True)
        env["CUDA_VISIBLE_DEVICES"] = ",".join(devices)
        env[PLACED_ENV] = "locks"
        shared = _shares(n, slots)
        if shared:
            env[SHARE_ENV] = str(slots)
        log(f"[place] GPU(s) {','.join(devices)}{f' (shared by up to {slots} jobs)' if shared else ''} "
            f"for: {' '.join(command)}")
    try:
        os.execvpe(command[0], command, env)
    except OSError as e:
        raise UserError(f"place: cannot run {command[0]!r} ({e.strerror})") from None


def describe(device) -> dict:
    """What a run's config.yaml records about where it ran."""
    out = {"device": str(device), "placed_by": os.environ.get(PLACED_ENV),
           "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
           "jobs_per_gpu": int(os.environ.get(SHARE_ENV) or 1)}
    if getattr(device, "type", None) == "cuda":
        import torch

        out["name"] = torch.cuda.get_device_name(device)
        out["tf32"] = {"matmul": torch.backends.cuda.matmul.allow_tf32,
                       "cudnn": torch.backends.cudnn.allow_tf32}
    return out



def share_note(jobs_per_gpu: int, limit: int | None) -> str | None:
    """A line for the plan where `--resources gpu` (GPU jobs at once) keeps the GPUs from being
    shared as jobs_per_gpu asks; None where it does not (or there is no budget: a cluster)."""
    have = len(visible_devices())
    if jobs_per_gpu == 1 or limit is None or have == 0 or limit >= jobs_per_gpu * have:
        return None
    return (f"note: jobs_per_gpu: {jobs_per_gpu}, but --resources gpu={limit} runs at most {limit} "
            f"GPU job(s) at once; --resources gpu={jobs_per_gpu * have} runs {jobs_per_gpu} on each "
            f"of this machine's {have} GPU(s)")


def plan_gpus(gpus_per_job: int, pretrain_processes: int, limit: int | None, device: str,
              pretrain_nodes: int = 1) -> int:
    """The GPUs each GPU job declares, checked when the DAG is planned. Refuses a job that could
    never start here: one that needs more GPUs than `--resources gpu` allows (Snakemake would
    scale it down without a word) or than this machine exposes, or pre-training over several
    nodes. `limit` None (no GPU budget, as on a cluster executor) checks nothing. On a machine
    without GPUs the GPU jobs run on the CPU and declare none (a budget of GPUs that do not exist
    would only queue them)."""
    if limit is not None and pretrain_nodes > 1:
        raise UserError(f"pretrain_nodes: {pretrain_nodes}: pre-training over several nodes runs on "
                        "SLURM only (--workflow-profile workflow/profiles/slurm; on one machine set "
                        "pretrain_nodes: 1)")
    if limit is None or gpus_per_job == 0:
        return gpus_per_job
    have = len(visible_devices())
    if have == 0:
        if device == "cuda":
            raise UserError("device: cuda, but this machine exposes no GPU "
                            "(CUDA_VISIBLE_DEVICES or the NVIDIA driver)")
        return 0
    pretrain = gpus_per_job * pretrain_processes
    for available, where, hint in ((limit, f"--resources gpu={limit} allows",
                                    f" or run with --resources gpu={pretrain}"),
                                   (have, "this machine exposes", "")):
        if gpus_per_job > available:
            raise UserError(f"gpus_per_job: {gpus_per_job} GPUs per job, but {where} {available}")
        if pretrain > available:
            raise UserError(f"pretrain_processes: {pretrain_processes} processes x gpus_per_job "
                            f"{gpus_per_job} need {pretrain} GPUs, but {where} {available} (set "
                            f"pretrain_processes: {max(1, available // gpus_per_job)}{hint})")
    return gpus_per_job
