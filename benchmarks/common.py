"""Shared by the benchmark scripts: problem sizes, synthetic reID features, and one measurement
per child process (so that each method's peak memory is its own)."""
from __future__ import annotations

import json
import resource
import subprocess
import sys

import numpy as np

# (queries, gallery) of the real benchmarks
SCALES = {"small": (500, 2500), "market": (3368, 15913), "msmt17": (11659, 82161)}
GIB = 2 ** 30


def reid_features(nq: int, ng: int, dim: int = 2048, ids: int = 750, cameras: int = 6,
                  noise: float = 3.0, seed: int = 0):
    """Query and gallery features of `ids` identities seen by `cameras` cameras: identity centres
    plus Gaussian noise (noise 3.0 at 2,048-d gives an mAP near 0.7, like a trained network)."""
    rng = np.random.default_rng(seed)
    pids = rng.integers(1, ids + 1, nq + ng)
    camids = rng.integers(0, cameras, nq + ng)
    centres = rng.standard_normal((ids + 1, dim), dtype=np.float32)
    x = np.empty((nq + ng, dim), np.float32)
    for s in range(0, nq + ng, 4096):  # in blocks: no transient copy of the whole matrix
        block = rng.standard_normal((min(4096, nq + ng - s), dim), dtype=np.float32)
        x[s:s + len(block)] = centres[pids[s:s + len(block)]] + noise * block
    return (x[:nq], pids[:nq], camids[:nq]), (x[nq:], pids[nq:], camids[nq:])


def peak_bytes() -> int:
    """This process's peak resident memory so far."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def resident_bytes() -> int:
    """This process's resident memory now."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()


def in_child(script: str, *args) -> dict:
    """Run `python script --child *args` and return the JSON it prints ({"error": ...} if it
    failed or was killed)."""
    out = subprocess.run([sys.executable, script, "--child", *map(str, args)], capture_output=True,
                         text=True)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or [f"exit {out.returncode}"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])
