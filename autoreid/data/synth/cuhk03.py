"""Write an embedded synthetic CUHK03 in the official release format.

`cuhk03_release/cuhk-03.mat` is a MATLAB v7.3 file (HDF5 with a 512-byte MATLAB header): groups of
cell arrays `labeled` and `detected`, 5 camera pairs each; a pair is an (identities x 10) cell of
H x W x 3 uint8 images (0-4: first view, 5-9: second), empty cells where a person has fewer
images. Stored the MATLAB way: column-major, so HDF5 sees pair cells as (10, n) and images as
(3, W, H). The new-protocol split files `cuhk03_new_protocol_config_{labeled,detected}.mat` are
MATLAB v5 (scipy.io.savemat) with 1-based `train_idx`, `query_idx`, `gallery_idx`, `labels`,
`camId` and `filelist` (`<pair>_<person in pair, 3 digits>_<view>_<image, 2 digits>.png`).
"`detected`" images are the same people with jittered, differently sized boxes.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import h5py
import numpy as np
from PIL import Image

from autoreid.data.synth.person import draw, sample_camera, sample_identity
from autoreid.io import publish_dir, write_yaml

RELEASE_DIR = "cuhk03_release"
KINDS = ("labeled", "detected")


@dataclass(frozen=True)
class SynthCUHK03Config:
    pairs: int
    train_ids: int
    test_ids: int
    images_per_view: tuple[int, int]
    height: int
    width: int
    difficulty: float
    seed: int


def _matlab_header(path: Path) -> None:
    with open(path, "r+b") as f:
        text = b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created by: autoreid synth HDF5 schema 1.00 ."
        f.write(text.ljust(116) + b"\0" * 8 + b"\x00\x02IM")


def _jitter(img: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A detector's box: shifted, rescaled, a different output size."""
    w, h = img.size
    dx, dy = rng.uniform(-0.12, 0.12) * w, rng.uniform(-0.08, 0.08) * h
    s = rng.uniform(0.9, 1.15)
    box = (dx + w * (1 - s) / 2, dy + h * (1 - s) / 2, dx + w * (1 + s) / 2, dy + h * (1 + s) / 2)
    size = (int(w * rng.uniform(0.85, 1.1)), int(h * rng.uniform(0.85, 1.1)))
    return img.transform(size, Image.EXTENT, box, Image.BILINEAR)


def write_cuhk03(out: str | Path, cfg: SynthCUHK03Config) -> dict:
    out = Path(out)
    rng = np.random.default_rng(cfg.seed)
    n = cfg.train_ids + cfg.test_ids
    owner = rng.integers(cfg.pairs, size=n)  # camera pair of each person
    people = [sample_identity(rng) for _ in range(n)]
    cams = [(sample_camera(rng, cfg.difficulty), sample_camera(rng, cfg.difficulty))
            for _ in range(cfg.pairs)]
    test = set(rng.choice(n, cfg.test_ids, replace=False).tolist())

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        root = tmp / RELEASE_DIR
        root.mkdir()
        files = {k: [] for k in KINDS}  # (name, global label, view, is_test)
        with h5py.File(root / "cuhk-03.mat", "w", userblock_size=512) as f:
            refs_group = f.create_group("#refs#")
            counter = 0

            def store(arr) -> h5py.Reference:
                nonlocal counter
                counter += 1
                d = refs_group.create_dataset(f"r{counter}", data=arr)
                d.attrs["MATLAB_class"] = np.bytes_("uint8" if arr.dtype == np.uint8 else "double")
                if arr.dtype != np.uint8:
                    d.attrs["MATLAB_empty"] = np.uint8(1)
                return d.ref

            empty = store(np.zeros(2, np.uint64))
            top = {k: np.empty((1, cfg.pairs), dtype=h5py.ref_dtype) for k in KINDS}
            for pair in range(cfg.pairs):
                members = [p for p in range(n) if owner[p] == pair]
                cells = {k: np.full((10, max(len(members), 1)), empty, dtype=h5py.ref_dtype)
                         for k in KINDS}
                for j, p in enumerate(members):
                    for view in range(2):
                        count = int(rng.integers(cfg.images_per_view[0], cfg.images_per_view[1] + 1))
                        for k in range(count):
                            img = draw(people[p], cams[pair][view], rng, cfg.height, cfg.width,
                                       cfg.difficulty)
                            slot = view * 5 + k
                            name = f"{pair + 1}_{j + 1:03d}_{view + 1}_{slot + 1:02d}.png"
                            for kind, im in (("labeled", img), ("detected", _jitter(img, rng))):
                                hwc = np.asarray(im, dtype=np.uint8)
                                cells[kind][slot, j] = store(np.ascontiguousarray(hwc.transpose(2, 1, 0)))
                                files[kind].append((name, p + 1, view + 1, p in test))
                for kind in KINDS:
                    d = refs_group.create_dataset(f"pair_{kind}_{pair}", data=cells[kind])
                    d.attrs["MATLAB_class"] = np.bytes_("cell")
                    top[kind][0, pair] = d.ref
            for kind in KINDS:
                f.create_dataset(kind, data=top[kind]).attrs["MATLAB_class"] = np.bytes_("cell")
        _matlab_header(root / "cuhk-03.mat")

        counts = {}
        for kind in KINDS:
            counts[kind] = _write_split(root.parent / f"cuhk03_new_protocol_config_{kind}.mat",
                                        files[kind], rng)
        write_yaml(tmp / "synth.yaml", {"benchmark": "cuhk03", "config": asdict(cfg), "counts": counts})
        publish_dir(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return counts


def _write_split(path: Path, files: list, rng: np.random.Generator) -> dict:
    """New protocol: train = all images of the train identities; query = one image per test
    identity and view; gallery = the other test images."""
    from scipy.io import savemat

    train, query, gallery = [], [], []
    by_person_view: dict = {}
    for i, (_, label, view, is_test) in enumerate(files):
        if is_test:
            by_person_view.setdefault((label, view), []).append(i)
        else:
            train.append(i)
    for idx in by_person_view.values():
        q = int(rng.choice(idx))
        query.append(q)
        gallery.extend(i for i in idx if i != q)
    col = lambda v: np.asarray(sorted(v), dtype=np.float64).reshape(-1, 1) + 1  # noqa: E731
    filelist = np.empty((len(files), 1), dtype=object)
    for i, f in enumerate(files):
        filelist[i, 0] = f[0]
    savemat(path, {"train_idx": col(train), "query_idx": col(query), "gallery_idx": col(gallery),
                   "labels": np.array([[f[1]] for f in files], np.float64),
                   "camId": np.array([[f[2]] for f in files], np.float64), "filelist": filelist})
    return {"train": len(train), "query": len(query), "gallery": len(gallery)}
