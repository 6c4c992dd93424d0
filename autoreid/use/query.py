"""`autoreid query`: a folder of person crops ranked against query images by a trained network —
the distances `evaluate` ranks by (no camera filter: a gallery folder has no labels). The
gallery's features are cached in an HDF5 file keyed by the model's digest and each image file's
digest: a second query embeds only the images that are new or changed."""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import h5py
import numpy as np
import torch

from autoreid.errors import UserError
from autoreid.io import atomic_path
from autoreid.runtime import file_digest
from autoreid.use.model import Model

IMAGES = (".jpg", ".jpeg", ".png", ".bmp")


def image_files(folder: str | Path, what: str) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"{folder}: {what} folder not found")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGES and p.is_file())
    if not files:
        raise UserError(f"{folder}: no images ({', '.join(IMAGES)}) in the {what} folder")
    return files


def default_cache(gallery: str | Path, model_digest: str) -> Path:
    root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "autoreid" / "galleries"
    key = hashlib.sha256(str(Path(gallery).resolve()).encode()).hexdigest()[:16]
    return root / f"{key}-{model_digest}.h5"


def _digest(path: Path) -> str:
    return hashlib.blake2b(path.read_bytes(), digest_size=16).hexdigest()


def _read_cache(path: Path, model_digest: str, feature: str) -> dict[str, np.ndarray]:
    """digest -> feature row of a cache made by this model (anything else: an empty cache)."""
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("model") != model_digest or f.attrs.get("feature") != feature:
                return {}
            digests = [d.decode() if isinstance(d, bytes) else str(d) for d in f["digests"][()]]
            return dict(zip(digests, f["features"][()]))
    except (OSError, KeyError):
        return {}


def gallery_features(model: Model, files: list[Path], cache: Path, model_digest: str,
                     batch_size: int = 64) -> tuple[np.ndarray, dict]:
    """The features of `files` (in order), from the cache where their digests are in it."""
    digests = [_digest(p) for p in files]
    known = _read_cache(cache, model_digest, model.feature)
    new = [i for i, d in enumerate(digests) if d not in known]
    if new:
        for i, row in zip(new, model.embed([files[i] for i in new], batch_size)):
            known[digests[i]] = row
        with atomic_path(cache) as tmp, h5py.File(tmp, "w") as f:
            f.attrs.update(model=model_digest, feature=model.feature)
            f.create_dataset("digests", data=list(known), dtype=h5py.string_dtype("utf-8"))
            f.create_dataset("features", data=np.stack(list(known.values())).astype(np.float32))
    features = np.stack([known[d] for d in digests]).astype(np.float32)
    return features, {"cache": str(cache), "reused": len(files) - len(new), "embedded": len(new)}


def query(model: Model, model_path: str | Path, gallery: str | Path, queries: list[Path],
          top: int, metric: str, cache: str | Path | None) -> dict:
    """Query's one entry: each query's `top` nearest gallery images, with their distances."""
    from autoreid.evaluate.metrics import ranking

    if top < 1:
        raise UserError(f"--top {top}: must be >= 1")
    if metric not in ("euclidean", "cosine"):
        raise UserError(f"--metric {metric}: euclidean or cosine")
    files = image_files(gallery, "gallery")
    q = model.embed(queries)  # a bad query image stops the run before the gallery's long part
    digest = file_digest(model_path)
    cache = Path(cache) if cache else default_cache(gallery, digest)
    g, stats = gallery_features(model, files, cache, digest)
    scores = ranking(torch.from_numpy(q), torch.from_numpy(g), metric)
    offset = 1.0 if metric == "cosine" else torch.from_numpy(q).pow(2).sum(1, keepdim=True)
    distances = (scores + offset).clamp_min(0)
    if metric == "euclidean":
        distances = distances.sqrt()
    results = []
    for i, path in enumerate(queries):
        order = np.argsort(scores[i].numpy(), kind="stable")[:top]
        results.append({"query": str(path), "ranked": [
            {"rank": k + 1, "path": str(files[j]), "distance": round(float(distances[i, j]), 6)}
            for k, j in enumerate(order)]})
    return {"model": str(model_path), "model_digest": digest, "gallery": str(gallery),
            "gallery_images": len(files), "metric": metric, "feature": model.feature,
            **stats, "queries": results}
