"""k-reciprocal re-ranking (k1=20, k2=6, λ=0.3): time and peak memory of ours (sparse, blocked)
against the dense reference, at a given scale, each in its own process.

    python benchmarks/rerank.py --scale small|market|msmt17 [--dense/--no-dense] [--dim 2048]

market: 3,368 queries x 15,913 gallery (Market-1501); msmt17: 11,659 x 82,161. Times are also
given in units of T, the bare query x gallery matrix product at that scale. Peak memory is the
process's maximum resident set size.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SCALES = {"small": (500, 2500), "market": (3368, 15913), "msmt17": (11659, 82161)}


def features(nq: int, ng: int, dim: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, max(2, (nq + ng) // 20), nq + ng)
    centers = rng.normal(size=(ids.max() + 1, dim)).astype(np.float32)
    x = centers[ids] + rng.normal(scale=1.5, size=(nq + ng, dim)).astype(np.float32)
    return x[:nq], x[nq:]


def run_one(method: str, nq: int, ng: int, dim: int) -> dict:
    import torch

    qf, gf = features(nq, ng, dim)
    t0 = time.perf_counter()
    if method == "matmul":
        torch.from_numpy(qf) @ torch.from_numpy(gf).t()
    elif method == "ours":
        from autoreid.evaluate.rerank import k_reciprocal

        chunk = k_reciprocal(qf, gf)
        rows = max(1, (256 << 20) // (ng * 24))
        checksum = sum(float(chunk(s, min(s + rows, nq)).sum()) for s in range(0, nq, rows))
    else:
        sys.path.insert(0, str(Path(__file__).parent))
        from rerank_dense import dense_rerank

        checksum = float(dense_rerank(qf, gf).sum())
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"seconds": seconds, "peak_bytes": peak, "feature_bytes": qf.nbytes + gf.nbytes,
            **({"checksum": checksum} if method != "matmul" else {})}


def measure(method: str, nq: int, ng: int, dim: int) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", method, str(nq), str(ng), str(dim)],
                         capture_output=True, text=True)
    if out.returncode != 0:
        return {"error": (out.stderr.strip().splitlines() or ["killed"])[-1]}
    return json.loads(out.stdout)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        method, nq, ng, dim = sys.argv[2], *map(int, sys.argv[3:6])
        print(json.dumps(run_one(method, nq, ng, dim)))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=SCALES, default="small")
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--dense", action=argparse.BooleanOptionalAction, default=None,
                    help="also run the dense reference (default: not at msmt17 scale)")
    a = ap.parse_args()
    nq, ng = SCALES[a.scale]
    dense = a.dense if a.dense is not None else a.scale != "msmt17"
    T = measure("matmul", nq, ng, a.dim)["seconds"]
    rows = [("ours (sparse, blocked)", measure("ours", nq, ng, a.dim))]
    if dense:
        rows.append(("dense reference", measure("dense", nq, ng, a.dim)))
    gib = 2 ** 30
    print(f"k-reciprocal re-ranking, {nq} queries x {ng} gallery, {a.dim}-d float32; "
          f"T (bare matmul) = {T:.2f} s")
    print(f"{'method':<26}{'seconds':>10}{'x T':>8}{'peak GiB':>10}{'above features':>16}")
    for name, r in rows:
        if "error" in r:
            print(f"{name:<26}  failed: {r['error']}")
            continue
        print(f"{name:<26}{r['seconds']:>10.1f}{r['seconds'] / T:>8.1f}{r['peak_bytes'] / gib:>10.2f}"
              f"{(r['peak_bytes'] - r['feature_bytes']) / gib:>16.2f}")
    if len(rows) == 2 and all("checksum" in r for _, r in rows):
        a_, b_ = rows[0][1]["checksum"], rows[1][1]["checksum"]
        print(f"sum of final distances: ours {a_:.6g}, dense {b_:.6g} (relative difference "
              f"{abs(a_ - b_) / abs(b_):.1e})")


if __name__ == "__main__":
    main()
