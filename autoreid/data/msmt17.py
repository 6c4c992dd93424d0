"""MSMT17 (Wei et al., CVPR 2018), V1 or V2 folder names.

`MSMT17_V1/{train,test}/` (V2: `mask_train_v2/`, `mask_test_v2/`) with list files
`list_{train,val,query,gallery}.txt` of lines `<path relative to the image folder> <pid>`;
camera = the third `_`-separated field of the file name (1-based on disk). By default the
training set is train + val (32,621 images of 1,041 identities: the paper's number).
"""
from __future__ import annotations

from pathlib import Path

from autoreid.data.manifest import Record
from autoreid.errors import UserError

LAYOUTS = (("MSMT17_V1", "train", "test"), ("MSMT17_V2", "mask_train_v2", "mask_test_v2"))
WHERE = ("MSMT17 is released on request by its authors (see docs/data.md, 'Real data'): unpack it "
         "so that {raw}/MSMT17_V1/list_train.txt (or MSMT17_V2/) exists")


def find_root(raw: Path) -> tuple[Path, str, str]:
    if not raw.is_dir():
        raise UserError(f"{raw}: MSMT17 folder not found; " + WHERE.format(raw=raw))
    for top, train_dir, test_dir in LAYOUTS:
        for cand in (raw / top, raw):
            if (cand / train_dir).is_dir() and (cand / "list_train.txt").is_file():
                return cand, train_dir, test_dir
    raise UserError(f"{raw}: not in the MSMT17 layout (expected MSMT17_V1/ with train/, test/ and "
                    "list_*.txt); " + WHERE.format(raw=raw))


def _read_list(path: Path, folder: Path, split: str) -> list[Record]:
    if not path.is_file():
        raise UserError(f"{path}: list file not found; " + WHERE.format(raw=path.parent.parent))
    records = []
    for line_no, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split()
        if len(parts) != 2 or not parts[1].lstrip("-").isdigit():
            raise UserError(f"{path}:{line_no}: expected '<relative path> <pid>', got {line!r}")
        fields = Path(parts[0]).name.split("_")
        if len(fields) < 3 or not fields[2].isdigit() or int(fields[2]) < 1:
            raise UserError(f"{path}:{line_no}: no 1-based camera in the third '_' field of {parts[0]}")
        records.append(Record(str(folder / parts[0]), int(parts[1]), int(fields[2]) - 1, split))
    return records


def load_msmt17(raw: str | Path, train_lists: tuple[str, ...] = ("train", "val")) -> list[Record]:
    root, train_dir, test_dir = find_root(Path(raw))
    records = []
    for name in train_lists:
        records += _read_list(root / f"list_{name}.txt", root / train_dir, "train")
    records += _read_list(root / "list_query.txt", root / test_dir, "query")
    records += _read_list(root / "list_gallery.txt", root / test_dir, "gallery")
    return records
