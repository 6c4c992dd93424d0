"""k-reciprocal re-ranking (Zhong et al., CVPR 2017) in memory that grows with N*k, not N^2.

The method, on all N = N_query + N_gallery samples with distances d normalised by each row's
maximum: R(i, k1) = the k1-reciprocal neighbours of i (j in i's top k1+1 and i in j's); R*(i)
adds R(c, k1/2) for each c in R(i, k1) sharing more than 2/3 of it; V[i, j] = exp(-d(i, j))
normalised over j in R*(i); local query expansion averages V over i's top k2; the Jaccard distance
is 1 - sum min(V_i, V_j) / sum max(V_i, V_j); the final distance is (1-λ) d_J + λ d.

Nothing N x N is ever held: distances are computed in row blocks to get each row's top k1+1 and
its maximum; V and its expansion are sparse (scipy CSR, about N * k1 * k2 entries); the Jaccard
term for a query only visits gallery samples sharing support with it (an inverted index, CSC);
final distances come out one query chunk at a time, straight into the evaluator.
"""
from __future__ import annotations

import numpy as np
import torch
from scipy import sparse


def _sq_dist(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    d = a.pow(2).sum(1, keepdim=True) + b.pow(2).sum(1)[None, :] - 2.0 * (a @ b.t())
    return d.clamp_min_(0.0)


def neighbours(x: torch.Tensor, k: int, block_bytes: int = 256 << 20) -> tuple[np.ndarray, np.ndarray]:
    """Each row's k nearest samples (itself first) and its largest distance, in row blocks."""
    n = x.shape[0]
    rows = max(1, block_bytes // (4 * n))
    top = np.empty((n, k), np.int64)
    row_max = np.empty(n, np.float64)
    for s in range(0, n, rows):
        d = _sq_dist(x[s:s + rows], x)
        d[torch.arange(d.shape[0]), torch.arange(s, s + d.shape[0])] = -1.0  # itself first
        top[s:s + rows] = torch.topk(d, k, dim=1, largest=False).indices.numpy()
        row_max[s:s + rows] = d.amax(1).double().numpy()
    return top, row_max


def _reciprocal(top: np.ndarray, k: int) -> list[np.ndarray]:
    """R(i, k): the members j of i's top k+1 that have i in their own top k+1."""
    t = top[:, : k + 1]
    me = np.arange(len(t))[:, None]
    keep = (t[t] == me[:, :, None]).any(axis=2)  # t[t][i, m] = top list of i's m-th neighbour
    return [row[mask] for row, mask in zip(t, keep)]


def _pair_dist(x64: np.ndarray, i: int, js: np.ndarray, row_max: np.ndarray) -> np.ndarray:
    diff = x64[js] - x64[i]
    return (diff * diff).sum(1) / row_max[i]


def k_reciprocal(qf: np.ndarray, gf: np.ndarray, k1: int = 20, k2: int = 6, lam: float = 0.3):
    """Returns (chunk(start, stop) -> final distances of queries start..stop to the gallery)."""
    x = torch.as_tensor(np.concatenate([qf, gf]), dtype=torch.float32)
    x64 = x.double().numpy()
    n, nq = x.shape[0], len(qf)
    top, row_max = neighbours(x, k1 + 1)
    row_max = np.maximum(row_max, 1e-12)
    r_full = _reciprocal(top, k1)
    r_half = _reciprocal(top, int(np.around(k1 / 2)))

    indptr, indices, data = [0], [], []
    for i in range(n):
        members = r_full[i]
        expanded = [members]
        for c in members:
            cand = r_half[c]
            if len(np.intersect1d(cand, members, assume_unique=True)) > 2 / 3 * len(cand):
                expanded.append(cand)
        support = np.unique(np.concatenate(expanded))
        w = np.exp(-_pair_dist(x64, i, support, row_max))
        indices.append(support)
        data.append(w / w.sum())
        indptr.append(indptr[-1] + len(support))
    V = sparse.csr_matrix((np.concatenate(data), np.concatenate(indices), indptr), shape=(n, n))
    if k2 > 1:  # local query expansion: mean of V over each sample's top k2
        A = sparse.csr_matrix((np.full(n * k2, 1.0 / k2), top[:, :k2].ravel(),
                               np.arange(0, n * k2 + 1, k2)), shape=(n, n))
        V = (A @ V).tocsr()
    Vq = V[:nq]
    Vg = V[nq:].tocsc()  # inverted index: for each sample k, the gallery rows with V[., k] > 0
    q = x[:nq]
    g = x[nq:]

    def chunk(start: int, stop: int) -> torch.Tensor:
        d = _sq_dist(q[start:stop], g).double() / torch.as_tensor(row_max[start:stop])[:, None]
        jaccard = np.empty((stop - start, g.shape[0]))
        for r, i in enumerate(range(start, stop)):
            cols = Vq.indices[Vq.indptr[i]:Vq.indptr[i + 1]]
            vals = Vq.data[Vq.indptr[i]:Vq.indptr[i + 1]]
            sub = Vg[:, cols]
            owner = np.repeat(np.arange(len(cols)), np.diff(sub.indptr))
            mins = np.minimum(sub.data, vals[owner])
            shared = np.bincount(sub.indices, weights=mins, minlength=g.shape[0])
            jaccard[r] = 1.0 - shared / (2.0 - shared)
        return (1 - lam) * torch.from_numpy(jaccard) + lam * d

    return chunk
