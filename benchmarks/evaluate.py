"""Evaluation (features -> CMC, mAP, mINP): time and peak memory of ours against a full-sort
evaluator and, when installed, the torchreid package's, at the real benchmarks' sizes.

    python benchmarks/evaluate.py --scale small|market|msmt17 [--dim 2048] [--threads N]

Each method runs in its own process on the same synthetic features (2,048-d float32, an mAP near
0.7), ours three times (the best time counts), the peers once; times are also given in units of
T, the bare query x gallery matrix product at that scale, timed in the same process just after;
"added" is the peak resident memory less what the process held before the method started (the
interpreter, torch and the features).
  ours       autoreid.evaluate.metrics.evaluate: one addmm per query chunk, no sort; its 95%
             intervals (the identity bootstrap of autoreid.evaluate.bootstrap, 1,000 resamples, as
             every evaluation writes them) are timed apart, after it ("intervals")
  full sort  the usual way, written here: the whole distance matrix, every row argsorted, matches
             and junk masked along the sorted rows
  torchreid  `pip install torchreid` (torchreid-pip 0.2.5 ships the pure-Python evaluator only;
             the Cython one of the original repository is not on PyPI): its distance matrix and
             `evaluate_rank`
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import GIB, SCALES, in_child, peak_bytes, reid_features, resident_bytes  # noqa: E402


REPEATS = {"ours": 3}


def full_sort(qf, qp, qc, gf, gp, gc) -> dict:
    """Every row of the distance matrix sorted; the protocol applied along the sorted rows."""
    d = (qf * qf).sum(1)[:, None] + (gf * gf).sum(1)[None, :] - 2 * qf @ gf.T
    order = np.argsort(d, axis=1, kind="stable")
    aps, firsts = [], []
    for i in range(len(qf)):
        o = order[i]
        keep = ~((gp[o] == qp[i]) & (gc[o] == qc[i])) & (gp[o] != -1)
        hit = (gp[o] == qp[i])[keep]
        if not hit.any():
            continue
        pos = np.flatnonzero(hit) + 1
        aps.append((np.arange(1, len(pos) + 1) / pos).mean())
        firsts.append(pos[0])
    return {"mAP": float(np.mean(aps)), "rank1": float(np.mean(np.array(firsts) == 1))}


def torchreid_evaluator():
    """torchreid's rank.py, loaded on its own (the package's __init__ pulls in OpenCV etc.)."""
    spec = importlib.util.find_spec("torchreid")
    if spec is None:
        return None
    path = Path(spec.submodule_search_locations[0]) / "reid" / "metrics" / "rank.py"
    module_spec = importlib.util.spec_from_file_location("torchreid_rank", path)
    module = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(module)
    return module.evaluate_rank


def run_one(method: str, nq: int, ng: int, dim: int) -> dict:
    import torch

    (qf, qp, qc), (gf, gp, gc) = reid_features(nq, ng, dim)
    start_bytes = resident_bytes()  # the interpreter, torch and the features
    def once() -> dict:
        if method == "ours":
            from autoreid.evaluate.metrics import evaluate

            m = evaluate(qf, qp, qc, gf, gp, gc)
            last["per_query"] = m["per_query"]
            return {"mAP": m["mAP"], "rank1": m["rank1"]}
        if method == "full sort":
            return full_sort(qf, qp, qc, gf, gp, gc)
        evaluate_rank = torchreid_evaluator()
        if evaluate_rank is None:
            raise SystemExit("torchreid is not installed (pip install torchreid)")
        q, g = torch.from_numpy(qf), torch.from_numpy(gf)
        distmat = (q.pow(2).sum(1, keepdim=True) + g.pow(2).sum(1)[None] - 2 * q @ g.t()).numpy()
        cmc, mAP = evaluate_rank(distmat, qp, gp, qc, gc, max_rank=50, use_cython=False)
        return {"mAP": float(mAP), "rank1": float(cmc[0])}

    times, last, extra = [], {}, {}
    for _ in range(REPEATS.get(method, 1)):  # the fast ones: best of three
        t0 = time.perf_counter()
        result = once()
        times.append(time.perf_counter() - t0)
    if method == "ours":  # what the intervals add to an evaluation: best of three too
        from autoreid.evaluate.bootstrap import BootstrapConfig, intervals, per_query

        spent = []
        for _ in range(3):
            t0 = time.perf_counter()
            intervals(per_query(**last["per_query"]), qp, BootstrapConfig(1000, 0))
            spent.append(time.perf_counter() - t0)
        extra = {"interval_seconds": min(spent), "interval_share": min(spent) / min(times)}
    peak = peak_bytes()
    T = []  # T again in this process, after the method: the ratio is immune to load elsewhere
    for _ in range(3):
        t0 = time.perf_counter()
        torch.from_numpy(qf) @ torch.from_numpy(gf).t()
        T.append(time.perf_counter() - t0)
    return {"seconds": min(times), "x_T": min(times) / min(T), "T": min(T), "peak_bytes": peak,
            "added_bytes": peak - start_bytes, **extra, **result}


def measure(scale: str, dim: int = 2048, threads: int | None = None, peers: bool | None = None
            ) -> dict:
    """{"T": seconds of the bare matmul, method: {seconds, x_T, peak_bytes, added_bytes, mAP, ...}}"""
    nq, ng = SCALES[scale]
    peers = peers if peers is not None else scale != "msmt17"
    os.environ["OMP_NUM_THREADS"] = str(threads or os.cpu_count())  # every child, T included
    methods = ["ours"] + (["full sort", "torchreid"] if peers else [])
    results = {m: in_child(__file__, m.replace(" ", "_"), nq, ng, dim) for m in methods}
    T = min(r["T"] for r in results.values() if "T" in r)
    return {"T": T, "queries": nq, "gallery": ng, **results}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        method, nq, ng, dim = sys.argv[2].replace("_", " "), *map(int, sys.argv[3:6])
        print(json.dumps(run_one(method, nq, ng, dim)))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", choices=SCALES, default="small")
    ap.add_argument("--dim", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--peers", action=argparse.BooleanOptionalAction, default=None,
                    help="also run full sort and torchreid (default: not at msmt17 scale)")
    a = ap.parse_args()
    results = measure(a.scale, a.dim, a.threads, a.peers)
    T = results.pop("T")
    nq, ng = results.pop("queries"), results.pop("gallery")
    print(f"evaluation, {nq} queries x {ng} gallery, {a.dim}-d float32, {a.threads} threads; "
          f"T (bare matmul) = {T:.2f} s")
    print(f"{'method':<12}{'seconds':>9}{'x T':>7}{'peak GiB':>10}{'added GiB':>11}"
          f"{'mAP':>8}{'R1':>8}")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<12}  not run: {r['error']}")
            continue
        print(f"{name:<12}{r['seconds']:>9.2f}{r['x_T']:>7.2f}{r['peak_bytes'] / GIB:>10.2f}"
              f"{r['added_bytes'] / GIB:>11.2f}{r['mAP']:>8.4f}{r['rank1']:>8.4f}")
        if "interval_seconds" in r:
            print(f"{'  intervals':<12}{r['interval_seconds']:>9.3f}  (+{100 * r['interval_share']:.1f}% "
                  "of ours: 95% intervals of mAP, R1, mINP, 1,000 identity resamples)")


if __name__ == "__main__":
    main()
