"""One search step (Alg. 1: an omega update on a D_train batch, then an alpha update on a D_val
batch, retrieval objective, reid space): time per iteration, images/s, host-dispatched ops per
iteration, compile time and peak memory of ours, eager and compiled (`compile: on`), against the
straightforward DARTS supernet (benchmarks/darts_supernet.py) at equal settings.

    python benchmarks/search.py [--size paper|half|tiny] [--steps 2] [--threads N] [--device cuda]
                                [--methods plain,ours,compiled]

paper: the paper's search setting, C=32, l=[2,2,2,2], 384x128, batches of 16 (P=4 x K=4), 751
identities. half: C=16 at 192x64, for a quicker look. tiny: the embedded profile's search, C=8,
l=[1,1,1,1], 64x32. Each method runs in its own process with the same initial weights and batches;
the first step (warm-up, and for `compiled` the compilation: its "compile s") is not timed.
  plain     every op on every edge in NCHW, each with its own ReLU
  ours      autoreid's supernet, eager: channels-last tensors, `none` not run, one ReLU per edge
  compiled  ours through torch.compile (inductor; CUDA graphs on a GPU), as `compile: on` runs it
ops/iter: the operators the host dispatches in one iteration (torch.profiler: aten ops not inside
another, and inductor's fused kernels), the figure that bounds an eager step on a large GPU.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import GIB, in_child, peak_bytes  # noqa: E402

SIZES = {"paper": (32, (2, 2, 2, 2), 384, 128), "half": (16, (2, 2, 2, 2), 192, 64),
         "tiny": (8, (1, 1, 1, 1), 64, 32)}
METHODS = ("plain", "ours", "compiled")
PAPER = Path(__file__).resolve().parents[1] / "params" / "paper.yaml"  # the paper's search


def host_ops(fn) -> int:
    """The operators the host dispatches running `fn`: aten ops not inside another, and inductor's
    fused kernels (recorded with `cpp.enable_kernel_profile`)."""
    from torch.profiler import ProfilerActivity, profile

    def counted(e) -> bool:
        return e.name.startswith("aten::") or "_fused_" in e.name

    def top(e) -> bool:
        parent = e.cpu_parent
        while parent is not None:
            if counted(parent):
                return False
            parent = parent.cpu_parent
        return True

    with profile(activities=[ProfilerActivity.CPU]) as prof:
        fn()
    return sum(1 for e in prof.events() if counted(e) and top(e))


def run_one(method: str, size: str, steps: int, device: str = "cpu") -> dict:
    import torch

    from autoreid import optim
    from autoreid.compiled import compiled
    from autoreid.config import resolve
    from autoreid.models.build import ArchSpec, build
    from autoreid.search.step import search_step

    C, layers, height, width = SIZES[size]
    cfg = resolve("search", PAPER, overrides=dict(
        space="reid", loss="retrieval", C=C, layers=layers, height=height, width=width, P=4, K=4))
    torch.manual_seed(0)
    model = build(ArchSpec("supernet", 751, C, cfg.layers, space="reid"))
    layout = torch.channels_last
    if method == "plain":
        from darts_supernet import PlainSupernet

        plain = PlainSupernet("reid", C, cfg.layers)
        plain.load_state_dict(model.backbone.state_dict())
        model.backbone, layout = plain, torch.contiguous_format
    model = model.to(device, memory_format=layout)
    if method == "compiled":
        import torch._inductor.config

        torch._inductor.config.cpp.enable_kernel_profile = True  # its kernels in the op count
    net = compiled(model, torch.device(device), method == "compiled")
    w_params = model.backbone.weight_parameters() + list(model.head.parameters())
    w_opt = optim.SGD(w_params, cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    a_opt = optim.Adam(model.backbone.arch_parameters(), cfg.alpha_lr,
                       betas=cfg.alpha_betas, weight_decay=cfg.alpha_weight_decay)
    gen = torch.Generator().manual_seed(1)
    labels = torch.arange(cfg.P).repeat_interleave(cfg.K).to(device)
    cuda = device.startswith("cuda")

    def batch():
        x = torch.randn(cfg.P * cfg.K, 3, height, width, generator=gen)
        return x.to(device).contiguous(memory_format=layout), labels

    def sync():
        if cuda:
            torch.cuda.synchronize()

    t0 = time.perf_counter()
    search_step(net, cfg, w_params, w_opt, a_opt, batch(), batch(), cfg.lr)  # warm-up (compile)
    sync()
    warm_up = time.perf_counter() - t0
    tb, vb = batch(), batch()
    ops = host_ops(lambda: search_step(net, cfg, w_params, w_opt, a_opt, tb, vb, cfg.lr))
    batches = [(batch(), batch()) for _ in range(steps)]  # drawn before the clock starts
    sync()
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for tb, vb in batches:
        search_step(net, cfg, w_params, w_opt, a_opt, tb, vb, cfg.lr)
    sync()
    seconds = (time.perf_counter() - t0) / steps
    peak = torch.cuda.max_memory_allocated() if cuda else peak_bytes()
    return {"seconds_per_step": seconds, "images_per_s": 2 * cfg.P * cfg.K / seconds,
            "ops_per_step": ops, "warm_up_s": warm_up, "peak_bytes": peak}


def measure(size: str = "paper", steps: int = 2, threads: int | None = None,
            device: str = "cpu", methods=METHODS) -> dict:
    """{method: {seconds_per_step, images_per_s, ops_per_step, warm_up_s, peak_bytes}}; on CUDA
    the peak is the GPU's allocated memory."""
    os.environ["OMP_NUM_THREADS"] = str(threads or os.cpu_count())
    return {m: in_child(__file__, m, size, steps, device) for m in methods}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(run_one(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=SIZES, default="paper")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:n]")
    ap.add_argument("--methods", default=",".join(METHODS), help="comma-separated, of " + ", ".join(METHODS))
    a = ap.parse_args()
    t0 = time.time()
    results = measure(a.size, a.steps, a.threads, a.device, a.methods.split(","))
    C, layers, height, width = SIZES[a.size]
    print(f"search step (first order), C={C}, l={list(layers)}, {height}x{width}, 2 batches of 16, "
          f"{a.threads} threads, {a.device}, {a.steps} timed steps ({time.time() - t0:.0f} s in all)")
    print(f"{'supernet':<10}{'s/iter':>9}{'images/s':>10}{'vs ours':>9}{'ops/iter':>10}"
          f"{'first step s':>14}{'peak GiB':>10}")
    base = results.get("ours", {}).get("images_per_s")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<10}  failed: {r['error']}")
            continue
        ratio = f"{r['images_per_s'] / base:.2f}x" if base else "-"
        print(f"{name:<10}{r['seconds_per_step']:>9.3f}{r['images_per_s']:>10.1f}{ratio:>9}"
              f"{r['ops_per_step']:>10}{r['warm_up_s']:>14.1f}{r['peak_bytes'] / GIB:>10.2f}")


if __name__ == "__main__":
    main()
