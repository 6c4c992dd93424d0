"""The fast image store: a prepared benchmark packed once into one HDF5 file.

Two formats (`autoreid data pack --format`):
- `raw`: uint8 arrays already resized to the network's input (N x 3 x H x W, one chunk per
  image): reading is a memory copy, no decoding at all;
- `encoded`: each image file's bytes as they are on disk (JPEG/PNG): small, decoded on read.
The rows carry the manifest's paths, pids, camids and splits; a store whose rows differ from the
manifest it is used with is refused (rebuild it). Each DataLoader worker opens its own handle.
"""
from __future__ import annotations

import io
import os
from pathlib import Path

import h5py
import numpy as np

from autoreid.data.images import decode
from autoreid.data.manifest import Record
from autoreid.errors import UserError
from autoreid.io import atomic_path

FORMATS = ("raw", "encoded")


def pack(records: list[Record], out: str | Path, fmt: str, height: int, width: int,
         progress=None) -> None:
    if fmt not in FORMATS:
        raise UserError(f"store format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    n = len(records)
    with atomic_path(out) as tmp, h5py.File(tmp, "w") as f:
        f.attrs.update(format=fmt, height=height, width=width, count=n)
        # keyed by the path from the store's folder: a clone or a DVC experiment's copy of the
        # repository, elsewhere on disk, reads the same store
        f.create_dataset("paths", data=[_key(r.path, out) for r in records],
                         dtype=h5py.string_dtype("utf-8"))
        f.create_dataset("pids", data=np.array([r.pid for r in records], np.int64))
        f.create_dataset("camids", data=np.array([r.camid for r in records], np.int64))
        f.create_dataset("splits", data=[r.split for r in records], dtype=h5py.string_dtype("utf-8"))
        if fmt == "raw":
            images = f.create_dataset("images", (n, 3, height, width), np.uint8,
                                      chunks=(1, 3, height, width))
        else:
            images = f.create_dataset("images", (n,), h5py.vlen_dtype(np.uint8))
        for i, r in enumerate(records):
            if fmt == "raw":
                images[i] = decode(r.path, height, width)
            else:
                data = Path(r.path).read_bytes() if Path(r.path).is_file() else b""
                decode(io.BytesIO(data) if data else r.path, 8, 8, name=r.path)  # corrupt: refuse now
                images[i] = np.frombuffer(data, np.uint8)
            if progress is not None:
                progress(i + 1, n)


def _key(image: str, store: str | Path) -> str:
    return os.path.relpath(Path(image).resolve(), Path(store).resolve().parent)


class StoreSource:
    """Images of `records` read from a store; resized on read when the store's size differs."""

    def __init__(self, store: str | Path, records: list[Record], height: int, width: int):
        self.path, self.height, self.width = str(store), height, width
        if not Path(store).is_file():
            raise UserError(f"{store}: image store not found (run `autoreid data pack`)")
        try:
            with h5py.File(store, "r") as f:
                paths = [p.decode() for p in f["paths"][()]]
                self.format = f.attrs["format"]
                self.size = (int(f.attrs["height"]), int(f.attrs["width"]))
        except (OSError, KeyError):
            raise UserError(f"{store}: not an autoreid image store") from None
        row = {p: i for i, p in enumerate(paths)}
        keys = [_key(r.path, store) for r in records]
        if not all(k in row for k in keys):  # a store written with absolute paths
            keys = [r.path for r in records]
        missing = [r.path for r, k in zip(records, keys) if k not in row]
        if missing:
            raise UserError(f"{store}: stale store, {len(missing)} image(s) of the manifest are not in "
                            f"it (first: {missing[0]}); rebuild it with `autoreid data pack`")
        self.rows = np.array([row[k] for k in keys], np.int64)
        self._file, self._pid = None, None

    def __len__(self) -> int:
        return len(self.rows)

    def _images(self):
        if self._file is None or self._pid != os.getpid():  # one handle per worker process
            self._file, self._pid = h5py.File(self.path, "r"), os.getpid()
        return self._file["images"]

    def read(self, index: list[int]) -> np.ndarray:
        uniq, inverse = np.unique(self.rows[index], return_inverse=True)  # h5py wants sorted rows
        images = self._images()
        if self.format == "raw":  # row by row: faster than h5py's fancy indexing
            data = np.stack([images[r] for r in uniq])
            if self.size != (self.height, self.width):
                data = np.stack([_resize(a, self.height, self.width) for a in data])
        else:
            data = np.stack([decode(io.BytesIO(images[r].tobytes()), self.height, self.width,
                                    name=f"{self.path}[{r}]") for r in uniq])
        return data[inverse]

    def __getstate__(self):  # workers reopen the file themselves
        return {**self.__dict__, "_file": None, "_pid": None}


class FolderSource:
    """Images decoded from their files one by one."""

    def __init__(self, records: list[Record], height: int, width: int):
        self.paths, self.height, self.width = [r.path for r in records], height, width

    def __len__(self) -> int:
        return len(self.paths)

    def read(self, index: list[int]) -> np.ndarray:
        return np.stack([decode(self.paths[i], self.height, self.width) for i in index])


def _resize(chw: np.ndarray, height: int, width: int) -> np.ndarray:
    from PIL import Image

    im = Image.fromarray(chw.transpose(1, 2, 0)).resize((width, height), Image.BILINEAR)
    return np.asarray(im, dtype=np.uint8).transpose(2, 0, 1)
