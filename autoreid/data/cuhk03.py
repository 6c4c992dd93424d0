"""CUHK03, new protocol ("CUHK03-NP", Zhong et al. 2017), labeled or detected boxes.

Reads `cuhk03_release/cuhk-03.mat` (MATLAB v7.3 = HDF5, with h5py) and the split file
`cuhk03_new_protocol_config_<kind>.mat` (MATLAB v5, scipy.io.loadmat). The images the split's
`filelist` names (`<pair>_<person>_<view>_<image>.png`) are extracted once from the .mat into the
output folder; camid = the view (0/1) within the person's camera pair; pid = `labels`.
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from autoreid.data.manifest import Record
from autoreid.errors import UserError
from autoreid.io import atomic_path

NAME = re.compile(r"^(\d+)_(\d+)_([12])_(\d+)\.png$")
WHERE = ("CUHK03 is released on request by its authors (see docs/data.md, 'Real data'): put "
         "cuhk03_release/cuhk-03.mat and the new-protocol files "
         "cuhk03_new_protocol_config_{{labeled,detected}}.mat in {raw}")


def _find(raw: Path, name: str) -> Path:
    for cand in (raw / name, raw / "cuhk03_release" / name):
        if cand.is_file():
            return cand
    raise UserError(f"{raw}: {name} not found; " + WHERE.format(raw=raw))


def _split_file(path: Path) -> dict:
    from scipy.io import loadmat

    try:
        mat = loadmat(path)
    except Exception as e:  # noqa: BLE001 — any parse failure is a bad file
        raise UserError(f"{path}: not a readable MATLAB v5 split file ({type(e).__name__})") from None
    missing = [k for k in ("train_idx", "query_idx", "gallery_idx", "labels", "filelist") if k not in mat]
    if missing:
        raise UserError(f"{path}: missing {', '.join(missing)} (not a CUHK03 new-protocol split file)")
    names = [str(np.asarray(x).ravel()[0]) for x in mat["filelist"].ravel()]
    labels = mat["labels"].ravel().astype(np.int64)
    if len(labels) != len(names):
        raise UserError(f"{path}: labels and filelist have different lengths")
    idx = {}
    for key in ("train_idx", "query_idx", "gallery_idx"):
        v = mat[key].ravel().astype(np.int64)
        if len(v) and (v.min() < 1 or v.max() > len(names)):
            raise UserError(f"{path}: {key} must hold 1-based indices into filelist")
        idx[key.split("_")[0]] = v - 1
    return {"names": names, "labels": labels, "idx": idx}


def _extract(mat_path: Path, kind: str, names: list[str], out: Path) -> None:
    """Write the named images of `kind` from the .mat as PNGs under `out` (skips existing ones)."""
    import h5py
    from PIL import Image

    out.mkdir(parents=True, exist_ok=True)
    todo = [n for n in names if not (out / n).is_file()]
    if not todo:
        return
    try:
        f = h5py.File(mat_path, "r")
    except OSError:
        raise UserError(f"{mat_path}: not a MATLAB v7.3 (HDF5) file") from None
    with f:
        if kind not in f:
            raise UserError(f"{mat_path}: no '{kind}' cell array")
        pairs = f[kind][()].ravel()
        for name in todo:
            m = NAME.match(name)
            if not m:
                raise UserError(f"{mat_path}: filelist entry {name!r} is not "
                                "<pair>_<person>_<view>_<image>.png")
            pair, person, _, image = (int(g) for g in m.groups())
            try:
                cell = f[pairs[pair - 1]]
                data = f[cell[image - 1, person - 1]]
            except (IndexError, ValueError, KeyError):
                raise UserError(f"{mat_path}: {kind} has no image for {name}") from None
            if data.ndim != 3 or data.attrs.get("MATLAB_empty", 0):
                raise UserError(f"{mat_path}: {kind} cell for {name} is empty")
            hwc = np.ascontiguousarray(data[()].transpose(2, 1, 0))
            with atomic_path(out / name) as tmp:
                Image.fromarray(hwc).save(tmp, format="PNG")


def load_cuhk03(raw: str | Path, kind: str, out: str | Path) -> list[Record]:
    raw, out = Path(raw), Path(out)
    if not raw.is_dir():
        raise UserError(f"{raw}: CUHK03 folder not found; " + WHERE.format(raw=raw))
    mat = _find(raw, "cuhk-03.mat")
    split = _split_file(_find(raw, f"cuhk03_new_protocol_config_{kind}.mat"))
    images = out / f"images_{kind}"
    _extract(mat, kind, split["names"], images)
    records = []
    for subset in ("train", "query", "gallery"):
        for i in split["idx"][subset]:
            name = split["names"][i]
            view = int(NAME.match(name).group(3)) - 1
            records.append(Record(str(images / name), int(split["labels"][i]), view, subset))
    return records
