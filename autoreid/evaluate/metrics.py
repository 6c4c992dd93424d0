"""CMC, mAP and mINP with the Market-1501 protocol, in bounded memory.

Protocol: for each query, gallery images of the same identity *and* the same camera are ignored
(as are gallery images with pid -1, "junk"); the true matches are gallery images of the same
identity from another camera; distractors (pid 0) never match. Queries without a true match are
skipped. Ties between a match and a non-match rank the non-match first (pessimistic), so the
result does not depend on the order of the gallery.

No row is fully sorted: for query q with sorted match distances m_1 <= ... <= m_n, the j-th match
sits at position j + #{valid non-matches with distance <= m_j}; the counts come from one
`searchsorted` of the row into the n match distances and a histogram. Queries are processed in
chunks so memory stays at a few hundred MB whatever the gallery size.
"""
from __future__ import annotations

import numpy as np
import torch

from autoreid.errors import UserError


def distances(q: torch.Tensor, g: torch.Tensor, metric: str) -> torch.Tensor:
    """Squared Euclidean or cosine distance, (len(q), len(g))."""
    if metric == "cosine":
        return 1.0 - q @ g.t()  # inputs already L2-normalised
    d = q.pow(2).sum(1, keepdim=True) + g.pow(2).sum(1)[None, :] - 2.0 * (q @ g.t())
    return d.clamp_min_(0.0)


def _chunk_positions(d: torch.Tensor, match: torch.Tensor, valid: torch.Tensor):
    """Positions (1-based ranks) of every true match of each query, padded with +inf."""
    n_match = match.sum(1)
    k = max(int(n_match.max()), 1)
    inf = torch.tensor(float("inf"), dtype=d.dtype)
    match_d = torch.where(match, d, inf).topk(k, dim=1, largest=False).values  # sorted ascending
    negative = valid & ~match
    idx = torch.searchsorted(match_d.contiguous(), d.contiguous(), side="left")
    idx = torch.where(negative, idx, torch.full_like(idx, k))
    counts = torch.zeros(d.shape[0], k + 1, dtype=torch.int64).scatter_add_(
        1, idx, torch.ones_like(idx))
    neg_before = counts.cumsum(1)[:, :k]
    order = torch.arange(1, k + 1)[None, :]
    pos = (neg_before + order).double()
    pos[order > n_match[:, None]] = float("inf")
    return pos, n_match


def evaluate(qf: np.ndarray, q_pids: np.ndarray, q_camids: np.ndarray, gf: np.ndarray,
             g_pids: np.ndarray, g_camids: np.ndarray, metric: str = "euclidean",
             max_rank: int = 50, chunk_bytes: int = 256 << 20, distance=None) -> dict:
    """`distance(start, stop)`, when given, supplies the distances of queries start..stop to the
    gallery (re-ranking); otherwise they are computed from the features with `metric`."""
    if metric not in ("euclidean", "cosine"):
        raise UserError(f"unknown metric {metric!r} (euclidean or cosine)")
    q = torch.as_tensor(np.ascontiguousarray(qf), dtype=torch.float32)
    g = torch.as_tensor(np.ascontiguousarray(gf), dtype=torch.float32)
    if metric == "cosine":
        q = torch.nn.functional.normalize(q, dim=1)
        g = torch.nn.functional.normalize(g, dim=1)
    qp, qc = torch.as_tensor(q_pids), torch.as_tensor(q_camids)
    gp, gc = torch.as_tensor(g_pids), torch.as_tensor(g_camids)
    rows = min(max(1, chunk_bytes // (g.shape[0] * 24)), q.shape[0])
    ap, inp, first = [], [], []
    for s in range(0, q.shape[0], rows):
        stop = min(s + rows, q.shape[0])
        d = distances(q[s:stop], g, metric) if distance is None else distance(s, stop)
        same_id = qp[s:stop, None] == gp[None, :]
        same_cam = qc[s:stop, None] == gc[None, :]
        valid = ~(same_id & same_cam) & (gp[None, :] != -1)
        match = same_id & ~same_cam & valid
        has = match.any(1)
        if not has.any():
            continue
        pos, n = _chunk_positions(d[has], match[has], valid[has])
        j = torch.arange(1, pos.shape[1] + 1, dtype=torch.float64)[None, :]
        ap.append(torch.where(torch.isfinite(pos), j / pos, 0.0).sum(1) / n)
        inp.append(n / pos.gather(1, (n - 1)[:, None]).squeeze(1))
        first.append(pos[:, 0])
    if not ap:
        raise UserError("evaluate: no query has a true match in the gallery "
                        "(same identity, other camera); check pids and camids")
    ap, inp, first = torch.cat(ap), torch.cat(inp), torch.cat(first)
    cmc = [(first <= r).double().mean().item() for r in range(1, max_rank + 1)]
    return {"mAP": ap.mean().item(), "mINP": inp.mean().item(),
            "rank1": cmc[0], "rank5": cmc[min(4, max_rank - 1)], "rank10": cmc[min(9, max_rank - 1)],
            "cmc": cmc, "num_query": int(q.shape[0]), "num_valid_query": int(ap.numel()),
            "num_gallery": int(g.shape[0]), "metric": metric}
