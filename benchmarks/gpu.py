"""The paper's setting on one GPU: a Markdown report of what bounds the paper DAG there, in ≤ 8
minutes, and the GPU-hours of the whole DAG projected from it.

    python benchmarks/gpu.py                     # cuda, bf16 (fp16 where the GPU lacks bf16)
    python benchmarks/gpu.py --amp fp16
    python benchmarks/gpu.py --tf32 off          # the fp32 column in full fp32 (default: TF32, as
                                                 # the profiles' `tf32: true`)
    python benchmarks/gpu.py --device cpu --size tiny --steps 2     # checks the script on a CPU (CI)

First table, fp32 against mixed precision: the search iteration (C=32, l=[2,2,2,2], 384x128,
batches of 16 = P=4 x K=4, retrieval objective, ReID space, first order: an omega step on a
D_train batch + an alpha step on a D_val batch), retraining the released Auto-ReID cell at C=64 on
P=16 x K=4 images, extraction in batches of 256; 751 identities; random tensors on the device.
Second table, in mixed precision: the input pipeline from a raw image store into the device (the
only row that reads images), pre-training at 224x224 in batches of 128, a second-order iteration,
the ops that make the host wait in one search and one training step (zero outside the logging
step), several searches sharing the GPU (each its own process, as `jobs_per_gpu` runs them), and
the search compiled (`compile: on`; its first iteration is the compilation). Last, the GPU-hours of
the whole paper DAG on this GPU (benchmarks/projection.py), eager one job at a time, with the
searches sharing the GPU, and compiled. The paper: "about 1 day to finish one searching procedure on
a single NVIDIA Tesla V100" (§4.2), ~1.07 s/iteration. On the CPU, `compiled` uses the aot_eager
backend (a check of the capture, not a timing: inductor writes C++ for minutes there).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from gpu_steps import (SIZES, extraction, loader, pretraining, retraining,  # noqa: E402
                       search_iteration)

MARKET_TRAIN_IMAGES = 12936
SEARCH_EPOCHS, TRAIN_EPOCHS = 200, 240
PAPER_SEARCH_HOURS = 24.0


def _gib(r: dict) -> str:
    return "-" if r.get("peak") is None else f"{r['peak']:.2f}"


def _run(label: str, fn, *args, **kwargs) -> dict:
    import torch

    t0 = time.time()
    try:
        r = fn(*args, **kwargs)
    except torch.cuda.OutOfMemoryError:
        r = {"error": "out of memory"}
    print(f"[gpu] {label} ({time.time() - t0:.0f} s): {r}", file=sys.stderr, flush=True)
    return r


def table(device, amp: str, size: str, steps: int, tf32: bool = True) -> str:
    import torch

    runs = {}
    for name, fn, n in (("search", search_iteration, steps), ("train", retraining, 2 * steps),
                        ("extract", extraction, steps)):
        for mode in ("off", amp):
            runs[name, mode] = _run(f"{name} {mode}", fn, device, mode, size, n)
    label = runs["search", amp].get("mode", amp)
    fp32 = "fp32 (TF32 matmuls and convolutions)" if tf32 and device.type == "cuda" else "fp32"
    iters = MARKET_TRAIN_IMAGES // 2 // 16 * SEARCH_EPOCHS
    train_images = MARKET_TRAIN_IMAGES * TRAIN_EPOCHS
    sz = SIZES[size]
    sC, tC, h, w = sz["search_C"], sz["train_C"], sz["height"], sz["width"]
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"

    def both(key, fmt, of=lambda r, v: v):
        cells = []
        for mode in ("off", amp):
            r = runs[key[0], mode]
            cells.append(r["error"] if "error" in r else fmt(of(r, r[key[1]])))
        return cells

    def speedup(key, higher_is_better):
        a, b = runs[key[0], "off"], runs[key[0], amp]
        if "error" in a or "error" in b:
            return "-"
        ratio = b[key[1]] / a[key[1]] if higher_is_better else a[key[1]] / b[key[1]]
        return f"{ratio:.2f}x"

    rows = [
        ("search iteration (omega + alpha step), s", *both(("search", "seconds"), "{:.3f}".format),
         speedup(("search", "seconds"), False), f"~{PAPER_SEARCH_HOURS * 3600 / iters:.2f}"),
        ("search peak memory, GiB", *[_gib(runs["search", m]) for m in ("off", amp)], "", ""),
        (f"full search projected ({iters:,} iterations), h",
         *both(("search", "seconds"), "{:.1f}".format, lambda r, v: v * iters / 3600), "",
         f"~{PAPER_SEARCH_HOURS:.0f}"),
        (f"retraining (P={sz['P']} x K={sz['K']}), images/s",
         *both(("train", "images_per_s"), "{:.0f}".format),
         speedup(("train", "images_per_s"), True), ""),
        ("retraining peak memory, GiB", *[_gib(runs["train", m]) for m in ("off", amp)], "", ""),
        (f"full retraining projected ({TRAIN_EPOCHS} epochs), h",
         *both(("train", "images_per_s"), "{:.1f}".format, lambda r, v: train_images / v / 3600),
         "", ""),
        ("extraction, images/s", *both(("extract", "images_per_s"), "{:.0f}".format),
         speedup(("extract", "images_per_s"), True), ""),
        ("extraction peak memory, GiB", *[_gib(runs["extract", m]) for m in ("off", amp)], "", ""),
    ]
    out = [f"{name}, torch {torch.__version__}; search C={sC}, l={list(sz['search_layers'])}, "
           f"retraining C={tC}, l=[2,2,2,2], {h}x{w}", "",
           f"| | {fp32} | {label} | {label} vs fp32 | paper (V100) |", "|---|---:|---:|---:|---:|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    out += ["", risks(device, amp, size, steps, runs)]
    return "\n".join(out)


def risks(device, amp: str, size: str, steps: int, runs: dict) -> str:
    """The second table (in `amp`) and the DAG projection."""
    from autoreid import compiled as compiled_module

    sz = SIZES[size]
    if device.type != "cuda":
        compiled_module.BACKEND = "aot_eager"  # a check of the capture on the CPU, not a timing
    r = {"loader": _run("loader", loader, device, size, workers=min(8, os.cpu_count() or 1)),
         "pretrain": _run("pretrain", pretraining, device, amp, size, steps),
         "second": _run("second order", search_iteration, device, amp, size, steps, order="second"),
         "compiled": _run("compiled", search_iteration, device, amp, size, steps, compile=True)}
    for jobs in (2, 4) if device.type == "cuda" else (2,):
        r[f"share{jobs}"] = _run(f"{jobs} searches at once", concurrent, device, amp, size, steps, jobs)
    eager, train = runs["search", amp], runs["train", amp]

    def cell(key, fmt, field):
        return r[key]["error"] if "error" in r[key] else fmt.format(r[key][field])

    backend = "inductor" if device.type == "cuda" else "aot_eager, CPU check"
    rows = [
        (f"loader: raw store -> {device.type} (P={sz['P']} x K={sz['K']}), images/s",
         cell("loader", "{:.0f}", "images_per_s"),
         f"main process {r['loader'].get('main_ms', float('nan')):.1f} ms/batch"),
        (f"pre-training {sz['side']}x{sz['side']}, batch {sz['pretrain_batch']}, images/s",
         cell("pretrain", "{:.0f}", "images_per_s"), f"peak {_gib(r['pretrain'])} GiB"),
        ("search iteration, second order, s", cell("second", "{:.3f}", "seconds"),
         f"{r['second'].get('seconds', 0) / max(eager.get('seconds', 1e-9), 1e-9):.1f}x first order"),
        ("syncs in one search step / one training step",
         f"{eager.get('syncs', '-')} / {train.get('syncs', '-')}",
         "ops that make the host wait (.item(), nonzero, copies across devices)"),
        (f"search iteration, compiled ({backend}), s", cell("compiled", "{:.3f}", "seconds"),
         f"{eager.get('seconds', 0) / max(r['compiled'].get('seconds', 1e-9), 1e-9):.2f}x eager; "
         f"first iteration (compiling) {r['compiled'].get('first_s', float('nan')):.0f} s"),
    ]
    for jobs in (2, 4):
        if f"share{jobs}" in r:
            c = r[f"share{jobs}"]
            rows.append((f"{jobs} searches sharing the GPU, s/iteration each",
                         cell(f"share{jobs}", "{:.3f}", "seconds"),
                         f"{c.get('speedup', float('nan')):.2f}x the iterations/s of one"))
    out = [f"| in {eager.get('mode', amp)} | | |", "|---|---:|---|"]
    out += ["| " + " | ".join(x) + " |" for x in rows]
    out += ["", projection_table(device, eager, r, train, runs["extract", amp])]
    return "\n".join(out)


def projection_table(device, eager: dict, r: dict, train: dict, extract: dict) -> str:
    """The paper DAG's GPU-hours on this device: eager one job at a time; searches sharing it; and
    the searches compiled and sharing it."""
    from projection import project

    if any("error" in x for x in (eager, train, extract, r["second"], r["pretrain"])):
        return "DAG projection: a measurement failed"
    rates = dict(search_s=eager["seconds"], search2_s=r["second"]["seconds"],
                 train_ips=train["images_per_s"], extract_ips=extract["images_per_s"],
                 pretrain_ips=r["pretrain"]["images_per_s"])
    share = max((k for k in r if k.startswith("share") and "error" not in r[k]),
                key=lambda k: r[k]["speedup"], default=None)
    speedup = r[share]["speedup"] if share else 1.0
    plans = {"eager, one job at a time": project(rates),
             f"searches sharing the GPU ({share[5:] if share else 1} at once)": project(rates, speedup)}
    if "error" not in r["compiled"]:
        fast = dict(rates, search_s=r["compiled"]["seconds"])
        plans["compiled searches, sharing the GPU"] = project(fast, speedup)
    kinds = ("search", "train", "pretrain", "evaluate", "total")
    jobs = ", ".join(f"{k} {v[0]}" for k, v in next(iter(plans.values())).items() if k != "total")
    out = [f"paper DAG projected on this {device.type} (GPU-hours; jobs: {jobs})", "",
           "| | " + " | ".join(kinds) + " | days |", "|---|" + "---:|" * (len(kinds) + 1)]
    for name, plan in plans.items():
        out.append(f"| {name} | " + " | ".join(f"{plan[k][1]:.1f}" for k in kinds)
                   + f" | {plan['total'][1] / 24:.1f} |")
    return "\n".join(out)


def concurrent(device, amp: str, size: str, steps: int, jobs: int) -> dict:
    """`jobs` search processes on the device at once (as `jobs_per_gpu` runs them): seconds per
    iteration each, and the iterations/s of all against one alone."""
    args = [sys.executable, __file__, "--child-search", str(device), amp, size, str(steps)]
    env = dict(os.environ, OMP_NUM_THREADS=str(max(1, (os.cpu_count() or 1) // jobs)))
    alone = json.loads(subprocess.run(args, env=env, capture_output=True, text=True, check=True).stdout)
    procs = [subprocess.Popen(args, env=env, stdout=subprocess.PIPE, text=True) for _ in range(jobs)]
    each = [json.loads(p.communicate()[0]) for p in procs]
    seconds = sum(e["seconds"] for e in each) / jobs
    return {"seconds": seconds, "alone": alone["seconds"], "speedup": jobs * alone["seconds"] / seconds}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child-search":
        import torch

        device, amp, size, steps = sys.argv[2:6]
        print(json.dumps(search_iteration(torch.device(device), amp, size, int(steps))))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cuda", help="cuda, cuda:N or cpu")
    ap.add_argument("--amp", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--size", default="paper", choices=SIZES)
    ap.add_argument("--steps", type=int, default=20, help="timed iterations of each measurement")
    ap.add_argument("--tf32", default="on", choices=["on", "off"],
                    help="fp32 matmuls and convolutions in TF32 on the GPU (default: on, as the profiles)")
    a = ap.parse_args()
    import torch

    device = torch.device(a.device)
    if device.type == "cuda":
        if not torch.cuda.is_available():
            sys.exit("benchmarks/gpu.py: no CUDA device (use --device cpu to check the script)")
        torch.backends.cudnn.benchmark = True
        torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = a.tf32 == "on"
    print(table(device, a.amp, a.size, a.steps, a.tf32 == "on"))


if __name__ == "__main__":
    main()
