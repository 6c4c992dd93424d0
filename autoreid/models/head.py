"""Heads on a backbone's feature map.

- `ReIDHead` (paper §3.2): global average pool -> f -> dropout -> embedding g (linear + BN) ->
  dropout -> classifier h over the training identities. With `neck="bnneck"` (Luo et al., "Bag of
  tricks", 2019): pool -> f -> BN (its shift frozen at 0) -> g -> classifier without a bias; the
  triplet loss reads f, the softmax the logits of g, and g is the test feature (`evaluation_feature`).
- `PCBHead` (Sun et al., ECCV 2018; Table 4): on a backbone without its last down-sampling
  (build_backbone: last stride 1, a 24x8 map at 384x128), the map is cut into 6 horizontal stripes
  (any height, as in the part-aware module), each average-pooled, embedded (1x1 conv 256 + BN +
  ReLU, as a linear layer on the pooled vector) and classified on its own. f = the stripes'
  pooled features concatenated, g = their embeddings concatenated; `logits` has one slice per
  stripe (parts x batch x classes).

Either head pools by the mean (`pool="avg"`, the paper's) or by generalised mean pooling
(`pool="gem"`, Radenović et al. 2018: (mean x^p)^(1/p) over each region, p learnt, from 3).
"""
from __future__ import annotations

import torch
from torch import nn

from autoreid.space.part_aware import stripe_matrix


NECKS = ("none", "bnneck")
POOLS = ("avg", "gem")
GEM_P = 3.0  # GeM's starting exponent
GEM_EPS = 1e-6  # GeM's floor under x (a post-ReLU map holds zeros; 0^(1/p) has no gradient)


class GeM(nn.Module):
    """Generalised mean over rows of `weights` (regions x height, summing to 1 a row) and all
    columns: (sum_h w_rh mean_w x^p)^(1/p), p learnt. `weights` None: over the whole map."""

    def __init__(self, p: float = GEM_P):
        super().__init__()
        self.p = nn.Parameter(torch.tensor(float(p)))

    def forward(self, fmap: torch.Tensor, weights: torch.Tensor | None = None) -> torch.Tensor:
        x = fmap.clamp_min(GEM_EPS).pow(self.p)
        pooled = (x.mean(dim=(2, 3)) if weights is None
                  else torch.einsum("nchw,ph->npc", x, weights) / fmap.shape[3])
        return pooled.pow(1.0 / self.p)


def _pool(pool: str) -> nn.Module | None:
    if pool not in POOLS:
        raise ValueError(f"unknown pool {pool!r} (known: {', '.join(POOLS)})")
    return GeM() if pool == "gem" else None


def evaluation_feature(neck: str, configured: str) -> str:
    """The feature a network is tested on: BNNeck's is its BN output g (what the recipe defines),
    any other head's the one `evaluate.feature` names."""
    return "g" if neck == "bnneck" else configured


class ReIDHead(nn.Module):
    def __init__(self, in_features: int, num_classes: int, embedding: int = 512,
                 dropout: float = 0.5, neck: str = "none", pool: str = "avg"):
        super().__init__()
        if neck not in NECKS:
            raise ValueError(f"unknown neck {neck!r} (known: {', '.join(NECKS)})")
        self.neck, self.gem = neck, _pool(pool)
        if neck == "bnneck":  # no embedding layer, no dropout: f -> BN -> g -> classifier
            self.bn = _bnneck(in_features)
            self.classifier = nn.Linear(in_features, num_classes, bias=False)
            return
        self.drop_f = nn.Dropout(dropout)
        self.embedding = nn.Sequential(nn.Linear(in_features, embedding), nn.BatchNorm1d(embedding))
        self.drop_g = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding, num_classes)

    def forward(self, fmap: torch.Tensor) -> dict[str, torch.Tensor]:
        f = fmap.mean(dim=(2, 3)) if self.gem is None else self.gem(fmap)
        if self.neck == "bnneck":
            g = self.bn(f)
            return {"f": f, "g": g, "logits": self.classifier(g)}
        g = self.embedding(self.drop_f(f))
        return {"f": f, "g": g, "logits": self.classifier(self.drop_g(g))}


def _bnneck(features: int) -> nn.BatchNorm1d:
    """BNNeck's BN: its shift frozen at 0 (the classifier after it has no bias either)."""
    bn = nn.BatchNorm1d(features)
    bn.bias.requires_grad_(False)
    return bn


class PCBHead(nn.Module):
    """`neck="bnneck"`: each stripe's pooled feature -> BN -> its classifier (no bias), in place of
    the stripe's embedding (linear + BN + ReLU) and dropout; the triplet loss reads f (the pooled
    stripes), the test feature is g (their BN outputs), as under ReIDHead's."""

    def __init__(self, in_features: int, num_classes: int, parts: int = 6, embedding: int = 256,
                 dropout: float = 0.5, neck: str = "none", pool: str = "avg"):
        super().__init__()
        if neck not in NECKS:
            raise ValueError(f"unknown neck {neck!r} (known: {', '.join(NECKS)})")
        self.parts, self.gem = parts, _pool(pool)
        if neck == "bnneck":
            self.embed = nn.ModuleList(_bnneck(in_features) for _ in range(parts))
            self.drop = nn.Identity()
            self.classifiers = nn.ModuleList(nn.Linear(in_features, num_classes, bias=False)
                                             for _ in range(parts))
            return
        self.embed = nn.ModuleList(
            nn.Sequential(nn.Linear(in_features, embedding), nn.BatchNorm1d(embedding), nn.ReLU())
            for _ in range(parts))
        self.drop = nn.Dropout(dropout)
        self.classifiers = nn.ModuleList(nn.Linear(embedding, num_classes) for _ in range(parts))

    def forward(self, fmap: torch.Tensor) -> dict[str, torch.Tensor]:
        pool = stripe_matrix(fmap.shape[2], self.parts, 0, fmap)
        stripes = (torch.einsum("nchw,ph->npc", fmap, pool) / fmap.shape[3] if self.gem is None
                   else self.gem(fmap, pool))  # (n, P, C)
        embeds = [e(stripes[:, i]) for i, e in enumerate(self.embed)]
        logits = torch.stack([c(self.drop(x)) for c, x in zip(self.classifiers, embeds)])
        return {"f": stripes.flatten(1), "g": torch.cat(embeds, dim=1), "logits": logits}


HEADS = {"reid": ReIDHead, "pcb": PCBHead}
