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

from autoreid.data.dataset import ImageSet
from autoreid.data.manifest import read_manifest, write_manifest
from autoreid.data.market1501 import load_market1501
from autoreid.data.sampler import PKSampler
from autoreid.data.store import pack
from autoreid.data.synth.market import SynthMarketConfig, write_market


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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--images", type=int, default=2000, help="about this many training images")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--height", type=int, default=384)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--batches", type=int, default=40)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        ids = max(16, a.images // 10)
        write_market(tmp / "raw", SynthMarketConfig(train_ids=ids, test_ids=2, images_per_camera=(2, 3),
                                                     cameras_per_id=(3, 5)))
        write_manifest(load_market1501(tmp / "raw"), tmp / "manifest.csv")
        records = [r for r in read_manifest(tmp / "manifest.csv") if r.split == "train"]
        rows = []
        t0 = time.perf_counter()
        pack(records, tmp / "raw.h5", "raw", a.height, a.width)
        t_raw = time.perf_counter() - t0
        t0 = time.perf_counter()
        pack(records, tmp / "encoded.h5", "encoded", a.height, a.width)
        t_enc = time.perf_counter() - t0
        for workers in sorted({a.workers, 0}, reverse=True):
            for name, store in (("files (decode one by one)", None),
                                ("store: encoded bytes", "encoded.h5"), ("store: raw uint8", "raw.h5")):
                data = ImageSet(records, a.height, a.width, pad=10,
                                store=str(tmp / store) if store else None, workers=workers)
                rows.append((name, workers, throughput(data, a.batches)))
        size = {n: (tmp / f"{n}.h5").stat().st_size / 2**20 for n in ("raw", "encoded")}
    print(f"training loader, {len(records)} images (128x64 JPEG) -> {a.height}x{a.width}, P16xK4 "
          "batches, flip + pad/crop drawn in the main process and applied where the images are read")
    print(f"{'source':<28}{'workers':>8}{'images/s':>10}{'vs files':>10}")
    base = {w: ips for name, w, ips in rows if name.startswith("files")}
    for name, workers, ips in rows:
        print(f"{name:<28}{workers:>8}{ips:>10.0f}{ips / base[workers]:>9.2f}x")
    print(f"store sizes: raw {size['raw']:.0f} MiB (packed in {t_raw:.1f} s), "
          f"encoded {size['encoded']:.0f} MiB (packed in {t_enc:.1f} s)")


if __name__ == "__main__":
    main()
