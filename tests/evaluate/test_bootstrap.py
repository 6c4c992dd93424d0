"""Per-query results and the identity bootstrap: each query's AP and first hit recomputed by hand,
the intervals against a plain loop bootstrap written here, and what `autoreid evaluate` writes."""
import json

import numpy as np
import pytest

from autoreid.evaluate import bootstrap
from autoreid.evaluate.bootstrap import BootstrapConfig, intervals, per_query
from autoreid.evaluate.metrics import evaluate
from test_metrics import hand_example, ranked_hits


def test_per_query_results_by_hand():
    m = evaluate(*hand_example())["per_query"]
    # query 0: matches at ranks 2 and 4 of its valid list: AP (1/2 + 2/4) / 2, INP 2/4
    np.testing.assert_allclose(m["ap"], [0.5, np.nan, 1.0])
    np.testing.assert_allclose(m["first_hit"], [2, np.nan, 1])
    np.testing.assert_allclose(m["inp"], [0.5, np.nan, 1.0])


def test_per_query_results_against_a_full_ranking():
    rng = np.random.default_rng(3)
    q, g = rng.normal(size=(40, 5)).astype(np.float32), rng.normal(size=(120, 5)).astype(np.float32)
    qp, qc = rng.integers(1, 15, 40), rng.integers(0, 3, 40)
    gp, gc = rng.integers(0, 15, 120), rng.integers(0, 3, 120)
    m = evaluate(q, qp, qc, g, gp, gc, chunk_bytes=4000)  # several query chunks
    d = ((q[:, None] - g[None]) ** 2).sum(-1)
    hits = iter(ranked_hits(d, qp, qc, gp, gc))
    ap, first = [], []
    for i in range(len(q)):
        if not ((gp == qp[i]) & (gc != qc[i])).any():
            ap.append(np.nan), first.append(np.nan)
            continue
        r = next(hits)
        ap.append(np.mean(np.arange(1, len(r) + 1) / r)), first.append(r[0])
    np.testing.assert_allclose(m["per_query"]["ap"], ap, rtol=1e-9)
    np.testing.assert_array_equal(m["per_query"]["first_hit"], first)
    assert np.nanmean(m["per_query"]["ap"]) == pytest.approx(m["mAP"], rel=1e-12)
    assert np.nanmean(np.array(first) == 1) == pytest.approx(m["rank1"])


def loop_bootstrap(values: np.ndarray, pids: np.ndarray, resamples: int, seed: int):
    """The textbook identity bootstrap: draw identities with replacement, pool their queries."""
    keep = ~np.isnan(values)
    values, pids = values[keep], pids[keep]
    ids = np.unique(pids)
    by_id = {i: values[pids == i] for i in ids}
    rng = np.random.default_rng(seed)
    means = [np.concatenate([by_id[i] for i in rng.choice(ids, len(ids))]).mean()
             for _ in range(resamples)]
    return np.percentile(means, [2.5, 97.5])


def test_the_interval_agrees_with_a_loop_bootstrap():
    rng = np.random.default_rng(0)
    pids = np.repeat(np.arange(60), rng.integers(1, 6, 60))  # 1-5 queries per identity
    skill = rng.uniform(0.2, 1.0, 60)[pids]  # queries of one identity alike: clustered
    ap = np.clip(skill + rng.normal(0, 0.05, len(pids)), 0, 1)
    ap[::17] = np.nan  # a few queries without a true match
    got = intervals({"mAP": ap}, pids, BootstrapConfig(4000, 1))["mAP_ci95"]
    want = loop_bootstrap(ap, pids, 4000, 2)  # its own draws: agreement to Monte-Carlo error
    width = want[1] - want[0]
    np.testing.assert_allclose(got, want, atol=0.06 * width)
    assert got[0] < np.nanmean(ap) < got[1]


def test_an_identity_is_drawn_with_all_its_queries():
    """Ten identities of 20 queries each, all alike within an identity: the identity bootstrap is
    as wide as ten independent values; a bootstrap over queries would be sqrt(20) narrower."""
    pids = np.repeat(np.arange(10), 20)
    ap = np.repeat(np.linspace(0, 1, 10), 20)
    lo, hi = intervals({"mAP": ap}, pids, BootstrapConfig(2000, 0))["mAP_ci95"]
    ten = loop_bootstrap(np.linspace(0, 1, 10), np.arange(10), 2000, 5)
    assert hi - lo == pytest.approx(ten[1] - ten[0], rel=0.15)


def test_draw_counts_are_resamples_of_the_units():
    w = bootstrap.draw_counts(7, 500, 0)
    assert w.shape == (500, 7) and (w.sum(1) == 7).all() and (w >= 0).all()
    assert w.mean() == pytest.approx(1.0, abs=0.05)
    np.testing.assert_array_equal(w, bootstrap.draw_counts(7, 500, 0))  # seeded
    assert not np.array_equal(w, bootstrap.draw_counts(7, 500, 1))


def test_rank1_is_a_hit_at_rank_one():
    v = per_query([0.5, np.nan, 1.0], [2, np.nan, 1], [0.5, np.nan, 1.0])
    np.testing.assert_array_equal(v["rank1"], [0, np.nan, 1])


def test_evaluate_writes_per_query_results_and_intervals(tmp_path):
    import h5py

    from helpers import run_cli

    rng = np.random.default_rng(1)
    f = tmp_path / "f.h5"
    with h5py.File(f, "w") as h:
        for group, n in (("query", 50), ("gallery", 150)):
            pids = rng.integers(1, 20, n)
            h.create_dataset(f"{group}/features", data=(pids[:, None] + rng.normal(0, 3, (n, 8)))
                             .astype(np.float32))
            h.create_dataset(f"{group}/pids", data=pids)
            h.create_dataset(f"{group}/camids", data=rng.integers(0, 3, n))
            h.create_dataset(f"{group}/paths", data=[f"{group}/{i}.jpg" for i in range(n)])
    run_cli("evaluate", "--features", f, "--out", tmp_path / "metrics.json", check=True)
    m = json.loads((tmp_path / "metrics.json").read_text())
    d = json.loads((tmp_path / "metrics.details.json").read_text())
    assert m["bootstrap"] == {"resamples": 1000, "unit": "identity", "seed": 0}
    for key in ("mAP", "rank1", "mINP"):
        lo, hi = m[f"{key}_ci95"]
        assert 0 <= lo <= m[key] <= hi <= 1
    assert d["path"] == [f"query/{i}.jpg" for i in range(50)] and len(d["pid"]) == 50
    ap = np.array([np.nan if v is None else v for v in d["ap"]])
    assert np.nanmean(ap) == pytest.approx(m["mAP"], rel=1e-12)
    assert [v is None for v in d["ap"]] == [v is None for v in d["first_hit"]]
    assert np.mean([v == 1 for v in d["first_hit"] if v is not None]) == pytest.approx(m["rank1"])
    assert d["num_valid_query"] == sum(v is not None for v in d["ap"])


def test_a_resample_is_a_mean_over_queries_not_over_identities():
    """One identity with ten perfect queries, ten identities with one failed query each: mAP is
    0.5 (a mean over queries), a mean over identities would be 1/11. Each identity's sum and
    query count; a resample that draws every identity once gives back mAP."""
    pids = np.array([0] * 10 + list(range(1, 11)))
    ap = np.array([1.0] * 10 + [0.0] * 10)
    ids, sums, counts = bootstrap.group_sums(ap, pids)
    np.testing.assert_array_equal(counts, [10] + [1] * 10)
    np.testing.assert_array_equal(sums[0], [10] + [0] * 10)
    once = np.ones(len(ids))
    assert (once @ sums.T) / (once @ counts) == pytest.approx([0.5])
