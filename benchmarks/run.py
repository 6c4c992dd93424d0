"""Every performance figure of the project in one run, each with its reference and target, as a
Markdown table (the README shows the latest one).

    python benchmarks/run.py            # evaluation, re-ranking (Market), search step, loader, plan
    python benchmarks/run.py --full     # also MSMT17-scale re-ranking and the tiny `snakemake tables`
    python benchmarks/run.py --msmt17   # only the first of those two
    python benchmarks/run.py --threads 2 --search-size half

T is the bare query x gallery matrix product at that scale, on the same machine in the same run.
Each measured method runs in a process of its own (its peak memory is its own).
"""
from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import evaluate  # noqa: E402
import loader  # noqa: E402
import rerank  # noqa: E402
import search  # noqa: E402
from common import GIB  # noqa: E402


def seconds(cmd: list[str], cwd: Path) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - t0


def row(figure: str, ours: str, reference: str, target: str, met: bool | None) -> str:
    verdict = {True: "yes", False: "**no**", None: "–"}[met]
    return f"| {figure} | {ours} | {reference} | {target} | {verdict} |"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--full", action="store_true",
                    help="also re-ranking at MSMT17 scale (~10 min) and the tiny pipeline (~15 min)")
    ap.add_argument("--msmt17", action="store_true", help="also re-ranking at MSMT17 scale")
    ap.add_argument("--search-size", choices=search.SIZES, default="paper")
    a = ap.parse_args()
    lines = ["| figure | ours | reference | target | met |", "|---|---|---|---|---|"]

    def report(*cells):
        lines.append(row(*cells))
        print(lines[-1], flush=True)

    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{a.threads} threads", flush=True)
    print("\n".join(lines), flush=True)

    ev = evaluate.measure("market", threads=a.threads)
    ours = ev["ours"]
    peers = ", ".join(f"{k} {v['x_T']:.1f} T" for k, v in ev.items()
                      if k in ("full sort", "torchreid") and "x_T" in v)
    report(f"evaluation, Market scale (T = {ev['T']:.2f} s)", f"{ours['x_T']:.2f} T",
           f"{peers}; torchreid Cython ≈ 2.6 T", "≤ 1.3 T", ours["x_T"] <= 1.3)
    report("95% intervals (mAP, R1, mINP), Market scale", f"+{100 * ours['interval_share']:.1f}% "
           f"({1000 * ours['interval_seconds']:.0f} ms)", "–", "≤ +5% of an evaluation",
           ours["interval_share"] <= 0.05)
    ev = evaluate.measure("msmt17", threads=a.threads)
    ours = ev["ours"]
    report(f"evaluation, MSMT17 scale (T = {ev['T']:.2f} s)",
           f"{ours['x_T']:.2f} T, {ours['added_bytes'] / GIB:.2f} GiB above the features", "–",
           "≤ 4 GiB above the features", ours["added_bytes"] <= 4 * GIB)

    rr = rerank.measure_scale("market", threads=a.threads)
    ours, dense = rr["ours"], rr.get("dense", {})
    report(f"re-ranking, Market scale (T = {rr['T']:.2f} s)",
           f"{ours['x_T']:.1f} T, {ours['peak_bytes'] / GIB:.2f} GiB peak",
           f"dense {dense.get('x_T', float('nan')):.1f} T, "
           f"{dense.get('peak_bytes', 0) / GIB:.2f} GiB; torchreid ≈ 34 T, 8.8 GiB",
           "≤ 10 T, ≤ 2 GiB", ours["x_T"] <= 10 and ours["peak_bytes"] <= 2 * GIB)
    if a.full or a.msmt17:
        rr = rerank.measure_scale("msmt17", threads=a.threads)
        ours = rr["ours"]
        done = "seconds" in ours
        report("re-ranking, MSMT17 scale",
               f"{ours['x_T']:.1f} T, {ours['peak_bytes'] / GIB:.2f} GiB peak" if done
               else ours.get("error", "failed"),
               "dense: ≈ 35 GB per N x N array", "completes in ≤ 16 GiB",
               done and ours["peak_bytes"] <= 16 * GIB)

    st = search.measure(a.search_size, threads=a.threads, methods=("plain", "ours"))
    ours, plain = st["ours"], st["plain"]
    C, _, h, w = search.SIZES[a.search_size]
    report(f"search step, C={C}, {h}x{w}, 2x16 images",
           f"{ours['images_per_s']:.2f} img/s, {ours['peak_bytes'] / GIB:.2f} GiB",
           f"plain DARTS supernet {plain['images_per_s']:.2f} img/s, "
           f"{plain['peak_bytes'] / GIB:.2f} GiB", "faster than plain",
           ours["images_per_s"] > plain["images_per_s"])

    ld = loader.measure(workers=min(2, a.threads))
    best = {}
    for name, workers, ips in ld["rows"]:
        kind = "files" if name.startswith("files") else name
        if ips > best.get(kind, (0, 0))[0]:
            best[kind] = (ips, workers)
    store, files = best["store: raw uint8"], best["files"]
    report("training loader, 384x128 (each at its best worker count)",
           f"raw store {store[0]:.0f} img/s ({store[1]} workers)",
           f"files {files[0]:.0f} img/s ({files[1]} workers)", "≥ 2x files",
           store[0] >= 2 * files[0])

    plan = seconds(["snakemake", "-n", "tables", "--configfile", str(ROOT / "params/paper.yaml"),
                    "-s", str(ROOT / "Snakefile")], ROOT)
    report("`snakemake -n tables`, paper profile", f"{plan:.1f} s", "–", "< 5 s", plan < 5)
    if a.full:
        with tempfile.TemporaryDirectory() as tmp:
            run = seconds(["snakemake", "tables", "-s", str(ROOT / "Snakefile"), "--cores",
                           str(a.threads)], Path(tmp))
        report("`snakemake tables`, tiny profile, all six tables", f"{run / 60:.1f} min", "–",
               "≤ 10 min", run <= 600)
    print("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
