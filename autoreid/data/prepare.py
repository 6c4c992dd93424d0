"""Prepare's one entry: a benchmark's official layout -> `manifest.csv` (path, pid, camid, split),
every image decoded once on the way (`prepare.bad_images`: a corrupt, truncated or missing image
fails the stage, or is left out with a warning and a count)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from autoreid.errors import UserError


@dataclass(frozen=True)
class PrepareConfig:
    bad_images: str  # fail | skip: what a corrupt, truncated or missing image does to `prepare`


def verify(records: list, policy: str, log) -> list:
    """Decode every image once. policy `fail`: the first corrupt, truncated or missing image is a
    UserError naming it; `skip`: such images are dropped with a warning each and a count."""
    good, bad = [], []
    for i, r in enumerate(records, 1):
        try:
            with Image.open(r.path) as im:
                im.load()
            good.append(r)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as e:
            problem = "not found" if isinstance(e, FileNotFoundError) else f"corrupt ({e})"
            if policy == "fail":
                raise UserError(f"{r.path}: image {problem} (prepare with bad_images: skip to "
                                "leave such images out)") from None
            bad.append(r)
            log(f"warning: {r.path}: image {problem}; skipped")
        if i % 10000 == 0:
            log(f"[verify] {i}/{len(records)} images")
    if bad:
        log(f"warning: skipped {len(bad)} of {len(records)} images as corrupt or missing")
    return good


def prepare(benchmark: str, raw: str | Path, out_dir: str | Path, cfg: PrepareConfig,
            train_only: bool, log) -> dict[str, int]:
    """`benchmark` read from `raw` (CUHK03's images extracted under `out_dir`), verified, and
    written to `out_dir`/manifest.csv; returns the images of each split and the training ids."""
    from autoreid.data.benchmarks import load
    from autoreid.data.manifest import write_manifest

    records = verify(load(benchmark, raw, out_dir, train_only), cfg.bad_images, log)
    write_manifest(records, Path(out_dir) / "manifest.csv")
    counts = {s: sum(r.split == s for r in records) for s in ("train", "query", "gallery")}
    counts["ids"] = len({r.pid for r in records if r.split == "train"})
    return counts
