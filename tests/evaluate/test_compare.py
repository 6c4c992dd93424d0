"""`autoreid compare A B`: B - A with a 95% interval and a verdict, on evaluations scored here
from synthetic features (one shared query and gallery), in-process and through the CLI."""
import json
from pathlib import Path

import h5py
import numpy as np
import pytest

from autoreid.compare import SeedsConfig, compare, expand
from autoreid.evaluate.bootstrap import BootstrapConfig
from autoreid.evaluate.scores import score
from helpers import assert_user_error, run_cli

BOOT = BootstrapConfig(1000, 0)
N_IDS, QUERIES, GALLERY = 30, 90, 240


def features(path: Path, noise: float, seed: int, queries=QUERIES, shift: int = 0, root: str = "") -> Path:
    """Identity-centred features: `noise` sets how well identities separate (less: better); every
    file shares its images' own offsets (hard queries are hard for every network)."""
    rng = np.random.default_rng(100)  # the same identities, cameras and centres for every file
    centres = rng.normal(size=(N_IDS + 1, 16))
    sets = {}
    for group, n in (("query", queries), ("gallery", GALLERY)):
        pids = np.resize(np.arange(1, N_IDS + 1), n)
        camids = rng.integers(0, 3 if group == "query" else 6, n) + (0 if group == "query" else 3)
        sets[group] = (pids, camids)
    hard = {g: rng.normal(size=(len(p), 16)) for g, (p, _) in sets.items()}  # the images' own
    own = np.random.default_rng(seed)  # the network's own noise
    with h5py.File(path, "w") as h:
        for group, (pids, camids) in sets.items():
            x = centres[pids] + 0.8 * hard[group] + noise * own.normal(size=(len(pids), 16))
            h.create_dataset(f"{group}/features", data=x.astype(np.float32))
            h.create_dataset(f"{group}/pids", data=pids)
            h.create_dataset(f"{group}/camids", data=camids)
            h.create_dataset(f"{group}/paths", data=[f"{root}{group}/{i + shift}.jpg"
                                                          for i in range(len(pids))])
    return path


def evaluation(folder: Path, noise: float, seed: int, **kw) -> Path:
    folder.mkdir(parents=True)
    score(features(folder / "features.h5", noise, seed, **kw), folder / "metrics.json", "euclidean",
          BOOT)
    return folder


def test_an_evaluation_against_itself_is_zero_and_not_resolved(tmp_path):
    a = evaluation(tmp_path / "a", 1.5, 0)
    r = compare([a / "metrics.json"], [a / "metrics.json"], BOOT, SeedsConfig(1, None, {"mAP": 0.04,
                                                                                 "rank1": 0.04,
                                                                                 "mINP": 0.04}))
    for m in r["metrics"].values():
        assert m["difference"] == 0 and m["ci95"] == [0, 0] and m["verdict"] == "not resolved"


def test_swapping_a_and_b_flips_the_signs_and_the_verdict(tmp_path):
    good, bad = evaluation(tmp_path / "good", 0.8, 0), evaluation(tmp_path / "bad", 2.5, 1)
    ab = compare([bad / "metrics.json"], [good / "metrics.json"], BOOT)
    ba = compare([good / "metrics.json"], [bad / "metrics.json"], BOOT)
    for name in ("mAP", "rank1", "mINP"):
        x, y = ab["metrics"][name], ba["metrics"][name]
        assert x["difference"] == pytest.approx(-y["difference"])
        assert x["ci95"] == pytest.approx([-y["ci95"][1], -y["ci95"][0]])
    assert ab["metrics"]["mAP"]["difference"] > 0.1
    assert (ab["metrics"]["mAP"]["verdict"], ba["metrics"]["mAP"]["verdict"]) == ("B", "A")


def test_the_difference_is_of_the_metrics_and_the_interval_is_paired(tmp_path):
    a, b = evaluation(tmp_path / "a", 0.8, 0), evaluation(tmp_path / "b", 0.7, 1)
    r = compare([a / "metrics.json"], [b / "metrics.json"], BOOT)
    ma, mb = (json.loads((x / "metrics.json").read_text()) for x in (a, b))
    assert r["metrics"]["mAP"]["difference"] == pytest.approx(mb["mAP"] - ma["mAP"])
    assert r["metrics"]["rank1"]["A"] == pytest.approx(ma["rank1"])
    # paired: the difference's interval is narrower than either side's own
    lo, hi = r["metrics"]["mAP"]["ci95"]
    assert hi - lo < min(m["mAP_ci95"][1] - m["mAP_ci95"][0] for m in (ma, mb))
    assert "seed noise not included" in r["interval"]


def test_one_seed_a_side_takes_the_profiles_seed_noise(tmp_path):
    a, b = evaluation(tmp_path / "a", 1.5, 0), evaluation(tmp_path / "b", 1.5, 1)
    plain = compare([a / "metrics.json"], [b / "metrics.json"], BOOT)
    sd = {"mAP": 0.04, "rank1": 0.05, "mINP": 0.04}
    noisy = compare([a / "metrics.json"], [b / "metrics.json"], BOOT, SeedsConfig(1, None, sd))
    lo, hi = noisy["metrics"]["mAP"]["ci95"]
    q_lo, q_hi = plain["metrics"]["mAP"]["ci95"]
    assert hi - lo > 2 * 1.96 * np.sqrt(2) * 0.04 * 0.99  # at least the seeds' part
    assert hi - lo > q_hi - q_lo
    assert noisy["metrics"]["mAP"]["verdict"] == "not resolved"
    assert "seeds.sd" in noisy["interval"]


def test_sets_of_seeds_paired_seed_by_seed(tmp_path):
    for k in range(3):
        evaluation(tmp_path / "a" / f"seed{k}", 1.5, k)
        evaluation(tmp_path / "b" / f"seed{k}", 1.5, 10 + k)
    a, b = expand(str(tmp_path / "a")), expand(str(tmp_path / "b"))
    assert [p.parent.name for p in a] == ["seed0", "seed1", "seed2"]
    same = compare(a, a, BOOT)
    assert all(m["ci95"] == [0, 0] for m in same["metrics"].values())
    r = compare(a, b, BOOT)
    assert r["A"]["seeds"] == 3 and "paired seed by seed" in r["interval"]
    means = [np.mean([json.loads((p).read_text())["mAP"] for p in side]) for side in (a, b)]
    assert r["metrics"]["mAP"]["difference"] == pytest.approx(means[1] - means[0])
    assert r["metrics"]["mAP"]["verdict"] == "not resolved"  # the same network, other seeds
    # a glob and a comma list name the same sets
    assert expand(str(tmp_path / "a" / "seed*")) == a
    assert expand(",".join(str(p.parent) for p in a)) == a


def test_the_same_benchmark_read_from_two_checkouts_is_the_same_queries(tmp_path):
    a = evaluation(tmp_path / "a", 1.5, 0, root="/home/me/autoreid/results/raw/Market/")
    b = evaluation(tmp_path / "b", 1.5, 0, root="/scratch/clone/results/raw/Market/")
    r = compare([a / "metrics.json"], [b / "metrics.json"], BOOT)
    assert all(m["difference"] == 0 for m in r["metrics"].values())


def test_compare_through_the_cli(tmp_path):
    a, b = evaluation(tmp_path / "a", 1.5, 0), evaluation(tmp_path / "b", 0.7, 1)
    proc = run_cli("compare", a, b, "--out", tmp_path / "c.json", check=True)
    r = json.loads((tmp_path / "c.json").read_text())
    assert r["metrics"]["mAP"]["verdict"] == "B"
    assert set(r["metrics"]) == {"mAP", "rank1", "mINP"}
    lines = proc.stdout.splitlines()
    assert any(line.startswith("mAP") and line.rstrip().endswith("B") for line in lines)
    swapped = run_cli("compare", b, a, check=True)
    assert any(line.startswith("mAP") and line.rstrip().endswith("A") for line in
               swapped.stdout.splitlines())


def test_bad_inputs_are_one_line(tmp_path):
    a = evaluation(tmp_path / "a", 1.5, 0)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert_user_error(run_cli("compare", a, empty), "empty", "metrics.json")
    assert_user_error(run_cli("compare", a, tmp_path / "nowhere"), "nowhere")
    fewer = evaluation(tmp_path / "fewer", 1.5, 0, queries=60)
    assert_user_error(run_cli("compare", a, fewer), "different query sets")
    other = evaluation(tmp_path / "other", 1.5, 0, shift=1000)
    assert_user_error(run_cli("compare", a, other), "different query sets")
    (a / "metrics.details.json").unlink()
    assert_user_error(run_cli("compare", a, fewer), "metrics.details.json")


def test_a_rows_estimate_over_its_seeds(tmp_path):
    """A table row: the mean over the seeds' metrics files, an interval over queries and seeds."""
    from autoreid.compare import estimate

    folders = [evaluation(tmp_path / f"seed{k}", 1.0, k) for k in range(3)]
    e = estimate([f / "metrics.json" for f in folders], BOOT)
    values = [json.loads((f / "metrics.json").read_text()) for f in folders]
    assert e["n"] == 3
    for key in ("mAP", "rank1", "mINP", "rank5"):
        assert e[key]["mean"] == pytest.approx(np.mean([v[key] for v in values]))
    lo, hi = e["mAP"]["ci95"]
    assert lo < e["mAP"]["mean"] < hi
    one = estimate([folders[0] / "metrics.json"], BOOT)  # one seed, no seeds.sd: the file's own
    assert one["mAP"]["ci95"] == pytest.approx(values[0]["mAP_ci95"])
    assert "not included" in one["interval"]


def test_groups_of_runs_and_one_training_on_both_sides(tmp_path):
    """Units: four runs a side (one seed each) compare unpaired, with their spread; re-ranked
    against plain scores of the same trainings carries no seed noise."""
    from autoreid.compare import compare_units

    a = [[evaluation(tmp_path / f"a{r}" / "seed0", 1.2, r) / "metrics.json"] for r in range(4)]
    b = [[evaluation(tmp_path / f"b{r}" / "seed0", 0.9, 10 + r) / "metrics.json"] for r in range(4)]
    r = compare_units(a, b, BOOT, SeedsConfig(1, None, {"mAP": 0.04, "rank1": 0.04, "mINP": 0.04}))
    assert r["A"]["units"] == 4 and "pooled spread" in r["interval"]  # seed0 of each: not paired
    means = [np.mean([json.loads(u[0].read_text())["mAP"] for u in side]) for side in (a, b)]
    assert r["metrics"]["mAP"]["difference"] == pytest.approx(means[1] - means[0])
    folder = a[0][0].parent
    score(folder / "features.h5", folder / "metrics_rerank.json", "euclidean", BOOT,
          type("RK", (), {"k1": 20, "k2": 6, "original_weight": 0.3})())
    rk = compare([folder / "metrics.json"], [folder / "metrics_rerank.json"], BOOT,
                 SeedsConfig(1, None, {"mAP": 0.04, "rank1": 0.04, "mINP": 0.04}))
    assert "seed" not in rk["interval"]  # the same training: queries only


def _coverage(global_sd: float, seeds: int = 3, sims: int = 300):
    """B - A of two simulated networks, `seeds` training seeds each, paired seed by seed, over
    freshly drawn identities: how often the interval holds the true difference (0.02), and its mean
    half-width. A seed moves both networks alike (the batch order: cancels in a pair), adds noise to
    each query of each network, and moves all queries of one network by `global_sd`."""
    from autoreid.compare import difference

    rng = np.random.default_rng(7)
    ids = np.repeat(np.arange(100), 3)
    boot = BootstrapConfig(200, 1)
    hits, widths = 0, []
    for _ in range(sims):
        base = rng.normal(0.6, 0.2, 100)[ids] + rng.normal(0, 0.1, ids.size)
        own = [rng.normal(0, 0.05, ids.size) for _ in range(2)]  # each network's own queries
        shared = rng.normal(0, 0.03, seeds)[:, None]
        side = [base + delta + own[i] + shared + rng.normal(0, 0.15, (seeds, ids.size))
                + rng.normal(0, global_sd, (seeds, 1)) for i, delta in enumerate((0.0, 0.02))]
        labels = list(range(seeds))
        d, (lo, hi), _, _ = difference(side[0][:, None], side[1][:, None], ids, labels, labels,
                                       False, boot)
        hits += lo[0] <= 0.02 <= hi[0]
        widths.append((hi[0] - lo[0]) / 2)
    return hits / sims, float(np.mean(widths))


def test_paired_seed_intervals_hold_the_truth():
    """Over freshly drawn identities and seeds, the interval of B - A (three seeds a side, paired)
    holds the true difference about 95% of the time: where a seed's noise is per query only, and
    where it also shifts all queries of one network at once (then it is wider)."""
    covered, width = _coverage(global_sd=0.0)
    assert 0.92 <= covered <= 0.995
    shifted, shifted_width = _coverage(global_sd=0.03)
    assert 0.88 <= shifted <= 0.99 and shifted_width > 2 * width
