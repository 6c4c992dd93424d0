"""k-reciprocal re-ranking (Zhong et al., CVPR 2017) in memory that grows with N*k, not N^2.

The method, on all N = N_query + N_gallery samples with distances d normalised by each row's
maximum: R(i, k1) = the k1-reciprocal neighbours of i (j in i's top k1+1 and i in j's); R*(i)
adds R(c, k1/2) for each c in R(i, k1) sharing more than 2/3 of it; V[i, j] = exp(-d(i, j))
normalised over j in R*(i); local query expansion averages V over i's top k2; the Jaccard distance
is 1 - sum min(V_i, V_j) / sum max(V_i, V_j); the final distance is (1-λ) d_J + λ d.

Nothing N x N is ever held: distances are computed in blocks to get each row's top k1+1 and its
maximum, each block serving its rows and (the matrix is symmetric) its columns; R* and V are
built with sparse products (scipy CSR, about N * k1 * k2 entries); the Jaccard term for a query
only visits gallery samples sharing support with it (an inverted index, CSC); final distances
come out one query chunk at a time, straight into the evaluator.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch

if TYPE_CHECKING:  # scipy is imported where re-ranking runs: every evaluation imports this module
    from scipy import sparse


@dataclass(frozen=True)
class RerankConfig:
    k1: int  # k-reciprocal neighbours
    k2: int  # neighbours of the local query expansion
    original_weight: float  # λ, weight of the original distance


def _sq_dist(x: torch.Tensor, sq: torch.Tensor, rows: slice, cols: slice) -> torch.Tensor:
    """Squared distances between x[rows] and x[cols]; sq = each row's squared norm."""
    d = torch.addmm(sq[cols][None, :], x[rows], x[cols].t(), alpha=-2.0)
    return d.add_(sq[rows][:, None]).clamp_min_(0.0)


def neighbours(x: torch.Tensor, sq: torch.Tensor, k: int, block: int = 2048):
    """Each row's k nearest samples (itself first) and its largest distance. The distance matrix
    is symmetric: each block of rows I and columns J >= I is computed once and serves rows I and,
    transposed, rows J, so only half of the N x N products are made; running top-k lists are
    merged block by block."""
    n = x.shape[0]
    best_d = torch.full((n, k), float("inf"))
    best_i = torch.zeros((n, k), dtype=torch.int64)
    row_max = torch.zeros(n)

    def merge(rows: slice, d: torch.Tensor, first_col: int) -> None:
        top = torch.topk(d, min(k, d.shape[1]), dim=1, largest=False)
        cand_d = torch.cat([best_d[rows], top.values], 1)
        cand_i = torch.cat([best_i[rows], top.indices + first_col], 1)
        keep = torch.topk(cand_d, k, dim=1, largest=False).indices
        best_d[rows], best_i[rows] = cand_d.gather(1, keep), cand_i.gather(1, keep)
        torch.maximum(row_max[rows], d.amax(1), out=row_max[rows])

    for a in range(0, n, block):
        rows = slice(a, min(a + block, n))
        for c in range(a, n, block):
            cols = slice(c, min(c + block, n))
            d = _sq_dist(x, sq, rows, cols)
            if c == a:
                d.fill_diagonal_(-1.0)  # itself first
            merge(rows, d, c)
            if c != a:
                merge(cols, d.t(), a)
    row_max.clamp_(min=0.0)  # the -1 on the diagonal
    return best_i.numpy(), row_max.double().numpy()


def _reciprocal(top: np.ndarray, k: int) -> sparse.csr_matrix:
    """R(., k) as a 0/1 matrix: row i holds the members j of i's top k+1 that have i in their own
    top k+1."""
    from scipy import sparse

    t = top[:, : k + 1]
    me = np.arange(len(t))[:, None]
    keep = (t[t] == me[:, :, None]).any(axis=2)  # t[t][i, m] = top list of i's m-th neighbour
    rows = np.repeat(np.arange(len(t)), keep.sum(1))
    return sparse.csr_matrix((np.ones(len(rows)), (rows, t[keep])), shape=(len(t), len(t)))


def _support(r_full: sparse.csr_matrix, r_half: sparse.csr_matrix) -> sparse.csr_matrix:
    """R*(i): R(i, k1) plus every R(c, k1/2), c in R(i, k1), that shares more than 2/3 of its
    members with R(i, k1); as a 0/1 matrix."""
    from scipy import sparse

    shared = (r_full @ r_half.T).multiply(r_full).tocsr()  # [i, c] = |R(i, k1) & R(c, k1/2)|, c in R(i)
    half_size = np.asarray(r_half.sum(1)).ravel()
    rows = np.repeat(np.arange(shared.shape[0]), np.diff(shared.indptr))
    add = shared.data > 2 / 3 * half_size[shared.indices]
    chosen = sparse.csr_matrix((np.ones(add.sum()), (rows[add], shared.indices[add])),
                               shape=shared.shape)
    support = (r_full + chosen @ r_half).tocsr()
    support.data[:] = 1.0
    support.sort_indices()
    return support


def _support_sq_dist(x: np.ndarray, support: sparse.csr_matrix) -> np.ndarray:
    """|x_i - x_j|^2 for every (i, j) of the support, row by row (one gather per row)."""
    out = np.empty(support.nnz)
    for i in range(len(x)):
        lo, hi = support.indptr[i], support.indptr[i + 1]
        diff = (x[support.indices[lo:hi]] - x[i]).astype(np.float64)
        out[lo:hi] = np.einsum("ij,ij->i", diff, diff)
    return out


def k_reciprocal(qf: np.ndarray, gf: np.ndarray, k1: int = 20, k2: int = 6,
                 original_weight: float = 0.3):
    """Returns (chunk(start, stop) -> final distances of queries start..stop to the gallery)."""
    from scipy import sparse

    x = torch.as_tensor(np.concatenate([qf, gf]), dtype=torch.float32)
    n, nq = x.shape[0], len(qf)
    sq = x.pow(2).sum(1)
    top, row_max = neighbours(x, sq, k1 + 1)
    row_max = np.maximum(row_max, 1e-12)
    V = _support(_reciprocal(top, k1), _reciprocal(top, int(np.around(k1 / 2))))
    rows = np.repeat(np.arange(n), np.diff(V.indptr))
    V.data = np.exp(-_support_sq_dist(x.numpy(), V) / row_max[rows])
    V.data /= np.add.reduceat(V.data, V.indptr[:-1])[rows]  # each row sums to 1 (i is in R*(i))
    if k2 > 1:  # local query expansion: mean of V over each sample's top k2
        A = sparse.csr_matrix((np.full(n * k2, 1.0 / k2), top[:, :k2].ravel(),
                               np.arange(0, n * k2 + 1, k2)), shape=(n, n))
        V = (A @ V).tocsr()
    Vq = V[:nq]
    Vg = V[nq:].tocsc()  # inverted index: for each sample k, the gallery rows with V[., k] > 0
    ng = n - nq

    def chunk(start: int, stop: int) -> torch.Tensor:
        d = _sq_dist(x, sq, slice(start, stop), slice(nq, n)).double()
        d /= torch.as_tensor(row_max[start:stop])[:, None]
        jaccard = np.empty((stop - start, ng))
        for r, i in enumerate(range(start, stop)):
            cols = Vq.indices[Vq.indptr[i]:Vq.indptr[i + 1]]
            vals = Vq.data[Vq.indptr[i]:Vq.indptr[i + 1]]
            sub = Vg[:, cols]
            owner = np.repeat(np.arange(len(cols)), np.diff(sub.indptr))
            mins = np.minimum(sub.data, vals[owner])
            shared = np.bincount(sub.indices, weights=mins, minlength=ng)
            jaccard[r] = 1.0 - shared / (2.0 - shared)
        return (1 - original_weight) * torch.from_numpy(jaccard) + original_weight * d

    return chunk
