"""Heads on a backbone's feature map.

- `ReIDHead` (paper §3.2): global average pool -> f -> dropout -> embedding g (linear + BN) ->
  dropout -> classifier h over the training identities.
- `PCBHead` (Sun et al., ECCV 2018; Table 4): on a backbone without its last down-sampling
  (build_backbone: last stride 1, a 24x8 map at 384x128), the map is cut into 6 horizontal stripes
  (any height, as in the part-aware module), each average-pooled, embedded (1x1 conv 256 + BN +
  ReLU, as a linear layer on the pooled vector) and classified on its own. f = the stripes'
  pooled features concatenated, g = their embeddings concatenated; `logits` has one slice per
  stripe (parts x batch x classes).
"""
from __future__ import annotations

import torch
from torch import nn

from autoreid.space.part_aware import stripe_matrix


class ReIDHead(nn.Module):
    def __init__(self, in_features: int, num_classes: int, embedding: int = 512,
                 dropout: float = 0.5):
        super().__init__()
        self.drop_f = nn.Dropout(dropout)
        self.embedding = nn.Sequential(nn.Linear(in_features, embedding), nn.BatchNorm1d(embedding))
        self.drop_g = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding, num_classes)

    def forward(self, fmap: torch.Tensor) -> dict[str, torch.Tensor]:
        f = fmap.mean(dim=(2, 3))
        g = self.embedding(self.drop_f(f))
        return {"f": f, "g": g, "logits": self.classifier(self.drop_g(g))}


class PCBHead(nn.Module):
    def __init__(self, in_features: int, num_classes: int, parts: int = 6, embedding: int = 256,
                 dropout: float = 0.5):
        super().__init__()
        self.parts = parts
        self.embed = nn.ModuleList(
            nn.Sequential(nn.Linear(in_features, embedding), nn.BatchNorm1d(embedding), nn.ReLU())
            for _ in range(parts))
        self.drop = nn.Dropout(dropout)
        self.classifiers = nn.ModuleList(nn.Linear(embedding, num_classes) for _ in range(parts))

    def forward(self, fmap: torch.Tensor) -> dict[str, torch.Tensor]:
        pool = stripe_matrix(fmap.shape[2], self.parts, 0, fmap)
        stripes = torch.einsum("nchw,ph->npc", fmap, pool) / fmap.shape[3]  # (n, P, C)
        embeds = [e(stripes[:, i]) for i, e in enumerate(self.embed)]
        logits = torch.stack([c(self.drop(x)) for c, x in zip(self.classifiers, embeds)])
        return {"f": stripes.flatten(1), "g": torch.cat(embeds, dim=1), "logits": logits}


HEADS = {"reid": ReIDHead, "pcb": PCBHead}
