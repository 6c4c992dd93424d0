"""The search split (Alg. 1, §4.2): the official training set split by image, at random
(seeded), into D_train and D_val. Written with the manifest's columns, split in {train, val}."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from autoreid.data.manifest import Record
from autoreid.errors import UserError


@dataclass(frozen=True)
class SplitConfig:
    fraction: float  # share of the training images in D_train
    seed: int


def search_split(train: list[Record], fraction: float, seed: int) -> list[Record]:
    if not 0 < fraction < 1:
        raise UserError(f"split: fraction must be in (0, 1), got {fraction}")
    if len(train) < 2:
        raise UserError("split: need at least 2 training images")
    order = np.random.default_rng(seed).permutation(len(train))
    n_train = min(len(train) - 1, max(1, int(round(fraction * len(train)))))
    subset = np.empty(len(train), dtype=object)
    subset[order[:n_train]] = "train"
    subset[order[n_train:]] = "val"
    return [Record(r.path, r.pid, r.camid, str(s)) for r, s in zip(train, subset)]
