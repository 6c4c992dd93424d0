"""The measurements of benchmarks/gpu.py, each on random tensors already on the device unless it
says otherwise: a search iteration (first or second order, eager or compiled, with the host syncs
of one step), retraining, extraction, pre-training, and the input pipeline from an image store."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path

GIB = 2 ** 30
PAPER = Path(__file__).resolve().parents[1] / "params" / "paper.yaml"
SIZES = {
    "paper": dict(search_C=32, search_layers=(2, 2, 2, 2), train_C=64, height=384, width=128, ids=751,
                  P=16, K=4, extract_batch=256, side=224, pretrain_batch=128, store_images=1024),
    "tiny": dict(search_C=4, search_layers=(1, 1, 1, 1), train_C=8, height=64, width=32, ids=16,
                 P=4, K=4, extract_batch=32, side=32, pretrain_batch=16, store_images=128),
}


def clock(device):
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter()


def reset(device):
    import torch

    if device.type == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats(device)


def peak(device) -> float | None:
    import torch

    return torch.cuda.max_memory_allocated(device) / GIB if device.type == "cuda" else None


def timed(device, fn, warm: int, steps: int) -> tuple[float, float, float]:
    """(seconds of the first call, seconds per call after `warm` calls, peak GiB); on the CPU (a
    check of the script) the first call is the only warm-up."""
    warm = warm if device.type == "cuda" else 1
    t0 = clock(device)
    fn()
    first = clock(device) - t0
    for _ in range(warm - 1):
        fn()
    reset(device)
    t0 = clock(device)
    for _ in range(steps):
        fn()
    return first, (clock(device) - t0) / steps, peak(device)


def search_iteration(device, amp: str, size: str, steps: int, order: str = "first",
                     compile: bool = False) -> dict:
    """Seconds per search iteration (an omega and an alpha step on batches of 16), the first
    iteration's seconds (the compilation, when compiled), peak memory, and (eager) the ops of one
    iteration that make the host wait."""
    import torch

    from autoreid import optim
    from autoreid.amp import Precision
    from autoreid.compiled import compiled
    from autoreid.config import resolve
    from autoreid.models.build import ArchSpec, build
    from autoreid.search.step import search_step
    from autoreid.syncs import Syncs

    s = SIZES[size]
    cfg = resolve("search", PAPER, overrides=dict(
        space="reid", loss="retrieval", C=s["search_C"], layers=s["search_layers"], height=s["height"],
        width=s["width"], P=4, K=4, order=order))
    torch.manual_seed(0)
    model = build(ArchSpec("supernet", s["ids"], cfg.C, cfg.layers, space="reid")).to(
        device, memory_format=torch.channels_last).train()
    net = compiled(model, device, compile)
    w_params = model.backbone.weight_parameters() + list(model.head.parameters())
    w_opt = optim.SGD(w_params, cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    a_opt = optim.Adam(model.backbone.arch_parameters(), cfg.alpha_lr, betas=cfg.alpha_betas,
                       weight_decay=cfg.alpha_weight_decay)
    precision = Precision(amp, device)
    labels = torch.arange(cfg.P, device=device).repeat_interleave(cfg.K)
    batches = [torch.randn(cfg.P * cfg.K, 3, s["height"], s["width"], device=device).contiguous(
        memory_format=torch.channels_last) for _ in range(2)]

    def step():
        search_step(net, cfg, w_params, w_opt, a_opt, (batches[0], labels), (batches[1], labels),
                    cfg.lr, precision)

    first, seconds, gib = timed(device, step, 2, steps)
    out = {"seconds": seconds, "first_s": first, "peak": gib, "mode": precision.mode}
    if not compile:  # a dispatch mode does not run compiled code
        with Syncs() as syncs:
            step()
        out["syncs"] = len(syncs.seen)
    return out


def released_cell(device, size: str, classes: int | None = None, head: bool = True):
    import torch

    from autoreid.models.build import arch_spec, build, build_backbone

    s = SIZES[size]
    torch.manual_seed(0)
    spec = arch_spec("BASELINE_REID_SEARCH_SPACE", classes or s["ids"], s["train_C"], (2, 2, 2, 2), 512, 0.5)
    model = build(spec) if head else build_backbone(spec)
    return model.to(device, memory_format=torch.channels_last)


def retraining(device, amp: str, size: str, steps: int) -> dict:
    """Images/s of retraining the released Auto-ReID cell (retrieval loss, Adam), P x K images
    (16 x 4 at the paper's size), and the host syncs of one training step."""
    import torch

    from autoreid import optim
    from autoreid.amp import Precision
    from autoreid.config import resolve
    from autoreid.syncs import Syncs
    from autoreid.train.train import _step

    s = SIZES[size]
    model = released_cell(device, size).train()
    opt = optim.Adam(model.parameters(), 3.5e-4, betas=(0.9, 0.999), weight_decay=5e-4)
    precision = Precision(amp, device)
    cfg = resolve("train", PAPER, overrides=dict(P=s["P"], K=s["K"]))
    y = torch.arange(s["P"], device=device).repeat_interleave(s["K"])
    x = torch.randn(s["P"] * s["K"], 3, s["height"], s["width"], device=device).contiguous(
        memory_format=torch.channels_last)
    _, seconds, gib = timed(device, lambda: _step(model, opt, precision, cfg, x, y, device), 2, steps)
    with Syncs() as syncs:
        _step(model, opt, precision, cfg, x, y, device)
    return {"images_per_s": len(y) / seconds, "peak": gib, "mode": precision.mode,
            "syncs": len(syncs.seen)}


def extraction(device, amp: str, size: str, steps: int) -> dict:
    """Images/s of feature extraction (eval mode, no gradients), batches of 256."""
    import torch

    from autoreid.amp import Precision

    s = SIZES[size]
    model = released_cell(device, size).eval()
    precision = Precision(amp, device)
    x = torch.randn(s["extract_batch"], 3, s["height"], s["width"], device=device).contiguous(
        memory_format=torch.channels_last)

    def extract():
        with torch.no_grad(), precision.autocast():
            model(x)["f"].float()

    _, seconds, gib = timed(device, extract, 2, steps)
    return {"images_per_s": len(x) / seconds, "peak": gib, "mode": precision.mode}


def pretraining(device, amp: str, size: str, steps: int) -> dict:
    """Images/s of ImageNet pre-training the released cell's backbone (1,000 classes, SGD, label
    smoothing) at 224 x 224, batches of 128."""
    import torch

    from autoreid import optim
    from autoreid.amp import Precision
    from autoreid.pretrain import Classifier, _step

    s = SIZES[size]
    backbone = released_cell(device, size, classes=1000, head=False)
    model = Classifier(backbone, 1000).to(device, memory_format=torch.channels_last).train()
    opt = optim.SGD(model.parameters(), 0.1, momentum=0.9, weight_decay=3e-5)
    precision = Precision(amp, device)
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)
    x = torch.randn(s["pretrain_batch"], 3, s["side"], s["side"], device=device).contiguous(
        memory_format=torch.channels_last)
    y = torch.randint(0, 1000, (len(x),), device=device)
    _, seconds, gib = timed(device, lambda: _step(model, opt, precision, loss_fn, x, y), 2, steps)
    return {"images_per_s": len(x) / seconds, "peak": gib, "mode": precision.mode}


def loader(device, size: str, workers: int) -> dict:
    """Images/s delivered into the step from a raw image store, P x K batches, through the pipeline
    a run on `device` uses (on a GPU: uint8 through pinned memory, augmented there); main-process
    ms per batch."""
    import torch

    from autoreid.config import resolve
    from autoreid.data.dataset import ImageSet, gpu
    from autoreid.data.manifest import read_manifest, write_manifest
    from autoreid.data.market1501 import load_market1501
    from autoreid.data.sampler import PKSampler
    from autoreid.data.store import pack
    from autoreid.data.synth.market import write_market
    from loader import delivered

    s = SIZES[size]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ids = max(s["P"] + 1, s["store_images"] // 12)
        write_market(tmp / "raw", resolve("synth.market1501", overrides=dict(
            train_ids=ids, test_ids=2, images_per_camera=(2, 3), cameras_per_id=(3, 5))))
        write_manifest(load_market1501(tmp / "raw"), tmp / "manifest.csv")
        records = [r for r in read_manifest(tmp / "manifest.csv") if r.split == "train"]
        pack(records, tmp / "raw.h5", "raw", s["height"], s["width"])
        data = ImageSet(records, s["height"], s["width"], pad=10, store=str(tmp / "raw.h5"),
                        workers=workers)
        sampler = PKSampler(data.labels, s["P"], s["K"], torch.Generator().manual_seed(0))
        ips, ms = delivered(data, sampler, len(sampler), gpu(device))
    return {"images_per_s": ips, "main_ms": ms, "images": len(records)}
