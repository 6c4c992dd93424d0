"""`autoreid noise`: where a study's noise comes from, from evaluations scored here (synthetic
features of one query and gallery set), and the seeds a paired comparison needs."""
import json

import numpy as np
import pytest
from scipy import stats

from autoreid.evaluate.bootstrap import BootstrapConfig
from autoreid.noise import decompose, half_width, seeds_needed, study
from helpers import assert_user_error, run_cli
from test_compare import evaluation


def test_decompose_separates_the_seeds_effect_from_each_trainings_own():
    """Three networks, three seeds: each seed moves every network alike (+2, 0, -2) and each
    training has its own noise; the residual is what a paired comparison still sees."""
    own = np.array([[0.5, -0.5, 0.0], [-0.5, 0.0, 0.5], [0.0, 0.5, -0.5]])
    values = np.array([[60.0], [70.0], [50.0]]) + np.array([2.0, 0.0, -2.0]) + own
    d = decompose(values)
    assert d["seed_effects"] == pytest.approx([2.0, 0.0, -2.0])
    assert d["residual_df"] == 4 and d["residual_sd"] == pytest.approx(np.sqrt((own ** 2).sum() / 4))
    within = values - values.mean(1, keepdims=True)
    assert d["within_df"] == 6 and d["within_sd"] == pytest.approx(np.sqrt((within ** 2).sum() / 6))
    assert d["within_sd"] > 2 * d["residual_sd"]  # one training alone carries the seed's effect


def test_the_seeds_a_paired_comparison_needs():
    h = half_width(0.02, 0.00002, 0.0002, 4)
    se2 = 0.00002 + (0.0002 + 0.02 ** 2) / 4
    assert h == pytest.approx(stats.t.ppf(0.975, 3 * (se2 / (0.02 ** 2 / 4)) ** 2) * np.sqrt(se2))
    n = seeds_needed(0.02, 0.00002, 0.0002, 0.015)
    assert half_width(0.02, 0.00002, 0.0002, n) <= 0.015 < half_width(0.02, 0.00002, 0.0002, n - 1)
    assert seeds_needed(0.02, 0.0001, 0.0002, 0.015) is None  # the queries alone are wider


@pytest.mark.parametrize("global_sd", [0.0, 0.03])
def test_the_expected_half_width_is_what_compare_gives(global_sd):
    """The simulation of test_compare (300 queries of 100 identities, 3 seeds a side): a training's
    per-query noise sd 0.15 (b = 2 x 0.15^2 / 300), each network's own per-query offsets sd 0.05
    (a = 2 x 0.05^2 / 300), a seed's shift of all queries of one network `global_sd`. The model's
    half-width is within 20% of the mean of compare's."""
    from test_compare import _coverage

    a, b = 2 * 0.05 ** 2 / 300, 2 * 0.15 ** 2 / 300
    pair_sd = np.sqrt(b + 2 * global_sd ** 2)
    _, width = _coverage(global_sd=global_sd, sims=150)
    assert half_width(pair_sd, a, b, 3) == pytest.approx(width, rel=0.2)


def test_noise_of_a_folder_of_configurations(tmp_path):
    """Three networks x two seeds; each network's own noise level, each seed its own draw."""
    root = tmp_path / "scratch"
    for i, noise in enumerate((0.9, 1.2, 1.5)):
        for k in range(2):
            evaluation(root / f"net{i}" / f"seed{k}", noise, 10 * i + k)
    evaluation(root / "lonely" / "seed0", 1.0, 99)  # one seed: not a configuration to study
    r = study(root, BootstrapConfig(200, 0), 0.015)
    assert r["configurations"] == ["net0", "net1", "net2"] and r["seeds"] == [0, 1]
    m = r["metrics"]["mAP"]
    values = np.array([[json.loads((root / f"net{i}" / f"seed{k}" / "metrics.json").read_text())["mAP"]
                        for k in range(2)] for i in range(3)])
    assert m["residual_sd"] == pytest.approx(decompose(values)["residual_sd"])
    assert m["pair_sd"] == pytest.approx(np.sqrt(2) * m["residual_sd"])
    assert 0 < m["pair_query_sd"] and 0 < m["query_sd"]
    assert list(m["half_width"].values()) == sorted(m["half_width"].values(), reverse=True)
    proc = run_cli("noise", root, "--half", "5", "--out", tmp_path / "n.json", check=True)
    assert "seeds a side for +-5.0" in proc.stdout
    assert json.loads((tmp_path / "n.json").read_text())["half"] == pytest.approx(0.05)


def test_noise_needs_two_configurations_of_two_seeds(tmp_path):
    evaluation(tmp_path / "only" / "seed0", 1.0, 0)
    evaluation(tmp_path / "only" / "seed1", 1.0, 1)
    assert_user_error(run_cli("noise", tmp_path, "--half", "1.5"), "2 or more configurations")
    assert_user_error(run_cli("noise", tmp_path / "nowhere", "--half", "1.5"), "no such folder")
