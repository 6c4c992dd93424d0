"""Labelled image sets: where the images come from (files or the HDF5 store), batches through a
DataLoader (workers read, the main process augments with its seeded generator)."""
from __future__ import annotations

import itertools
from typing import Iterable, Iterator

import numpy as np
import torch

from autoreid.data.images import PadCrop, normalize
from autoreid.data.manifest import Record, relabel
from autoreid.data.store import FolderSource, StoreSource


class _Images(torch.utils.data.Dataset):
    """A batch of indices (or of (index, *augmentation parameters)) -> uint8 images, read and
    augmented in the worker; `__getitems__` lets a source read a whole batch at once."""

    def __init__(self, source, augmentation):
        self.source, self.augmentation = source, augmentation

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, i: int):
        return self.__getitems__([i])

    def __getitems__(self, batch: list):
        augmented = bool(batch) and isinstance(batch[0], tuple)
        index = [b[0] for b in batch] if augmented else list(batch)
        images = self.source.read(index)
        # in a worker, write straight into shared memory: the batch then crosses to the main
        # process without another copy
        out = torch.empty(images.shape, dtype=torch.uint8)
        if torch.utils.data.get_worker_info() is not None:
            out.share_memory_()
        if augmented:
            self.augmentation.apply(images, [b[1:] for b in batch], out.numpy())
        else:
            out.numpy()[...] = images
        return out, torch.tensor(index)


def _first(batch):
    return batch


class _Augmented:
    """Batches of (index, *augmentation parameters): drawn here, in the main process."""

    def __init__(self, batch_sampler, generator: torch.Generator, augmentation):
        self.batch_sampler, self.generator, self.augmentation = batch_sampler, generator, augmentation

    def __len__(self) -> int:
        return len(self.batch_sampler)

    def __iter__(self):
        for index in self.batch_sampler:
            params = self.augmentation.draw(len(index), self.generator)
            yield [(i, *p) for i, p in zip(index, params)]


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

    def __len__(self) -> int:
        return len(self.records)

    def subset(self, index: list[int]) -> "ImageSet":
        sub = object.__new__(ImageSet)
        sub.__dict__.update(self.__dict__)
        sub.records = [self.records[i] for i in index]
        sub.labels = [self.labels[i] for i in index]
        sub.label_tensor = self.label_tensor[index]
        sub.source = _Subset(self.source, index)
        return sub

    def batches(self, batch_sampler: Iterable[list[int]], generator: torch.Generator | None = None,
                skip: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(normalised images, labels) per batch of indices; augmented when a generator is given.
        `skip` draws the first batches' indices and augmentations without reading their images
        (a run resumed mid-epoch sees the rest of the epoch it would have seen).
        The images live in a ring of two reused buffers: a batch stays valid until the batch after
        next is drawn (clone it to keep it longer)."""
        if generator is not None:
            batch_sampler = _Augmented(batch_sampler, generator, self.augmentation)
        if skip:
            batch_sampler = _Skip(batch_sampler, skip)
        loader = torch.utils.data.DataLoader(  # its own generator: the global one (dropout's) is
            _Images(self.source, self.augmentation), batch_sampler=batch_sampler,  # left alone
            num_workers=self.workers, collate_fn=_first, generator=torch.Generator())
        ring: dict[tuple, list[torch.Tensor]] = {}
        for images, index in loader:  # uint8 crosses processes: 4x less than float
            buffers = ring.setdefault(tuple(images.shape), [])
            buffer = torch.empty(images.shape) if len(buffers) < 2 else buffers.pop(0)
            buffers.append(buffer)
            yield normalize(images, buffer), self.label_tensor[index]


class _Skip:
    def __init__(self, batch_sampler, skip: int):
        self.batch_sampler, self.skip = batch_sampler, skip

    def __len__(self) -> int:
        return max(len(self.batch_sampler) - self.skip, 0)

    def __iter__(self):
        return itertools.islice(iter(self.batch_sampler), self.skip, None)


class _Subset:
    def __init__(self, source, index: list[int]):
        self.source, self.index = source, np.asarray(index)

    def __len__(self) -> int:
        return len(self.index)

    def read(self, index: list[int]) -> np.ndarray:
        return self.source.read(self.index[index].tolist())


def sequential(n: int, batch_size: int) -> list[list[int]]:
    return [list(range(i, min(i + batch_size, n))) for i in range(0, n, batch_size)]
