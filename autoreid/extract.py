"""The features file, the contract between `extract` and `evaluate`: HDF5 with groups `query` and
`gallery`, each holding `features` (float32, N x D), `pids` (int64), `camids` (int64) and `paths`
(utf-8). Written by `extract`, accepted from any model by `evaluate`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import h5py
import numpy as np
import torch

from autoreid.amp import OFF, Precision
from autoreid.data.dataset import ImageSet, sequential
from autoreid.data.manifest import read_manifest
from autoreid.errors import UserError
from autoreid.io import atomic_path

GROUPS = ("query", "gallery")


@dataclass
class FeatureSet:
    features: np.ndarray
    pids: np.ndarray
    camids: np.ndarray
    paths: list[str]


def write_features(path: str | Path, sets: dict[str, FeatureSet], attrs: dict | None = None) -> None:
    with atomic_path(path) as tmp, h5py.File(tmp, "w") as f:
        for name, fs in sets.items():
            g = f.create_group(name)
            g.create_dataset("features", data=np.asarray(fs.features, dtype=np.float32))
            g.create_dataset("pids", data=np.asarray(fs.pids, dtype=np.int64))
            g.create_dataset("camids", data=np.asarray(fs.camids, dtype=np.int64))
            g.create_dataset("paths", data=list(fs.paths), dtype=h5py.string_dtype("utf-8"))
        for k, v in (attrs or {}).items():
            f.attrs[k] = v


def read_features(path: str | Path) -> dict[str, FeatureSet]:
    """Read and check a features file; any deviation from the contract is one clear line."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: features file not found")
    try:
        f = h5py.File(path, "r")
    except OSError:
        raise UserError(f"{path}: not an HDF5 file") from None
    out = {}
    with f:
        dim = None
        for name in GROUPS:
            if name not in f or not isinstance(f[name], h5py.Group):
                raise UserError(f"{path}: missing group '{name}'")
            g = f[name]
            for key in ("features", "pids", "camids", "paths"):
                if key not in g:
                    raise UserError(f"{path}: {name}/{key} is missing")
            feats = g["features"]
            if feats.ndim != 2 or feats.shape[0] == 0 or not np.issubdtype(feats.dtype, np.floating):
                raise UserError(f"{path}: {name}/features must be a non-empty float N x D array")
            n = feats.shape[0]
            if dim is not None and feats.shape[1] != dim:
                raise UserError(f"{path}: query and gallery features have different dimensions "
                                f"({dim} vs {feats.shape[1]})")
            dim = feats.shape[1]
            arrays = {k: g[k][()] for k in ("pids", "camids")}
            for k, a in arrays.items():
                if a.shape != (n,) or not np.issubdtype(a.dtype, np.integer):
                    raise UserError(f"{path}: {name}/{k} must be {n} integers")
            paths = [p.decode() if isinstance(p, bytes) else str(p) for p in g["paths"][()]]
            if len(paths) != n:
                raise UserError(f"{path}: {name}/paths must have {n} entries")
            x = feats[()].astype(np.float32)
            if not np.isfinite(x).all():
                raise UserError(f"{path}: {name}/features contains NaN or inf")
            out[name] = FeatureSet(x, arrays["pids"].astype(np.int64),
                                   arrays["camids"].astype(np.int64), paths)
    return out


@torch.no_grad()
def embed(model: torch.nn.Module, images: ImageSet, feature: str, device: torch.device,
          batch_size: int = 128, precision: Precision = OFF) -> np.ndarray:
    """The model's `feature` of every image, in eval mode, in order; fp32 whatever `precision`
    the network runs in."""
    model.eval()
    chunks = []
    for x, _ in images.batches(sequential(len(images), batch_size)):
        with precision.autocast():
            out = model(x.to(device, memory_format=torch.channels_last))
        chunks.append(out[feature].float().cpu())
    return torch.cat(chunks).numpy()


def pixels(images: ImageSet, batch_size: int = 512) -> np.ndarray:
    """The raw-pixel reference: each image resized and flattened, normalised like a network input."""
    # clone: a batch's buffer is reused two batches later
    return torch.cat([x.flatten(1).clone() for x, _ in images.batches(sequential(len(images), batch_size))]
                     ).numpy()


def extract(manifest: str, encode, out: str, attrs: dict, height: int, width: int,
            store: str | None = None, workers: int = 0) -> dict[str, int]:
    """encode(ImageSet) -> N x D array, for the query and gallery of `manifest`."""
    records = read_manifest(manifest)
    sets = {}
    for name in GROUPS:
        rs = [r for r in records if r.split == name]
        if not rs:
            raise UserError(f"{manifest}: no '{name}' images")
        images = ImageSet(rs, height, width, store=store, workers=workers)
        sets[name] = FeatureSet(encode(images), np.array([r.pid for r in rs]),
                                np.array([r.camid for r in rs]), [r.path for r in rs])
    write_features(out, sets, attrs)
    return {k: len(v.pids) for k, v in sets.items()}
