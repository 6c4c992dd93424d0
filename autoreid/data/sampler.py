"""Class-balance sampler (§3.2): each batch holds P distinct identities x K images each;
identities with fewer than K images are sampled with replacement."""
from __future__ import annotations

from collections import defaultdict
from typing import Iterator, Sequence

import torch


class PKSampler:
    """Yields lists of P*K indices into `labels`; `len()` batches per epoch (about one pass over
    the images). Deterministic given the torch.Generator."""

    def __init__(self, labels: Sequence[int], P: int, K: int, generator: torch.Generator):
        by_label: dict[int, list[int]] = defaultdict(list)
        for i, y in enumerate(labels):
            by_label[int(y)].append(i)
        self.groups = [torch.tensor(v) for _, v in sorted(by_label.items())]
        if P > len(self.groups):
            raise ValueError(f"P={P} identities per batch but only {len(self.groups)} identities")
        self.P, self.K, self.generator = P, K, generator
        self.batches = max(1, len(labels) // (P * K))

    def __len__(self) -> int:
        return self.batches

    def __iter__(self) -> Iterator[list[int]]:
        g = self.generator
        for _ in range(self.batches):
            batch = []
            for i in torch.randperm(len(self.groups), generator=g)[: self.P].tolist():
                group = self.groups[i]
                if len(group) >= self.K:
                    pick = torch.randperm(len(group), generator=g)[: self.K]
                else:
                    pick = torch.randint(len(group), (self.K,), generator=g)
                batch.extend(group[pick].tolist())
            yield batch
