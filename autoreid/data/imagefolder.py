"""An ImageNet-layout folder: one subfolder per class (`<root>/train/<class>/*` or `<root>/<class>/*`)."""
from __future__ import annotations

import sys
from pathlib import Path

from autoreid.data.manifest import Record
from autoreid.errors import UserError

EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".webp"}


def load_imagefolder(root: str | Path) -> tuple[list[Record], list[str]]:
    """Records (pid = class index, in sorted class-name order) and the class names."""
    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: ImageNet-layout folder not found")
    base = root / "train" if (root / "train").is_dir() else root
    classes = sorted(p.name for p in base.iterdir() if p.is_dir() and not p.name.startswith("."))
    records = []
    for label, name in enumerate(classes):
        for f in sorted((base / name).iterdir()):
            if f.suffix.lower() in EXTENSIONS:
                records.append(Record(str(f), label, 0, "train"))
    if not classes or not records:
        raise UserError(f"{base}: no classes (expected one subfolder of images per class, "
                        "ImageNet layout: train/<class>/<image>.JPEG)")
    if len(classes) < 2:
        raise UserError(f"{base}: only one class; classification pre-training needs at least two")
    empty = sorted(set(classes) - {classes[r.pid] for r in records})
    if empty:
        print(f"warning: {base}: {len(empty)} class folder(s) without images ({', '.join(empty[:5])}"
              f"{', ...' if len(empty) > 5 else ''}); their outputs are never trained",
              file=sys.stderr)
    return records, classes
