"""Training-loader throughput: the HDF5 image store (raw arrays, encoded bytes) against decoding
the image files one by one, at the paper's input size with DataLoader workers; then the batches
delivered into the step and the main process's CPU time per batch, for retraining (384x128, P=16 x
K=4, raw store) with the pad-crop, flip and normalisation in the main process (the CPU pipeline) or
on the device (`device`: the GPU pipeline; on a CPU-only machine the CPU stands in for the device),
and for ImageNet pre-training (224x224, batches of 128, JPEG files of about ImageNet's size) with
the crop cut after squashing the decoded image to 224 or before resizing, from a reduced-scale JPEG
decode.

    python benchmarks/loader.py [--images 2000] [--workers 2] [--height 384 --width 128]
                                [--device cuda] [--imagenet 512]

Prints images/s for each source and the ratio to decoding files. Builds a synthetic
Market-1501 tree (128x64 JPEGs, like the real one) and ImageNet-like JPEGs in a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from autoreid.config import resolve
from autoreid.data.dataset import ImageSet
from autoreid.data.manifest import Record, read_manifest, write_manifest
from autoreid.data.market1501 import load_market1501
from autoreid.data.sampler import PKSampler
from autoreid.data.store import pack
from autoreid.data.synth.market import write_market


def throughput(data: ImageSet, batches: int, P: int = 16, K: int = 4) -> float:
    sampler = PKSampler(data.labels, P, K, torch.Generator().manual_seed(0))
    sampler.batches = batches
    gen = torch.Generator().manual_seed(1)
    it = iter(data.batches(sampler, gen))
    next(it)  # worker start-up is not throughput
    t0, n = time.perf_counter(), 0
    for _, y in it:
        n += len(y)
    return n / (time.perf_counter() - t0)


def measure(images: int = 2000, workers: int = 2, height: int = 384, width: int = 128,
            batches: int = 40) -> dict:
    """{"rows": [(source, workers, images/s)], "images": n, "store_mib": {...}, "pack_s": {...}}"""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ids = max(16, images // 10)
        write_market(tmp / "raw", resolve("synth.market1501", overrides=dict(
            train_ids=ids, test_ids=2, images_per_camera=(2, 3),
            cameras_per_id=(3, 5))))
        write_manifest(load_market1501(tmp / "raw"), tmp / "manifest.csv")
        records = [r for r in read_manifest(tmp / "manifest.csv") if r.split == "train"]
        rows, pack_s = [], {}
        for fmt in ("raw", "encoded"):
            t0 = time.perf_counter()
            pack(records, tmp / f"{fmt}.h5", fmt, height, width)
            pack_s[fmt] = time.perf_counter() - t0
        for w in sorted({workers, 0}, reverse=True):
            for name, store in (("files (decode one by one)", None),
                                ("store: encoded bytes", "encoded.h5"), ("store: raw uint8", "raw.h5")):
                data = ImageSet(records, height, width, pad=10,
                                store=str(tmp / store) if store else None, workers=w)
                rows.append((name, w, throughput(data, batches)))
        size = {n: (tmp / f"{n}.h5").stat().st_size / 2**20 for n in ("raw", "encoded")}
    return {"rows": rows, "images": len(records), "store_mib": size, "pack_s": pack_s}


def delivered(data: ImageSet, sampler, batches: int, device=None) -> tuple[float, float]:
    """(images/s into the step, main-process CPU ms per batch) over `batches` batches (the first,
    worker start-up, not counted); on a GPU, the batch is on the device when the clock reads."""
    it = iter(data.batches(sampler, torch.Generator().manual_seed(1), 0, device))
    next(it)
    wall, cpu, n = time.perf_counter(), time.thread_time(), 0
    for k, (x, y) in enumerate(it):
        if device is not None and device.type == "cuda":
            torch.cuda.synchronize(device)
        n += len(y)
        if k + 2 >= batches:
            break
    wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu
    return n / wall, 1000 * cpu / max(k + 1, 1)


class _Squashed:
    """An image folder read as the old pre-training pipeline did: each file decoded whole and
    squashed to the input size, the crop cut from that (no `paths`: ImageSet applies the crop)."""

    def __init__(self, source):
        self.source, self.height, self.width = source, source.height, source.width

    def __len__(self) -> int:
        return len(self.source)

    def read(self, index):
        return self.source.read(index)


def pipelines(workers: int = 2, batches: int = 20, device: str | None = None,
              imagenet: int = 512) -> list[tuple]:
    """[(pipeline, workers, images/s, main-process ms per batch)]: retraining from a raw store with
    the CPU or the device pipeline; pre-training from JPEG files, squash-then-crop or crop-first."""
    from PIL import Image

    from autoreid.data.resized_crop import ResizedCrop

    target = torch.device(device) if device else torch.device("cpu")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_market(tmp / "raw", resolve("synth.market1501", overrides=dict(
            train_ids=120, test_ids=2, images_per_camera=(2, 3), cameras_per_id=(3, 5))))
        write_manifest(load_market1501(tmp / "raw"), tmp / "manifest.csv")
        records = [r for r in read_manifest(tmp / "manifest.csv") if r.split == "train"]
        pack(records, tmp / "raw.h5", "raw", 384, 128)
        for name, on in (("retrain 384x128, CPU pipeline", None),
                         ("retrain 384x128, device pipeline", target)):
            data = ImageSet(records, 384, 128, pad=10, store=str(tmp / "raw.h5"), workers=workers)
            sampler = PKSampler(data.labels, 16, 4, torch.Generator().manual_seed(0))
            rows.append((name, workers, *delivered(data, sampler, batches, on)))
        rng = np.random.default_rng(0)
        files = []
        for i in range(imagenet):  # ~500x375 photos: smooth colour and texture
            y, x = np.mgrid[0:375, 0:500]
            rgb = np.stack([x * 0.5 + 40 * i % 255, y * 0.6, 128 + 90 * np.sin(x / (9 + i % 17))], -1)
            rgb += rng.normal(0, 12, rgb.shape)
            files.append(tmp / f"n{i}.jpg")
            Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(files[-1], quality=90)
        pre = [Record(str(f), i % 8, 0, "train") for i, f in enumerate(files)]
        for name, squashed in (("pretrain 224, squash then crop", True), ("pretrain 224, crop first", False)):
            data = ImageSet(pre, 224, 224, workers=workers, augmentation=ResizedCrop())
            if squashed:
                data.source = _Squashed(data.source)
            sampler = torch.utils.data.BatchSampler(range(imagenet), 128, drop_last=True)
            rows.append((name, workers, *delivered(data, sampler, batches, target if device else None)))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000, help="about this many training images")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--height", type=int, default=384)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--batches", type=int, default=40)
    ap.add_argument("--device", help="the device pipeline's device (default: the CPU stands in)")
    ap.add_argument("--imagenet", type=int, default=512, help="ImageNet-like JPEGs to read")
    a = ap.parse_args()
    r = measure(a.images, a.workers, a.height, a.width, a.batches)
    print(f"training loader, {r['images']} images (128x64 JPEG) -> {a.height}x{a.width}, P16xK4 "
          "batches, flip + pad/crop drawn in the main process and applied where the images are read")
    print(f"{'source':<28}{'workers':>8}{'images/s':>10}{'vs files':>10}")
    base = {w: ips for name, w, ips in r["rows"] if name.startswith("files")}
    for name, workers, ips in r["rows"]:
        print(f"{name:<28}{workers:>8}{ips:>10.0f}{ips / base[workers]:>9.2f}x")
    size, t = r["store_mib"], r["pack_s"]
    print(f"store sizes: raw {size['raw']:.0f} MiB (packed in {t['raw']:.1f} s), "
          f"encoded {size['encoded']:.0f} MiB (packed in {t['encoded']:.1f} s)")
    print(f"\ninto the step ({a.device or 'cpu standing in for the device'}), {os.cpu_count()} cores")
    print(f"{'pipeline':<36}{'workers':>8}{'images/s':>10}{'main ms/batch':>15}{'images/s/core':>15}")
    for name, workers, ips, ms in pipelines(a.workers, min(a.batches, 20), a.device, a.imagenet):
        print(f"{name:<36}{workers:>8}{ips:>10.0f}{ms:>15.1f}{ips / (workers + 1):>15.0f}")


if __name__ == "__main__":
    main()
