"""Labelled image sets: where the images come from (files or the HDF5 store), batches through a
DataLoader (workers read and augment with parameters the main process draws from its seeded
generator). One DataLoader per set and mode, kept for the whole run: its workers start once, not
every epoch. For a GPU (`device`), batches cross as uint8 through pinned memory and the reID
pad-crop, the flip and the normalisation run on the device (autoreid.data.on_device)."""
from __future__ import annotations

from typing import Iterable, Iterator

import numpy as np
import torch

from autoreid.data import on_device
from autoreid.data.images import PadCrop, normalize
from autoreid.data.manifest import Record, relabel
from autoreid.data.store import FolderSource, StoreSource


class _Images(torch.utils.data.Dataset):
    """A batch of indices (or of (index, *augmentation parameters)) -> uint8 images, read and
    augmented in the worker; `__getitems__` lets a source read a whole batch at once."""

    def __init__(self, source, augmentation, here: bool = True):
        """`here`: augment in the worker (else the batch carries its parameters, B x 3, to the
        device)."""
        self.source, self.augmentation, self.here = source, augmentation, here

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int):
        return self.__getitems__([i])

    def __getitems__(self, batch: list):
        augmented = bool(batch) and isinstance(batch[0], tuple)
        index = [b[0] for b in batch] if augmented else list(batch)
        params = [b[1:] for b in batch] if augmented else None
        # in a worker, write straight into shared memory: the batch then crosses to the main
        # process without another copy
        out = torch.empty((len(index), 3, self.source.height, self.source.width), dtype=torch.uint8)
        if torch.utils.data.get_worker_info() is not None:
            out.share_memory_()
        if params and self.here and hasattr(self.augmentation, "read") and hasattr(self.source, "paths"):
            paths = [self.source.paths[i] for i in index]  # from the files: cut, then resize
            self.augmentation.read(paths, params, self.source.height, self.source.width, out.numpy())
        elif params and self.here:
            self.augmentation.apply(self.source.read(index), params, out.numpy())
        else:
            out.numpy()[...] = self.source.read(index)
        return out, torch.tensor(index), (None if self.here or not params else torch.tensor(params))


def _first(batch):
    return batch


class _Feed:
    """The batch sampler of a kept DataLoader: each pass (an epoch) runs over the batches it was
    last given (`set`), from `skip` on, each batch of (index, *augmentation parameters) when a
    generator draws them (here, in the main process), else of indices."""

    def __init__(self, augmentation):
        self.augmentation, self.batch_sampler, self.generator, self.skip = augmentation, [], None, 0

    def set(self, batch_sampler, generator: torch.Generator | None, skip: int) -> None:
        self.batch_sampler, self.generator, self.skip = batch_sampler, generator, skip

    def __len__(self) -> int:
        return max(len(self.batch_sampler) - self.skip, 0)

    def __iter__(self):
        for k, index in enumerate(self.batch_sampler):
            # drawn for the skipped batches too: the rest of the epoch sees the draws it would have
            params = self.augmentation.draw(len(index), self.generator) if self.generator else None
            if k >= self.skip:
                yield list(index) if params is None else [(i, *p) for i, p in zip(index, params)]


class ImageSet:
    def __init__(self, records: list[Record], height: int, width: int, pad: int = 0,
                 store: str | None = None, workers: int = 0, labels: list[int] | None = None,
                 augmentation=None):
        """`augmentation` (draw, apply) when batches get a generator; default: PadCrop(pad)."""
        self.records = records
        if labels is None:
            labels, self.num_classes = relabel(records)
        else:
            self.num_classes = len(set(labels))
        self.labels = labels
        self.label_tensor = torch.tensor(labels)
        self.pad, self.workers = pad, workers
        self.augmentation = augmentation or PadCrop(pad)
        self.source = (StoreSource(store, records, height, width) if store
                       else FolderSource(records, height, width))
        self._loaders: dict = {}

    def __len__(self) -> int:
        return len(self.records)

    def subset(self, index: list[int]) -> "ImageSet":
        sub = object.__new__(ImageSet)
        sub.__dict__.update(self.__dict__)
        sub.records = [self.records[i] for i in index]
        sub.labels = [self.labels[i] for i in index]
        sub.label_tensor = self.label_tensor[index]
        sub.source = _Subset(self.source, index)
        sub._loaders = {}
        return sub

    def batches(self, batch_sampler: Iterable[list[int]], generator: torch.Generator | None = None,
                skip: int = 0, device: torch.device | None = None
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(normalised images, labels) per batch of indices; augmented when a generator is given.
        `skip` draws the first batches' indices and augmentations without reading their images
        (a run resumed mid-epoch sees the rest of the epoch it would have seen).
        Without `device`: on the CPU, the images in a ring of two reused buffers (a batch stays valid
        until the batch after next is drawn: clone it to keep it longer). With `device`: on it,
        pinned uint8 copied without waiting, the pad-crop (when the augmentation has one), flip and
        normalisation run there; the labels too."""
        loader, feed = self._loader(device)
        feed.set(batch_sampler, generator, skip)
        if device is None:
            return self._on_cpu(loader)
        return self._on(device, loader)

    def _loader(self, device: torch.device | None):
        """The set's DataLoader for `device`'s mode, made once (workers kept between epochs)."""
        mode = None if device is None else device.type
        if mode not in self._loaders:
            here = device is None or not hasattr(self.augmentation, "on_device")
            feed = _Feed(self.augmentation)
            loader = torch.utils.data.DataLoader(  # its own generator: the global one (dropout's) is
                _Images(self.source, self.augmentation, here), batch_sampler=feed,  # left alone
                num_workers=self.workers, collate_fn=_first, generator=torch.Generator(),
                persistent_workers=self.workers > 0, pin_memory=mode == "cuda")
            self._loaders[mode] = loader, feed
        return self._loaders[mode]

    def _on_cpu(self, loader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        ring: dict[tuple, list[torch.Tensor]] = {}
        for images, index, _ in loader:  # uint8 crosses processes: 4x less than float
            buffers = ring.setdefault(tuple(images.shape), [])
            buffer = torch.empty(images.shape) if len(buffers) < 2 else buffers.pop(0)
            buffers.append(buffer)
            yield normalize(images, buffer), self.label_tensor[index]

    def _on(self, device: torch.device, loader) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for images, index, params in loader:
            x = on_device.to_device(images, params, self.pad, device)
            yield x, self.label_tensor[index].to(device, non_blocking=True)


class _Subset:
    def __init__(self, source, index: list[int]):
        self.source, self.index = source, np.asarray(index)
        self.height, self.width = source.height, source.width
        if hasattr(source, "paths"):
            self.paths = [source.paths[i] for i in index]

    def __len__(self) -> int:
        return len(self.index)

    def read(self, index: list[int]) -> np.ndarray:
        return self.source.read(self.index[index].tolist())


def sequential(n: int, batch_size: int) -> list[list[int]]:
    return [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]


def gpu(device: torch.device) -> torch.device | None:
    """The `device` argument of `ImageSet.batches` for a run on `device`: a GPU gets its batches
    made there; the CPU's pipeline stays in the workers and the main process."""
    return device if device.type == "cuda" else None
