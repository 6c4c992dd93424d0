"""One search step (Alg. 1: an omega update on a D_train batch, then an alpha update on a D_val
batch, retrieval objective, reid space): images/s and peak memory of ours against the
straightforward DARTS supernet (benchmarks/darts_supernet.py) at equal settings.

    python benchmarks/search.py [--size paper|half] [--steps 2] [--threads N] [--device cuda]

paper: the paper's search setting, C=32, l=[2,2,2,2], 384x128, batches of 16 (P=4 x K=4), 751
identities. half: C=16 at 192x64, for a quicker look. Each method runs in its own process with
the same initial weights and batches; the first step (warm-up) is not timed.
  ours   autoreid's supernet: channels-last tensors, `none` not run, one ReLU shared per edge
  plain  every op on every edge in NCHW, each with its own ReLU
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

SIZES = {"paper": (32, 384, 128), "half": (16, 192, 64)}
PAPER = Path(__file__).resolve().parents[1] / "params" / "paper.yaml"  # the paper's search


def run_one(method: str, size: str, steps: int, device: str = "cpu") -> dict:
    import torch

    from autoreid.config import resolve
    from autoreid.models.build import ArchSpec, build
    from autoreid.search.step import search_step

    C, height, width = SIZES[size]
    cfg = resolve("search", PAPER, overrides=dict(
        space="reid", loss="retrieval", C=C, layers=(2, 2, 2, 2),
        height=height, width=width, P=4, K=4))
    torch.manual_seed(0)
    model = build(ArchSpec("supernet", 751, C, cfg.layers, space="reid"))
    layout = torch.channels_last
    if method == "plain":
        from darts_supernet import PlainSupernet

        plain = PlainSupernet("reid", C, cfg.layers)
        plain.load_state_dict(model.backbone.state_dict())
        model.backbone, layout = plain, torch.contiguous_format
    model = model.to(device, memory_format=layout)
    w_params = model.backbone.weight_parameters() + list(model.head.parameters())
    w_opt = torch.optim.SGD(w_params, cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    a_opt = torch.optim.Adam(model.backbone.arch_parameters(), cfg.alpha_lr,
                             betas=cfg.alpha_betas, weight_decay=cfg.alpha_weight_decay)
    gen = torch.Generator().manual_seed(1)
    labels = torch.arange(cfg.P).repeat_interleave(cfg.K).to(device)
    cuda = device.startswith("cuda")

    def batch():
        x = torch.randn(cfg.P * cfg.K, 3, height, width, generator=gen)
        return x.to(device).contiguous(memory_format=layout), labels

    search_step(model, cfg, w_params, w_opt, a_opt, batch(), batch(), cfg.lr)  # warm-up
    batches = [(batch(), batch()) for _ in range(steps)]  # drawn before the clock starts
    if cuda:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    for tb, vb in batches:
        search_step(model, cfg, w_params, w_opt, a_opt, tb, vb, cfg.lr)
    if cuda:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - t0) / steps
    peak = torch.cuda.max_memory_allocated() if cuda else peak_bytes()
    return {"seconds_per_step": seconds, "images_per_s": 2 * cfg.P * cfg.K / seconds,
            "peak_bytes": peak}


def measure(size: str = "paper", steps: int = 2, threads: int | None = None,
            device: str = "cpu") -> dict:
    """{"plain"/"ours": {seconds_per_step, images_per_s, peak_bytes}}; on CUDA the peak is the
    GPU's allocated memory."""
    os.environ["OMP_NUM_THREADS"] = str(threads or os.cpu_count())
    return {m: in_child(__file__, m, size, steps, device) for m in ("plain", "ours")}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        print(json.dumps(run_one(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])))
        return
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=SIZES, default="paper")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", help="cpu or cuda[:n]")
    a = ap.parse_args()
    results = measure(a.size, a.steps, a.threads, a.device)
    C, height, width = SIZES[a.size]
    print(f"search step, C={C}, l=[2,2,2,2], {height}x{width}, 2 batches of 16, "
          f"{a.threads} threads, {a.device}")
    print(f"{'supernet':<10}{'s/step':>9}{'images/s':>10}{'vs plain':>10}{'peak GiB':>10}")
    base = results["plain"].get("images_per_s")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:<10}  failed: {r['error']}")
            continue
        ratio = f"{r['images_per_s'] / base:.2f}x" if base else "-"
        print(f"{name:<10}{r['seconds_per_step']:>9.2f}{r['images_per_s']:>10.2f}{ratio:>10}"
              f"{r['peak_bytes'] / GIB:>10.2f}")


if __name__ == "__main__":
    main()
