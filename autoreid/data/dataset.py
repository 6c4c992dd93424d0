"""Labelled image sets for training and search: decoded once, batched by index."""
from __future__ import annotations

import torch

from autoreid.data.images import augment, load_images, normalize
from autoreid.data.manifest import Record, relabel


class ImageSet:
    def __init__(self, records: list[Record], height: int, width: int, pad: int = 0):
        self.records = records
        self.labels, self.num_classes = relabel(records)
        self.label_tensor = torch.tensor(self.labels)
        self.images = load_images([r.path for r in records], height, width)
        self.pad = pad

    def __len__(self) -> int:
        return len(self.records)

    def batch(self, index: list[int], generator: torch.Generator | None = None
              ) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised float images and labels; augmented when a generator is given."""
        x = self.images[index]
        if generator is not None:
            x = augment(x, generator, self.pad)
        return normalize(x), self.label_tensor[index]
