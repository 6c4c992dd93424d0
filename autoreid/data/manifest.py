"""The manifest contract, read by every stage after `prepare`: `manifest.csv` with columns
path,pid,camid,split.

pid and camid as in the official data (camid 0-based); split in {train, query, gallery}; path
relative to the manifest's folder (or absolute). Training code relabels train pids 0..N-1.
"""
from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

from autoreid.errors import UserError
from autoreid.io import atomic_path

COLUMNS = ("path", "pid", "camid", "split")
SPLITS = ("train", "query", "gallery")


@dataclass(frozen=True)
class Record:
    path: str  # absolute once read
    pid: int
    camid: int
    split: str


def write_manifest(records: list[Record], path: str | Path) -> None:
    path = Path(path)
    base = path.parent.resolve()
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in records:
            w.writerow([os.path.relpath(Path(r.path).resolve(), base), r.pid, r.camid, r.split])


def read_manifest(path: str | Path, columns: tuple[str, ...] = COLUMNS,
                  splits: tuple[str, ...] = SPLITS) -> list[Record]:
    """Read and validate a manifest (or a split file with the same columns)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: manifest not found (run `autoreid data prepare` first)")
    base = path.parent.resolve()
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader, None)
        if header is None or tuple(header) != columns:
            raise UserError(f"{path}: header must be {','.join(columns)}, got {header}")
        records = []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(columns):
                raise UserError(f"{path}:{line}: expected {len(columns)} fields, got {len(row)}")
            try:
                pid, camid = int(row[1]), int(row[2])
            except ValueError:
                raise UserError(f"{path}:{line}: pid and camid must be integers") from None
            if row[3] not in splits:
                raise UserError(f"{path}:{line}: split {row[3]!r} is not one of {', '.join(splits)}")
            records.append(Record(os.path.normpath(base / row[0]), pid, camid, row[3]))
    if not records:
        raise UserError(f"{path}: no rows")
    return records


def relabel(records: list[Record]) -> tuple[list[int], int]:
    """Train labels 0..N-1 in order of pid; returns (labels, N)."""
    pids = sorted({r.pid for r in records})
    index = {p: i for i, p in enumerate(pids)}
    return [index[r.pid] for r in records], len(pids)
