"""Losses of §3.2: softmax cross-entropy Ls, batch-hard triplet Lt, retrieval Lret = λLs + (1-λ)Lt."""
from __future__ import annotations

import torch
import torch.nn.functional as F


def softmax_loss(logits: torch.Tensor, labels: torch.Tensor, smoothing: float = 0.0) -> torch.Tensor:
    """Cross-entropy; logits of several parts (parts x batch x classes) average their losses.
    `smoothing` ε: the target is (1 - ε) one-hot + ε / classes (Szegedy et al. 2016)."""
    if logits.dim() == 3:
        return torch.stack([F.cross_entropy(part, labels, label_smoothing=smoothing)
                            for part in logits]).mean()
    return F.cross_entropy(logits, labels, label_smoothing=smoothing)


def pairwise_euclidean(x: torch.Tensor) -> torch.Tensor:
    sq = x.pow(2).sum(dim=1)
    d2 = sq[:, None] + sq[None, :] - 2 * x @ x.t()
    return d2.clamp_min(1e-12).sqrt()


def batch_hard_triplet(features: torch.Tensor, labels: torch.Tensor, margin: float = 0.3) -> torch.Tensor:
    """mean_i max(0, margin + max_{p: y_p = y_i} d(i, p) - min_{n: y_n != y_i} d(i, n)),
    Euclidean distances; anchors with no positive or no negative in the batch are skipped (0 when
    none has both). Every shape is the batch's, whatever the labels: nothing waits for the device
    to say which anchors count."""
    d = pairwise_euclidean(features)
    same = labels[:, None] == labels[None, :]
    eye = torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    pos, neg = same & ~eye, ~same
    valid = pos.any(dim=1) & neg.any(dim=1)
    hardest_pos = d.masked_fill(~pos, float("-inf")).amax(dim=1)
    hardest_neg = d.masked_fill(~neg, float("inf")).amin(dim=1)
    per_anchor = torch.where(valid, F.relu(margin + hardest_pos - hardest_neg), 0.0)
    return per_anchor.sum() / valid.sum().clamp_min(1)


def _fp32(x: torch.Tensor) -> torch.Tensor:
    """bf16/fp16 outputs of autocast -> fp32; fp32 and fp64 as they are."""
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


def objective_loss(out: dict[str, torch.Tensor], labels: torch.Tensor, loss: str,
                   lam: float = 0.5, margin: float = 0.3, feature: str = "f",
                   smoothing: float = 0.0) -> torch.Tensor:
    """`softmax`: Ls only (the "Baseline" search); `retrieval`: Lret = λ Ls + (1-λ) Lt on `feature`;
    Ls with label smoothing `smoothing`. Computed in fp32 (at least) whatever precision the
    network ran in."""
    ls = softmax_loss(_fp32(out["logits"]), labels, smoothing)
    if loss == "softmax":
        return ls
    if loss == "retrieval":
        return lam * ls + (1 - lam) * batch_hard_triplet(_fp32(out[feature]), labels, margin)
    raise ValueError(f"unknown loss {loss!r}")
