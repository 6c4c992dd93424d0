"""CMC, mAP and mINP with the Market-1501 protocol, in bounded memory and about one matrix product.

Protocol: for each query, gallery images of the same identity *and* the same camera are ignored
(as are gallery images with pid -1, "junk"); the true matches are gallery images of the same
identity from another camera; distractors (pid 0) never match. Queries without a true match are
skipped. Ties between a match and a non-match rank the non-match first (pessimistic), so the
result does not depend on the order of the gallery.

No row is sorted. For query q with sorted match distances m_1 <= ... <= m_n, the j-th match sits at
position j + #{valid non-matches with distance <= m_j}. Only entries no farther than m_n can count,
so each row is cut at m_n and only the survivors are placed among the n thresholds (one
`searchsorted` for the whole chunk, on integer keys that order rows first and then distances,
exactly as the floats compare); the few ignored entries and the matches themselves are taken out
of those counts from their own short lists. The distances are one matrix product per chunk: the
squared Euclidean distance without the query's own norm, a constant per row that changes no rank.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from autoreid.errors import UserError

BYTES_PER_ENTRY = 40  # scores, the cut mask and, at worst, every entry's key and position


@dataclass(frozen=True)
class EvaluateConfig:
    metric: str  # euclidean | cosine
    feature: str  # f (backbone) | g (embedding)
    batch_size: int  # images per forward pass at extraction


def _gallery_operands(g: torch.Tensor, metric: str):
    """(alpha, g_sq) such that g_sq + alpha q.g ranks the gallery for each query as the distance
    does: |g|^2 - 2 q.g is the squared Euclidean distance less |q|^2, a constant per row; -q.g is
    the cosine distance less 1 (inputs L2-normalised). One addmm per chunk computes it."""
    if metric == "cosine":
        return -1.0, torch.zeros(g.shape[0])
    return -2.0, g.pow(2).sum(1)


def ranking(q: torch.Tensor, g: torch.Tensor, metric: str = "euclidean") -> torch.Tensor:
    """Q x G scores that order each query's gallery exactly as `evaluate` does (the squared
    Euclidean distance less |q|^2, or the cosine distance less 1, by the same matrix product)."""
    if metric not in ("euclidean", "cosine"):
        raise UserError(f"unknown metric {metric!r} (euclidean or cosine)")
    if metric == "cosine":
        q, g = torch.nn.functional.normalize(q, dim=1), torch.nn.functional.normalize(g, dim=1)
    alpha, g_sq = _gallery_operands(g, metric)
    return torch.addmm(g_sq, q, g.t(), alpha=alpha)


def _all_finite(x: torch.Tensor) -> bool:
    """No NaN or infinity in `x`: a sum carries either through (one fast pass); only if it
    overflowed is every entry looked at."""
    return bool(torch.isfinite(x.sum())) or bool(torch.isfinite(x).all())


def match_lists(q_pids: np.ndarray, q_camids: np.ndarray, g_pids: np.ndarray,
                g_camids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per query, the gallery indices of its true matches and of its ignored entries (same
    identity and camera, and every junk image), each padded with -1 to a common width."""
    order = np.argsort(g_pids, kind="stable")
    lo = np.searchsorted(g_pids[order], q_pids, "left")
    n = np.searchsorted(g_pids[order], q_pids, "right") - lo
    n[q_pids == -1] = 0
    j = np.arange(max(int(n.max(initial=0)), 1))
    inside = j[None, :] < n[:, None]
    idx = order[np.minimum(lo[:, None] + j[None, :], len(order) - 1)]
    same_cam = inside & (g_camids[idx] == q_camids[:, None])
    matches = np.where(inside & ~same_cam, idx, -1)
    junk = np.flatnonzero(g_pids == -1)
    ignored = np.concatenate([np.where(same_cam, idx, -1),
                              np.broadcast_to(junk, (len(q_pids), len(junk)))], axis=1)
    return matches, ignored


def _keys(x: torch.Tensor) -> torch.Tensor:
    """int64 keys in [0, 2^32) that order float32 values as `<` does."""
    i = (x + 0.0).view(torch.int32).long()  # + 0.0: -0.0 becomes +0.0, which it equals
    return torch.where(i < 0, i ^ 0x7FFFFFFF, i) + (1 << 31)


def _gather(d: torch.Tensor, idx: np.ndarray) -> torch.Tensor:
    """d[r, idx[r, c]] with +inf where idx is -1."""
    idx = torch.from_numpy(idx)
    return d.gather(1, idx.clamp(min=0)).masked_fill_(idx < 0, float("inf"))


def _count_le(thresholds: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
    """(rows, k): how many of each row's values are <= each of its sorted thresholds."""
    rows, k = thresholds.shape
    where = torch.searchsorted(thresholds, values, side="left")
    hist = torch.zeros(rows, k + 1, dtype=torch.int64).scatter_add_(1, where, torch.ones_like(where))
    return hist[:, :k].cumsum(1)


def match_positions(d: torch.Tensor, matches: np.ndarray, ignored: np.ndarray):
    """1-based ranks of each query's true matches among its valid gallery entries (ties: the
    non-match first), padded with +inf, and the number of matches. Rows without one are dropped."""
    m = _gather(d, matches).sort(1).values
    n = torch.from_numpy((matches >= 0).sum(1))
    if not (n > 0).all():
        has = n > 0
        d, m, n, ignored = d[has], m[has], n[has], ignored[has.numpy()]
    rows, k = m.shape
    if d.dtype == torch.float32:  # place only the entries that survive the cut, in one search
        kept = (d <= m.gather(1, (n - 1)[:, None])).flatten().nonzero().squeeze(1)
        row_base = torch.arange(rows)[:, None] << 32
        where = torch.searchsorted((_keys(m) + row_base).flatten(),
                                   _keys(d.flatten()[kept]) + (kept // d.shape[1] << 32))
        all_le = torch.bincount(where, minlength=rows * k)[: rows * k].view(rows, k).cumsum(1)
    else:  # float64 (re-ranked distances): place every entry among its row's thresholds
        all_le = _count_le(m, d)
    matches_le = torch.searchsorted(m, m, side="right")
    ignored_le = _count_le(m, _gather(d, ignored))  # never empty: one column per possible match
    order = torch.arange(1, k + 1)[None, :]
    pos = (order + all_le - matches_le - ignored_le).double()
    pos[order > n[:, None]] = float("inf")
    return pos, n


def evaluate(qf: np.ndarray, q_pids: np.ndarray, q_camids: np.ndarray, gf: np.ndarray,
             g_pids: np.ndarray, g_camids: np.ndarray, metric: str = "euclidean",
             max_rank: int = 50, chunk_bytes: int = 1 << 30, distance=None) -> dict:
    """`distance(start, stop)`, when given, supplies the distances of queries start..stop to the
    gallery (re-ranking); otherwise they are computed from the features with `metric`.
    `per_query` holds each query's AP, the 1-based rank of its first true match (`first_hit`) and
    its INP (n matches / rank of the last), in query order, NaN where the query has no match."""
    if metric not in ("euclidean", "cosine"):
        raise UserError(f"unknown metric {metric!r} (euclidean or cosine)")
    q = torch.as_tensor(np.ascontiguousarray(qf), dtype=torch.float32)
    g = torch.as_tensor(np.ascontiguousarray(gf), dtype=torch.float32)
    if not (len(q) and len(g)):
        raise UserError(f"evaluate: {len(q)} query and {len(g)} gallery features; both must be "
                        "non-empty")
    if not (_all_finite(q) and _all_finite(g)):
        raise UserError("evaluate: the features contain NaN or infinite values")
    if metric == "cosine":
        q = torch.nn.functional.normalize(q, dim=1)
        g = torch.nn.functional.normalize(g, dim=1)
    alpha, g_sq = _gallery_operands(g, metric)
    matches, ignored = match_lists(*(np.asarray(a, np.int64) for a in (q_pids, q_camids, g_pids,
                                                                       g_camids)))
    rows = min(max(1, chunk_bytes // (g.shape[0] * BYTES_PER_ENTRY)), q.shape[0])
    buffer = torch.empty(rows, g.shape[0]) if distance is None else None
    has_match = (matches >= 0).any(1)
    ap, inp, first = (torch.full((q.shape[0],), float("nan"), dtype=torch.float64) for _ in range(3))
    for s in range(0, q.shape[0], rows):
        stop = min(s + rows, q.shape[0])
        if not has_match[s:stop].any():
            continue
        if distance is None:  # |g|^2 + alpha q.g: one matrix product into a reused buffer
            d = torch.addmm(g_sq, q[s:stop], g.t(), alpha=alpha, out=buffer[: stop - s])
        else:
            d = distance(s, stop)
        pos, n = match_positions(d, matches[s:stop], ignored[s:stop])
        j = torch.arange(1, pos.shape[1] + 1, dtype=torch.float64)[None, :]
        valid = torch.from_numpy(s + np.flatnonzero(has_match[s:stop]))
        ap[valid] = torch.where(torch.isfinite(pos), j / pos, 0.0).sum(1) / n
        inp[valid] = n / pos.gather(1, (n - 1)[:, None]).squeeze(1)
        first[valid] = pos[:, 0]
    if not has_match.any():
        raise UserError("evaluate: no query has a true match in the gallery "
                        "(same identity, other camera); check pids and camids")
    valid = torch.from_numpy(has_match)
    hits = first[valid]
    cmc = [(hits <= r).double().mean().item() for r in range(1, max_rank + 1)]
    return {"mAP": ap[valid].mean().item(), "mINP": inp[valid].mean().item(),
            "rank1": cmc[0], "rank5": cmc[min(4, max_rank - 1)], "rank10": cmc[min(9, max_rank - 1)],
            "cmc": cmc, "num_query": int(q.shape[0]), "num_valid_query": int(valid.sum()),
            "num_gallery": int(g.shape[0]), "metric": metric,
            "per_query": {"ap": ap.numpy(), "first_hit": first.numpy(), "inp": inp.numpy()}}
