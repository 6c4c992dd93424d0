"""Sparse, blocked k-reciprocal re-ranking against a straightforward dense implementation."""
import numpy as np
import pytest

from autoreid.evaluate.rerank import k_reciprocal


def dense_rerank(qf, gf, k1, k2, lam):
    """The method as written in the paper: every N x N matrix held in full."""
    x = np.concatenate([qf, gf]).astype(np.float64)
    n, nq = len(x), len(qf)
    sq = (x * x).sum(1)
    d = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0)
    d = d / d.max(axis=1, keepdims=True)
    rank = np.argsort(d, axis=1, kind="stable")

    def reciprocal(i, k):
        forward = rank[i, :k + 1]
        return np.array([j for j in forward if i in rank[j, :k + 1]])

    V = np.zeros((n, n))
    for i in range(n):
        r = reciprocal(i, k1)
        expanded = list(r)
        for c in r:
            rc = reciprocal(c, int(np.around(k1 / 2)))
            if len(set(rc) & set(r)) > 2 / 3 * len(rc):
                expanded += list(rc)
        support = np.unique(expanded)
        w = np.exp(-d[i, support])
        V[i, support] = w / w.sum()
    if k2 > 1:
        V = np.stack([V[rank[i, :k2]].mean(0) for i in range(n)])
    jaccard = np.zeros((nq, n - nq))
    for i in range(nq):
        mins = np.minimum(V[i][None, :], V[nq:]).sum(1)
        maxs = np.maximum(V[i][None, :], V[nq:]).sum(1)
        jaccard[i] = 1 - mins / maxs
    return (1 - lam) * jaccard + lam * d[:nq, nq:]


@pytest.mark.parametrize("seed,k1,k2", [(0, 20, 6), (1, 5, 3), (2, 8, 1)])
def test_agrees_with_the_dense_reference(seed, k1, k2):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(12, 16))
    labels = rng.integers(0, 12, 150)
    feats = (centers[labels] + 0.6 * rng.normal(size=(150, 16))).astype(np.float32)
    qf, gf = feats[:40], feats[40:]
    ours = k_reciprocal(qf, gf, k1, k2, 0.3)
    got = np.concatenate([ours(s, min(s + 7, 40)).numpy() for s in range(0, 40, 7)])
    assert np.abs(got - dense_rerank(qf, gf, k1, k2, 0.3)).max() < 1e-5


def test_rerank_through_the_cli(market, tmp_path):
    import json

    import h5py

    from helpers import run_cli

    rng = np.random.default_rng(0)
    f = tmp_path / "f.h5"
    with h5py.File(f, "w") as h:
        for g, n in (("query", 30), ("gallery", 90)):
            pids = rng.integers(1, 10, n)
            feats = (pids[:, None] + rng.normal(size=(n, 8))).astype(np.float32)
            h.create_dataset(f"{g}/features", data=feats)
            h.create_dataset(f"{g}/pids", data=pids)
            h.create_dataset(f"{g}/camids", data=rng.integers(0, 2, n) + (0 if g == "query" else 2))
            h.create_dataset(f"{g}/paths", data=["x"] * n)
    run_cli("evaluate", "--features", f, "--out", tmp_path / "plain.json", check=True)
    run_cli("evaluate", "--features", f, "--out", tmp_path / "rk.json", "--rerank", check=True)
    plain, rk = (json.loads((tmp_path / n).read_text()) for n in ("plain.json", "rk.json"))
    details = {n: json.loads((tmp_path / f"{n}.details.json").read_text()) for n in ("plain", "rk")}
    assert details["rk"]["rerank"] == {"k1": 20, "k2": 6, "original_weight": 0.3}
    assert "rerank" not in details["plain"] and details["plain"]["num_query"] == 30
    assert set(plain) == set(rk) == {"mAP", "mINP", "rank1", "rank5", "rank10", "mAP_ci95",
                                     "rank1_ci95", "mINP_ci95", "bootstrap"}
    assert plain["mAP"] != rk["mAP"] and 0 <= rk["mAP"] <= 1
    for m in (plain, rk):  # re-ranked metrics get their intervals too
        lo, hi = m["mAP_ci95"]
        assert lo <= m["mAP"] <= hi and lo < hi
    assert np.nanmean(np.array(details["rk"]["ap"], float)) == pytest.approx(rk["mAP"])


@pytest.mark.parametrize("block", [7, 16, 2048])
def test_neighbours_in_blocks_against_brute_force(block):
    """Top-k lists (itself first) and each row's largest distance, whatever the block size; the
    distances here are all below 1, so no clamp or normaliser can hide behind 1."""
    import torch

    from autoreid.evaluate.rerank import neighbours

    rng = np.random.default_rng(block)
    x = torch.as_tensor(0.05 * rng.normal(size=(50, 6)), dtype=torch.float32)
    sq = x.pow(2).sum(1)
    top, row_max = neighbours(x, sq, 5, block=block)
    d = ((x[:, None, :] - x[None, :, :]) ** 2).sum(2).numpy()
    assert d.max() < 1
    expected = np.argsort(d + np.diag(np.full(50, -1.0)), axis=1, kind="stable")[:, :5]
    assert (top[:, 0] == np.arange(50)).all()
    assert np.array_equal(np.sort(top, 1), np.sort(expected, 1))
    np.testing.assert_allclose(row_max, d.max(1), rtol=1e-4)


@pytest.mark.parametrize("scale,k2,dtype", [(0.02, 2, np.float32), (1.0, 6, np.float64)])
def test_small_distances_k2_of_two_and_float64_inputs(scale, k2, dtype):
    rng = np.random.default_rng(4)
    centers = rng.normal(size=(8, 6))
    labels = rng.integers(0, 8, 90)
    feats = (scale * (centers[labels] + 0.6 * rng.normal(size=(90, 6)))).astype(dtype)
    qf, gf = feats[:30], feats[30:]
    got = k_reciprocal(qf, gf, 8, k2, 0.3)(0, 30).numpy()
    assert np.abs(got - dense_rerank(qf, gf, 8, k2, 0.3)).max() < 1e-5


def test_defaults_are_the_papers_k1_20_k2_6_lambda_0_3():
    rng = np.random.default_rng(9)
    feats = rng.normal(size=(80, 5)).astype(np.float32)
    qf, gf = feats[:20], feats[20:]
    got = k_reciprocal(qf, gf)(0, 20).numpy()
    assert np.abs(got - dense_rerank(qf, gf, 20, 6, 0.3)).max() < 1e-5
