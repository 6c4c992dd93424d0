"""Market-1501 from its official layout (Zheng et al., 2015).

`Market-1501-v15.09.15/{bounding_box_train,query,bounding_box_test}/PPPP_cCsS_FFFFFF_BB.jpg`:
pid = leading integer, camera = the digit after `c` (1-based on disk, 0-based here). pid -1 is
junk and is dropped everywhere; pid 0 (distractors) stays in the gallery and never matches.
"""
from __future__ import annotations

import re
from pathlib import Path

from autoreid.data.manifest import Record
from autoreid.errors import UserError

FOLDERS = {"train": "bounding_box_train", "query": "query", "gallery": "bounding_box_test"}
NAME = re.compile(r"^(-?\d+)_c(\d+)s\d+_\d+_\d+\.jpg$")
WHERE = ("download Market-1501-v15.09.15.zip (the authors' page is linked in docs/data.md, section "
         "'Real data') and unpack it so that {raw}/Market-1501-v15.09.15/bounding_box_train exists")


def find_root(raw: str | Path) -> Path:
    """The folder holding the three official subfolders: `raw` itself or a child of it."""
    raw = Path(raw)
    if not raw.is_dir():
        raise UserError(f"{raw}: Market-1501 folder not found; " + WHERE.format(raw=raw))
    for cand in [raw, raw / "Market-1501-v15.09.15", *sorted(p for p in raw.iterdir() if p.is_dir())]:
        if all((cand / f).is_dir() for f in FOLDERS.values()):
            return cand
    raise UserError(f"{raw}: not in the Market-1501 layout (expected bounding_box_train/, query/, "
                    "bounding_box_test/); " + WHERE.format(raw=raw))


def load_market1501(raw: str | Path) -> list[Record]:
    root = find_root(raw)
    records = []
    for split, folder in FOLDERS.items():
        for f in sorted((root / folder).iterdir()):
            if f.suffix.lower() != ".jpg":
                continue  # Thumbs.db and friends
            m = NAME.match(f.name)
            if not m:
                raise UserError(f"{f}: file name is not in the Market-1501 form PPPP_cCsS_FFFFFF_BB.jpg")
            pid, cam = int(m.group(1)), int(m.group(2))
            if pid == -1:
                continue
            if cam < 1:
                raise UserError(f"{f}: camera must be 1-based")
            if pid == 0 and split != "gallery":
                raise UserError(f"{f}: distractor (pid 0) outside the gallery")
            records.append(Record(str(f), pid, cam - 1, split))
    for split in FOLDERS:
        if not any(r.split == split for r in records):
            raise UserError(f"{root / FOLDERS[split]}: no images")
    return records
