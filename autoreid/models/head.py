"""The reID head (paper §3.2): backbone feature f -> dropout -> embedding g -> dropout ->
classifier h over the training identities."""
from __future__ import annotations

import torch
from torch import nn


class ReIDHead(nn.Module):
    def __init__(self, in_features: int, num_classes: int, embedding: int = 512,
                 dropout: float = 0.5):
        super().__init__()
        self.drop_f = nn.Dropout(dropout)
        self.embedding = nn.Sequential(nn.Linear(in_features, embedding), nn.BatchNorm1d(embedding))
        self.drop_g = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding, num_classes)

    def forward(self, f: torch.Tensor) -> dict[str, torch.Tensor]:
        g = self.embedding(self.drop_f(f))
        return {"f": f, "g": g, "logits": self.classifier(self.drop_g(g))}
