"""Training-loader throughput: the HDF5 image store (raw arrays, encoded bytes) against decoding
the image files one by one, at the paper's input size with DataLoader workers.

    python benchmarks/loader.py [--images 2000] [--workers 2] [--height 384 --width 128]

Prints images/s for each source and the ratio to decoding files. Builds a synthetic
Market-1501 tree (128x64 JPEGs, like the real one) in a temporary folder.
"""
from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch

from autoreid.config import resolve
from autoreid.data.dataset import ImageSet
from autoreid.data.manifest import read_manifest, write_manifest
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000, help="about this many training images")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--height", type=int, default=384)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--batches", type=int, default=40)
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


if __name__ == "__main__":
    main()
