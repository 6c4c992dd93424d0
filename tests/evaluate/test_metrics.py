import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoreid.errors import UserError
from autoreid.evaluate.metrics import evaluate


def hand_example():
    # 1-D features; squared Euclidean distances keep the order of the positions
    g = np.array([[0.1], [0.2], [0.3], [0.4], [0.5]], np.float32)
    g_pids = np.array([1, 0, 1, 2, 1])  # g1 is a distractor (pid 0)
    g_cams = np.array([0, 1, 1, 1, 2])
    q = np.array([[0.0], [0.0], [0.41]], np.float32)
    q_pids = np.array([1, 3, 2])  # query 2 (pid 3) has no match at all
    q_cams = np.array([0, 0, 0])
    return q, q_pids, q_cams, g, g_pids, g_cams


@pytest.mark.smoke
def test_market_protocol_by_hand():
    m = evaluate(*hand_example())
    # query 0: g0 ignored (same id, same camera); valid order g1(-) g2(+) g3(-) g4(+)
    #   AP = (1/2 + 2/4) / 2 = 0.5, first match at rank 2, mINP = 2/4
    # query 1: no true match -> skipped
    # query 2: g3 (+) first -> AP 1, rank 1, mINP 1
    assert m["num_valid_query"] == 2 and m["num_query"] == 3
    assert m["mAP"] == pytest.approx(0.75)
    assert m["rank1"] == pytest.approx(0.5)
    assert m["rank5"] == pytest.approx(1.0)
    assert m["mINP"] == pytest.approx(0.75)


def test_junk_pid_minus_one_is_ignored():
    q, qp, qc, g, gp, gc = hand_example()
    gp = gp.copy()
    gp[1] = -1  # the distractor becomes junk: query 0 now finds g2 at rank 1
    m = evaluate(q, qp, qc, g, gp, gc)
    assert m["rank1"] == pytest.approx(1.0)


def test_no_valid_query_is_a_user_error():
    q, qp, qc, g, gp, gc = hand_example()
    with pytest.raises(UserError, match="no query has a true match"):
        evaluate(q, qp + 100, qc, g, gp, gc)


def ranked_hits(d, qp, qc, gp, gc):
    """Per query with a true match: the 1-based ranks of its matches among its valid gallery
    entries, each row sorted (ties: the non-match first)."""
    out = []
    for i in range(len(d)):
        valid = ~((gp == qp[i]) & (gc == qc[i])) & (gp != -1)
        match = (gp == qp[i]) & (gc != qc[i]) & valid
        if match.any():
            order = [j for j in np.lexsort((match.astype(int), d[i])) if valid[j]]
            out.append(np.flatnonzero(match[order]) + 1)
    return out


def brute_force_from_distances(d, qp, qc, gp, gc):
    """mAP by sorting each row of a distance matrix."""
    return float(np.mean([np.mean(np.arange(1, len(h) + 1) / h) for h in ranked_hits(d, qp, qc, gp, gc)]))


def brute_force_cmc(d, qp, qc, gp, gc, max_rank=50):
    """CMC at every rank, by sorting each row."""
    first = np.array([h[0] for h in ranked_hits(d, qp, qc, gp, gc)])
    return [float((first <= r).mean()) for r in range(1, max_rank + 1)]


def brute_force(qf, qp, qc, gf, gp, gc):
    """(mAP, rank-1, mINP) from squared Euclidean distances."""
    hits = ranked_hits(((qf[:, None, :] - gf[None, :, :]) ** 2).sum(2), qp, qc, gp, gc)
    return (np.mean([np.mean(np.arange(1, len(h) + 1) / h) for h in hits]),
            np.mean([h[0] == 1 for h in hits]), np.mean([len(h) / h[-1] for h in hits]))


@pytest.mark.parametrize("seed", range(10))
def test_agrees_with_brute_force_including_ties_and_chunks(seed):
    rng = np.random.default_rng(seed)
    nq, ng = rng.integers(5, 40), rng.integers(20, 120)
    qf = rng.integers(0, 3, (nq, 3)).astype(np.float32)  # many tied distances
    gf = rng.integers(0, 3, (ng, 3)).astype(np.float32)
    qp, qc = rng.integers(1, 6, nq), rng.integers(0, 3, nq)
    gp, gc = rng.integers(-1, 6, ng), rng.integers(0, 3, ng)
    m = evaluate(qf, qp, qc, gf, gp, gc, chunk_bytes=ng * 24 * 4)  # 4 queries per chunk
    assert (m["mAP"], m["rank1"], m["mINP"]) == pytest.approx(brute_force(qf, qp, qc, gf, gp, gc))


def test_cosine_metric_and_gallery_order_invariance():
    rng = np.random.default_rng(3)
    qf, gf = rng.normal(size=(10, 8)), rng.normal(size=(60, 8))
    qp, qc = rng.integers(1, 4, 10), rng.integers(0, 2, 10)
    gp, gc = rng.integers(0, 4, 60), rng.integers(0, 2, 60)
    a = evaluate(qf, qp, qc, gf, gp, gc, "cosine")
    perm = rng.permutation(60)
    b = evaluate(qf, qp, qc, gf[perm], gp[perm], gc[perm], "cosine")
    assert a["mAP"] == pytest.approx(b["mAP"]) and a["cmc"] == pytest.approx(b["cmc"])
    for key in ("mAP", "mINP", "rank1", "rank5", "rank10"):
        assert 0.0 <= a[key] <= 1.0


@st.composite
def problems(draw):
    """Small problems with many ties (integer features), junk and distractors, any chunking."""
    nq, ng = draw(st.integers(1, 12)), draw(st.integers(1, 40))
    ints = st.integers(0, 2)
    qf = np.array(draw(st.lists(st.lists(ints, min_size=2, max_size=2), min_size=nq, max_size=nq)),
                  np.float32)
    gf = np.array(draw(st.lists(st.lists(ints, min_size=2, max_size=2), min_size=ng, max_size=ng)),
                  np.float32)
    qp = np.array(draw(st.lists(st.integers(1, 4), min_size=nq, max_size=nq)))
    gp = np.array(draw(st.lists(st.integers(-1, 4), min_size=ng, max_size=ng)))
    qc = np.array(draw(st.lists(st.integers(0, 2), min_size=nq, max_size=nq)))
    gc = np.array(draw(st.lists(st.integers(0, 2), min_size=ng, max_size=ng)))
    rows = draw(st.integers(1, nq))
    return qf, qp, qc, gf, gp, gc, rows


@settings(max_examples=150, deadline=None)
@given(problems(), st.randoms(use_true_random=False))
def test_metrics_properties(problem, random):
    """mAP, mINP and CMC lie in [0, 1], do not depend on the order of the gallery, and equal the
    brute-force computation, whatever the chunking."""
    qf, qp, qc, gf, gp, gc, rows = problem
    if brute_force_has_no_valid_query(qp, qc, gp, gc):
        with pytest.raises(UserError):
            evaluate(qf, qp, qc, gf, gp, gc)
        return
    m = evaluate(qf, qp, qc, gf, gp, gc, chunk_bytes=rows * len(gf) * 40)
    for key in ("mAP", "mINP", "rank1", "rank5", "rank10"):
        assert 0.0 <= m[key] <= 1.0
    assert all(0.0 <= c <= 1.0 for c in m["cmc"]) and m["cmc"] == sorted(m["cmc"])
    assert (m["mAP"], m["rank1"], m["mINP"]) == pytest.approx(brute_force(qf, qp, qc, gf, gp, gc))
    perm = list(range(len(gf)))
    random.shuffle(perm)
    shuffled = evaluate(qf, qp, qc, gf[perm], gp[perm], gc[perm])
    assert shuffled["mAP"] == pytest.approx(m["mAP"]) and shuffled["cmc"] == pytest.approx(m["cmc"])


def brute_force_has_no_valid_query(qp, qc, gp, gc):
    return not any(((gp == p) & (gc != c) & (gp != -1)).any() for p, c in zip(qp, qc))


def random_problem(seed, nq=25, ng=90, dim=4):
    rng = np.random.default_rng(seed)
    qf = rng.integers(0, 3, (nq, dim)).astype(np.float32)  # ties
    gf = rng.integers(0, 3, (ng, dim)).astype(np.float32)
    return qf, rng.integers(1, 8, nq), rng.integers(0, 3, nq), gf, rng.integers(-1, 8, ng), \
        rng.integers(0, 3, ng)


@pytest.mark.parametrize("seed", range(4))
def test_whole_cmc_curve_against_brute_force(seed):
    qf, qp, qc, gf, gp, gc = random_problem(seed)
    d = ((qf[:, None, :] - gf[None, :, :]) ** 2).sum(2)
    for max_rank in (50, 7):
        m = evaluate(qf, qp, qc, gf, gp, gc, max_rank=max_rank, chunk_bytes=len(gf) * 40 * 3)
        assert m["cmc"] == pytest.approx(brute_force_cmc(d, qp, qc, gp, gc, max_rank))
        assert (m["rank1"], m["rank5"]) == pytest.approx((m["cmc"][0], m["cmc"][4]))
    assert m["rank10"] == pytest.approx(m["cmc"][6])  # max_rank 7: the curve's last rank


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_given_distances_against_brute_force(dtype):
    """The re-ranked path: distances supplied a chunk of queries at a time."""
    import torch

    qf, qp, qc, gf, gp, gc = random_problem(7)
    rng = np.random.default_rng(8)
    d = rng.integers(0, 6, (len(qf), len(gf))).astype(dtype)  # any matrix, many ties
    calls = []

    def distance(start, stop):
        calls.append((start, stop))
        return torch.from_numpy(d[start:stop])

    m = evaluate(qf, qp, qc, gf, gp, gc, distance=distance, chunk_bytes=len(gf) * 40 * 4)
    assert len(calls) > 1 and calls[0] == (0, 4)
    assert m["mAP"] == pytest.approx(brute_force_from_distances(d, qp, qc, gp, gc))
    assert m["cmc"] == pytest.approx(brute_force_cmc(d, qp, qc, gp, gc))


def test_re_ranked_evaluation_against_brute_force_on_the_dense_reference():
    from autoreid.evaluate.rerank import k_reciprocal
    from test_rerank import dense_rerank

    rng = np.random.default_rng(5)
    centers = rng.normal(size=(10, 8))
    qp, gp = rng.integers(1, 11, 30), rng.integers(1, 11, 100)
    qf = (centers[qp - 1] + 0.8 * rng.normal(size=(30, 8))).astype(np.float32)
    gf = (centers[gp - 1] + 0.8 * rng.normal(size=(100, 8))).astype(np.float32)
    qc, gc = rng.integers(0, 2, 30), rng.integers(0, 3, 100)
    m = evaluate(qf, qp, qc, gf, gp, gc, distance=k_reciprocal(qf, gf, 20, 6, 0.3),
                 chunk_bytes=100 * 40 * 8)
    d = dense_rerank(qf, gf, 20, 6, 0.3)
    assert m["mAP"] == pytest.approx(brute_force_from_distances(d, qp, qc, gp, gc), abs=1e-9)
    assert m["cmc"] == pytest.approx(brute_force_cmc(d, qp, qc, gp, gc))
    plain = evaluate(qf, qp, qc, gf, gp, gc)
    assert plain["mAP"] != pytest.approx(m["mAP"])


def brute_force_cosine(qf, qp, qc, gf, gp, gc):
    qn = qf / np.linalg.norm(qf, axis=1, keepdims=True)
    gn = gf / np.linalg.norm(gf, axis=1, keepdims=True)
    d = 1 - qn @ gn.T
    return brute_force_from_distances(d, qp, qc, gp, gc), brute_force_cmc(d, qp, qc, gp, gc)


def test_cosine_distance_against_brute_force():
    rng = np.random.default_rng(11)
    qf, gf = rng.normal(size=(20, 6)) * rng.uniform(0.1, 5, (20, 1)), rng.normal(size=(70, 6))
    qp, qc = rng.integers(1, 5, 20), rng.integers(0, 2, 20)
    gp, gc = rng.integers(0, 5, 70), rng.integers(0, 3, 70)
    m = evaluate(qf, qp, qc, gf * rng.uniform(0.1, 5, (70, 1)), gp, gc, "cosine")
    mAP, cmc = brute_force_cosine(qf, qp, qc, gf, gp, gc)
    assert m["mAP"] == pytest.approx(mAP) and m["cmc"] == pytest.approx(cmc)
    assert m["metric"] == "cosine" and m["num_gallery"] == 70 and m["num_query"] == 20
    assert evaluate(qf, qp, qc, gf, gp, gc)["mAP"] != pytest.approx(mAP)  # euclidean differs


def test_rank5_and_rank10_are_the_curve_at_5_and_10_and_short_curves():
    qf, qp, qc, gf, gp, gc = random_problem(3, nq=40, ng=150, dim=3)
    d = ((qf[:, None, :] - gf[None, :, :]) ** 2).sum(2)
    cmc = brute_force_cmc(d, qp, qc, gp, gc)
    m = evaluate(qf, qp, qc, gf, gp, gc)
    assert (m["rank1"], m["rank5"], m["rank10"]) == pytest.approx((cmc[0], cmc[4], cmc[9]))
    assert cmc[4] != cmc[5] or cmc[9] != cmc[10] or cmc[4] != cmc[3]  # the ranks are told apart
    for max_rank in (3, 5):
        short = evaluate(qf, qp, qc, gf, gp, gc, max_rank=max_rank)
        assert short["cmc"] == pytest.approx(cmc[:max_rank])
        assert short["rank5"] == pytest.approx(cmc[min(4, max_rank - 1)])
        assert short["rank10"] == pytest.approx(cmc[max_rank - 1])


def test_junk_queries_are_skipped_and_a_gallery_with_nothing_to_ignore():
    # query 0 is junk (pid -1): never evaluated, even with junk of another camera in the gallery
    q, qp, qc = np.array([[0.0], [0.0]], np.float32), np.array([-1, 1]), np.array([0, 0])
    g = np.array([[0.1], [0.2], [0.3]], np.float32)
    m = evaluate(q, qp, qc, g, np.array([2, 1, 3]), np.array([1, 1, 1]))  # nothing ignored
    assert m["num_valid_query"] == 1 and m["mAP"] == pytest.approx(0.5) and m["rank1"] == 0.0
    m = evaluate(q, qp, qc, np.array([[0.05], [0.2]], np.float32), np.array([-1, 1]), np.array([1, 1]))
    assert m["num_valid_query"] == 1 and m["mAP"] == pytest.approx(1.0)


def test_signed_zeros_and_tiny_distances_tie_and_order_as_floats_do():
    import torch

    qp, qc = np.array([1, 1]), np.array([0, 0])
    gp, gc = np.array([1, 2, 1, 2]), np.array([1, 1, 1, 1])
    d = np.array([[-0.0, 0.0, 1e-8, 2e-8],     # match at -0.0 ties the non-match at +0.0
                  [2e-8, 1e-8, 3e-8, 1.0]], np.float32)  # tiny, distinct distances
    m = evaluate(np.zeros((2, 1)), qp, qc, np.zeros((4, 1)), gp, gc,
                 distance=lambda s, e: torch.from_numpy(d[s:e]))
    assert m["mAP"] == pytest.approx(brute_force_from_distances(d, qp, qc, gp, gc))
    assert m["rank1"] == 0.0  # query 0: the tie goes to the non-match; query 1: a non-match first


@pytest.mark.parametrize("args,message", [
    (dict(metric="manhattan"), "unknown metric 'manhattan' (euclidean or cosine)"),
    (dict(gallery=0), "evaluate: 2 query and 0 gallery features; both must be non-empty"),
    (dict(query=0), "evaluate: 0 query and 3 gallery features; both must be non-empty"),
    (dict(nan="g"), "evaluate: the features contain NaN or infinite values"),
    (dict(nan="q"), "evaluate: the features contain NaN or infinite values"),
    (dict(no_match=True), "evaluate: no query has a true match in the gallery (same identity, other "
                          "camera); check pids and camids"),
])
def test_user_errors_name_the_problem(args, message):
    q, g = np.zeros((2, 2), np.float32), np.ones((3, 2), np.float32)
    qp, gp = np.array([1, 2]), np.array([1, 2, 2]) + (10 if args.get("no_match") else 0)
    if args.get("nan") == "g":
        g[1, 0] = np.nan
    if args.get("nan") == "q":
        q[0, 1] = np.inf
    q, qp = q[: args.get("query", 2)], qp[: args.get("query", 2)]
    g, gp = g[: args.get("gallery", 3)], gp[: args.get("gallery", 3)]
    with pytest.raises(UserError) as e:
        evaluate(q, qp, np.zeros(len(q)), g, gp, np.ones(len(g)), args.get("metric", "euclidean"))
    assert str(e.value) == message


def test_features_whose_sum_overflows_are_still_finite_and_ranked():
    """The finiteness check sums the features first: a sum that overflows is not a NaN."""
    q = np.full((2, 2), 3e38, np.float32)
    g = np.array([[3e38, 3e38], [-3e38, -3e38], [3e38, 3e38]], np.float32)
    m = evaluate(q / 1e20, np.array([1, 2]), np.zeros(2), g / 1e20, np.array([1, 2, 2]),
                 np.ones(3), "cosine")
    assert 0 <= m["mAP"] <= 1
    assert evaluate(q, np.array([1, 2]), np.zeros(2), g, np.array([1, 2, 2]), np.ones(3),
                    "cosine")["num_valid_query"] == 2


def test_ranking_orders_each_gallery_as_the_distances_do():
    """`ranking` (query's order, shared with `autoreid query`): the squared Euclidean distance less
    |q|^2, the cosine distance less 1."""
    import torch

    from autoreid.evaluate.metrics import ranking

    rng = np.random.default_rng(0)
    q, g = rng.normal(size=(3, 5)).astype(np.float32), rng.normal(size=(7, 5)).astype(np.float32)
    squared = ((q[:, None] - g[None]) ** 2).sum(-1)
    got = ranking(torch.from_numpy(q), torch.from_numpy(g)).numpy()
    np.testing.assert_allclose(got, squared - (q ** 2).sum(1, keepdims=True), rtol=1e-5, atol=1e-5)
    qn, gn = q / np.linalg.norm(q, axis=1, keepdims=True), g / np.linalg.norm(g, axis=1, keepdims=True)
    got = ranking(torch.from_numpy(q), torch.from_numpy(g), "cosine").numpy()
    np.testing.assert_allclose(got, (1 - qn @ gn.T) - 1, rtol=1e-5, atol=1e-5)
    with pytest.raises(UserError, match="unknown metric 'manhattan'"):
        ranking(torch.from_numpy(q), torch.from_numpy(g), "manhattan")
