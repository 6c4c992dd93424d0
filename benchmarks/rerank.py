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
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import GIB, SCALES, in_child, peak_bytes, reid_features, resident_bytes  # noqa: E402


def run_one(method: str, nq: int, ng: int, dim: int) -> dict:
    import torch

    (qf, _, _), (gf, _, _) = reid_features(nq, ng, dim)
    start_bytes = resident_bytes()
    t0 = time.perf_counter()
    if method == "matmul":
        torch.from_numpy(qf) @ torch.from_numpy(gf).t()
    elif method == "ours":
        from autoreid.evaluate.rerank import k_reciprocal

        chunk = k_reciprocal(qf, gf)
        rows = max(1, (256 << 20) // (ng * 24))
        checksum = sum(float(chunk(s, min(s + rows, nq)).sum()) for s in range(0, nq, rows))
    else:
        from rerank_dense import dense_rerank

        checksum = float(dense_rerank(qf, gf).sum())
    seconds = time.perf_counter() - t0
    return {"seconds": seconds, "peak_bytes": peak_bytes(), "added_bytes": peak_bytes() - start_bytes,
            **({"checksum": checksum} if method != "matmul" else {})}


def measure_scale(scale: str, dim: int = 2048, dense: bool | None = None,
                  threads: int | None = None) -> dict:
    """{"T": seconds of the bare matmul, "ours"/"dense": {seconds, x_T, peak_bytes, ...}}"""
    nq, ng = SCALES[scale]
    dense = dense if dense is not None else scale != "msmt17"
    os.environ["OMP_NUM_THREADS"] = str(threads or os.cpu_count())
    methods = ["matmul", "ours"] + (["dense"] if dense else [])
    results = {m: in_child(__file__, m, nq, ng, dim) for m in methods}
    T = results.pop("matmul")["seconds"]
    for r in results.values():
        if "seconds" in r:
            r["x_T"] = r["seconds"] / T
    return {"T": T, "queries": nq, "gallery": ng, **results}


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
    results = measure_scale(a.scale, a.dim, a.dense)
    T, nq, ng = results.pop("T"), results.pop("queries"), results.pop("gallery")
    print(f"k-reciprocal re-ranking, {nq} queries x {ng} gallery, {a.dim}-d float32; "
          f"T (bare matmul) = {T:.2f} s")
    print(f"{'method':<26}{'seconds':>10}{'x T':>8}{'peak GiB':>10}{'added GiB':>11}")
    names = {"ours": "ours (sparse, blocked)", "dense": "dense reference"}
    for key, r in results.items():
        if "error" in r:
            print(f"{names[key]:<26}  failed: {r['error']}")
            continue
        print(f"{names[key]:<26}{r['seconds']:>10.1f}{r['x_T']:>8.1f}{r['peak_bytes'] / GIB:>10.2f}"
              f"{r['added_bytes'] / GIB:>11.2f}")
    if all("checksum" in r for r in results.values()) and len(results) == 2:
        a_, b_ = results["ours"]["checksum"], results["dense"]["checksum"]
        print(f"sum of final distances: ours {a_:.6g}, dense {b_:.6g} (relative difference "
              f"{abs(a_ - b_) / abs(b_):.1e})")


if __name__ == "__main__":
    main()
