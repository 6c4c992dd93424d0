"""The paper's setting on one GPU, in fp32 and with mixed precision: a Markdown table of the search
iteration time, retraining and extraction throughput, their peak GPU memory, and the projected
hours of the paper's full search and retraining beside the paper's V100 figure.

    python benchmarks/gpu.py                     # cuda, bf16 (fp16 where the GPU lacks bf16)
    python benchmarks/gpu.py --amp fp16
    python benchmarks/gpu.py --tf32 off          # the fp32 column in full fp32 (default: TF32, as
                                                 # the profiles' `tf32: true`)
    python benchmarks/gpu.py --device cpu --size tiny --steps 2     # checks the script on a CPU

paper size: search at C=32, l=[2,2,2,2], 384x128, batches of 16 (P=4 x K=4, retrieval objective,
ReID space, first order: one iteration = an omega step on a D_train batch + an alpha step on a
D_val batch); retraining the released Auto-ReID cell at C=64, batch 32 (P=8 x K=4); extraction in
batches of 256. 751 identities. The batches are random tensors already on the device, so the
times leave out image decoding (the image store and DataLoader workers overlap it in real runs).
Projections: Market-1501's 12,936 training images; the search split gives each half 6,468, i.e.
404 iterations per epoch, 200 epochs; retraining 404 steps per epoch, 240 epochs. The paper: "about
1 day to finish one searching procedure on a single NVIDIA Tesla V100" (§4.2), ~1.07 s/iteration.
Fits in 8 minutes on one GPU.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

GIB = 2 ** 30
SIZES = {  # search C, retrain C, height, width, identities
    "paper": (32, 64, 384, 128, 751),
    "tiny": (4, 8, 64, 32, 16),
}
MARKET_TRAIN_IMAGES = 12936
SEARCH_EPOCHS, TRAIN_EPOCHS = 200, 240
PAPER_SEARCH_HOURS = 24.0
PAPER = Path(__file__).resolve().parents[1] / "params" / "paper.yaml"  # the paper's search


def _clock(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def _reset(device):
    import torch

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def _peak(device) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated(device) / GIB if device.type == "cuda" else None


def search_iteration(device, amp: str, size: str, steps: int) -> dict:
    """Seconds per search iteration (omega + alpha step) and peak memory."""
    import torch

    from autoreid.amp import Precision
    from autoreid.config import resolve
    from autoreid.models.build import ArchSpec, build
    from autoreid.search.step import search_step

    C, _, h, w, ids = SIZES[size]
    cfg = resolve("search", PAPER, overrides=dict(
        space="reid", loss="retrieval", C=C, layers=(2, 2, 2, 2), height=h,
        width=w, P=4, K=4))
    torch.manual_seed(0)
    model = build(ArchSpec("supernet", ids, C, cfg.layers, space="reid")).to(
        device, memory_format=torch.channels_last)
    w_params = model.backbone.weight_parameters() + list(model.head.parameters())
    w_opt = torch.optim.SGD(w_params, cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    a_opt = torch.optim.Adam(model.backbone.arch_parameters(), cfg.alpha_lr,
                             betas=cfg.alpha_betas, weight_decay=cfg.alpha_weight_decay)
    precision = Precision(amp, device)
    labels = torch.arange(cfg.P, device=device).repeat_interleave(cfg.K)

    def batch():
        x = torch.randn(cfg.P * cfg.K, 3, h, w, device=device)
        return x.contiguous(memory_format=torch.channels_last), labels

    model.train()
    for _ in range(2):  # warm-up: cuDNN autotuning, allocator
        search_step(model, cfg, w_params, w_opt, a_opt, batch(), batch(), cfg.lr, precision)
    batches = [(batch(), batch()) for _ in range(steps)]
    _reset(device)
    t0 = _clock(device)
    for tb, vb in batches:
        search_step(model, cfg, w_params, w_opt, a_opt, tb, vb, cfg.lr, precision)
    seconds = (_clock(device) - t0) / steps
    return {"seconds": seconds, "peak": _peak(device), "mode": precision.mode}


def _released_cell(device, size: str):
    import torch

    from autoreid.models.build import arch_spec, build

    _, C, h, w, ids = SIZES[size]
    torch.manual_seed(0)
    spec = arch_spec("BASELINE_REID_SEARCH_SPACE", ids, C, (2, 2, 2, 2), 512, 0.5)
    return build(spec).to(device, memory_format=torch.channels_last), h, w, ids


def retraining(device, amp: str, size: str, steps: int) -> dict:
    """Images/s of retraining the released Auto-ReID cell (retrieval loss, Adam), batch 32."""
    import torch

    from autoreid.amp import Precision
    from autoreid.losses import objective_loss

    model, h, w, ids = _released_cell(device, size)
    opt = torch.optim.Adam(model.parameters(), 3.5e-4, weight_decay=5e-4)
    precision = Precision(amp, device)
    P, K = 8, 4
    labels = torch.arange(P, device=device).repeat_interleave(K)
    xs = [torch.randn(P * K, 3, h, w, device=device).contiguous(memory_format=torch.channels_last)
          for _ in range(steps + 2)]

    def step(x):
        with precision.autocast():
            out = model(x)
        loss = objective_loss(out, labels, "retrieval")
        opt.zero_grad(set_to_none=True)
        precision.backward(loss)
        precision.step(opt)
        precision.update()

    model.train()
    for x in xs[:2]:
        step(x)
    _reset(device)
    t0 = _clock(device)
    for x in xs[2:]:
        step(x)
    seconds = _clock(device) - t0
    return {"images_per_s": P * K * steps / seconds, "peak": _peak(device),
            "mode": precision.mode}


def extraction(device, amp: str, size: str, steps: int) -> dict:
    """Images/s of feature extraction (eval mode, no gradients), batches of 256."""
    import torch

    from autoreid.amp import Precision

    model, h, w, _ = _released_cell(device, size)
    precision = Precision(amp, device)
    batch = 256 if size == "paper" else 32
    x = torch.randn(batch, 3, h, w, device=device).contiguous(memory_format=torch.channels_last)
    model.eval()
    with torch.no_grad():
        for _ in range(2):
            with precision.autocast():
                model(x)["f"].float()
        _reset(device)
        t0 = _clock(device)
        for _ in range(steps):
            with precision.autocast():
                model(x)["f"].float()
        seconds = _clock(device) - t0
    return {"images_per_s": batch * steps / seconds, "peak": _peak(device),
            "mode": precision.mode}


def _gib(r: dict) -> str:
    return "-" if r.get("peak") is None else f"{r['peak']:.2f}"


def table(device, amp: str, size: str, steps: int, tf32: bool = True) -> str:
    import torch

    runs = {}
    for name, fn, n in (("search", search_iteration, steps), ("train", retraining, 2 * steps),
                        ("extract", extraction, steps)):
        for mode in ("off", amp):
            try:
                runs[name, mode] = fn(device, mode, size, n)
            except torch.cuda.OutOfMemoryError:
                runs[name, mode] = {"error": "out of memory"}
            print(f"[gpu] {name} {mode}: {runs[name, mode]}", file=sys.stderr, flush=True)
    label = runs["search", amp].get("mode", amp)
    fp32 = "fp32 (TF32 matmuls and convolutions)" if tf32 and device.type == "cuda" else "fp32"
    iters = MARKET_TRAIN_IMAGES // 2 // 16 * SEARCH_EPOCHS
    train_images = MARKET_TRAIN_IMAGES // 32 * 32 * TRAIN_EPOCHS
    sC, tC, h, w, _ = SIZES[size]
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
        ("retraining, images/s", *both(("train", "images_per_s"), "{:.0f}".format),
         speedup(("train", "images_per_s"), True), ""),
        ("retraining peak memory, GiB", *[_gib(runs["train", m]) for m in ("off", amp)], "", ""),
        (f"full retraining projected ({TRAIN_EPOCHS} epochs), h",
         *both(("train", "images_per_s"), "{:.1f}".format, lambda r, v: train_images / v / 3600),
         "", ""),
        ("extraction, images/s", *both(("extract", "images_per_s"), "{:.0f}".format),
         speedup(("extract", "images_per_s"), True), ""),
        ("extraction peak memory, GiB", *[_gib(runs["extract", m]) for m in ("off", amp)], "", ""),
    ]
    out = [f"{name}, torch {torch.__version__}; search C={sC}, retraining C={tC}, l=[2,2,2,2], "
           f"{h}x{w}", "",
           f"| | {fp32} | {label} | {label} vs fp32 | paper (V100) |", "|---|---:|---:|---:|---:|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def main() -> None:
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
