"""A synthetic ImageNet-layout folder for the tiny profile's "ImageNet init": `train/<class>/*.JPEG`
with a few classes of textures and shapes (stripes at an angle, checks, rings, blobs, triangles,
noise), each in random colours, positions and scales. Deterministic from the seed."""
from __future__ import annotations

import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from autoreid.io import publish_dir, write_yaml

KINDS = ("stripes", "checks", "rings", "blobs", "triangles", "dots", "waves", "noise")


@dataclass(frozen=True)
class SynthImageNetConfig:
    classes: int
    images_per_class: int
    size: int
    seed: int


def _texture(kind: str, angle: float, rng: np.random.Generator, size: int) -> Image.Image:
    bg, fg = (tuple(int(v) for v in rng.integers(0, 256, 3)) for _ in range(2))
    img = Image.new("RGB", (size, size), bg)
    d = ImageDraw.Draw(img)
    period = rng.uniform(0.12, 0.3) * size
    if kind in ("stripes", "waves"):
        yy, xx = np.mgrid[0:size, 0:size]
        t = xx * np.cos(angle) + yy * np.sin(angle)
        if kind == "waves":
            t = t + 0.15 * size * np.sin(2 * np.pi * (xx * np.sin(angle) - yy * np.cos(angle)) / size)
        mask = (np.sin(2 * np.pi * t / period) > 0)[..., None]
        return Image.fromarray(np.where(mask, np.array(fg), np.array(bg)).astype(np.uint8))
    if kind == "checks":
        yy, xx = np.mgrid[0:size, 0:size] // max(2, int(period))
        mask = ((yy + xx) % 2 == 0)[..., None]
        return Image.fromarray(np.where(mask, np.array(fg), np.array(bg)).astype(np.uint8))
    if kind == "noise":
        return Image.fromarray(rng.integers(0, 256, (size // 4, size // 4, 3), dtype=np.uint8)
                               ).resize((size, size), Image.NEAREST)
    for _ in range(int(rng.integers(2, 6))):
        cx, cy, r = rng.uniform(0, size, 2).tolist() + [rng.uniform(0.1, 0.3) * size]
        if kind == "rings":
            for k in range(3, 0, -1):
                d.ellipse([cx - r * k / 3, cy - r * k / 3, cx + r * k / 3, cy + r * k / 3],
                          fill=fg if k % 2 else bg)
        elif kind == "blobs":
            d.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fg)
        elif kind == "triangles":
            pts = [(cx + r * np.cos(angle + a), cy + r * np.sin(angle + a)) for a in (0, 2.1, 4.2)]
            d.polygon(pts, fill=fg)
        elif kind == "dots":
            for _ in range(8):
                x, y = rng.uniform(0, size, 2)
                d.ellipse([x - 2, y - 2, x + 2, y + 2], fill=fg)
    return img


def write_imagenet(out: str | Path, cfg: SynthImageNetConfig) -> dict:
    out = Path(out)
    rng = np.random.default_rng(cfg.seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for c in range(cfg.classes):  # a class = a pattern kind at a preferred orientation
            kind, angle = KINDS[c % len(KINDS)], np.pi * (c // len(KINDS)) / 4 + rng.uniform(0, 0.3)
            folder = tmp / "train" / f"n{c:08d}"
            folder.mkdir(parents=True)
            for i in range(cfg.images_per_class):
                img = _texture(kind, angle + rng.normal(0, 0.1), rng, cfg.size)
                if rng.random() < 0.5:
                    img = img.filter(ImageFilter.GaussianBlur(rng.uniform(0, 1.0)))
                img.save(folder / f"n{c:08d}_{i}.JPEG", quality=90)
        counts = {"classes": cfg.classes, "images": cfg.classes * cfg.images_per_class}
        write_yaml(tmp / "synth.yaml", {"dataset": "imagenet", "config": asdict(cfg), "counts": counts})
        publish_dir(tmp, out)
    finally:
        if tmp.exists():
            import shutil

            shutil.rmtree(tmp)
    return counts
