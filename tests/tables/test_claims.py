"""The claims table: each claim's effect is B - A of the files its sides name (a method's side: the
mean over its runs), its interval and verdict follow autoreid.compare, and its inputs are declared."""
import pandas as pd
import pytest

from autoreid import tables
from autoreid.cli import main
from test_table_numbers import SELECTION, build, ev


@pytest.fixture(scope="module")
def claims(tmp_path_factory):
    base = tmp_path_factory.mktemp("claims")
    folder, _, params, w = build(base, 1, 2, 3, 4, 5, 6)
    assert main(["tables", "--params", str(base / "params.yaml"), "--table", "claims",
                 "--out-dir", str(folder)]) == 0
    df = pd.read_csv(folder / "claims.csv")
    return df.set_index("Claim"), params, w, folder


def mAP(w, rel: str) -> float:
    return 100 * w.values[rel]["mAP"]


def test_a_methods_side_is_the_mean_over_its_runs(claims):
    df, params, w, _ = claims
    runs = range(1, params["table1"]["runs"] + 1)
    mean = {v: sum(mAP(w, ev("market1501", "scratch", f"{v}-run{r}")) for r in runs) / len(runs)
            for v in ("baseline", "baseline_reid", "retrieval_reid")}
    row = df.loc["the ReID search space beats the standard one"]
    assert row["effect (B - A)"] == pytest.approx(mean["baseline_reid"] - mean["baseline"])
    assert row["n (A)"] == "4x1" and row["n (B)"] == "4x1"
    row = df.loc["the retrieval objective beats softmax in the search"]
    assert row["effect (B - A)"] == pytest.approx(mean["retrieval_reid"] - mean["baseline_reid"])
    assert row["paper effect"] == pytest.approx((72.7 + 73.4 + 73.1 + 74.2 - 71.3 - 71.2 - 74.6
                                                 - 72.2) / 4)


def test_one_network_against_another_and_the_selected_cells(claims):
    df, _, w, _ = claims
    auto = mAP(w, ev("market1501", "scratch", SELECTION["AutoReID"]))
    row = df.loc["Auto-ReID beats ResNet-50"]
    assert row["effect (B - A)"] == pytest.approx(auto - mAP(w, ev("market1501", "scratch", "resnet50")))
    assert row["paper effect"] == pytest.approx(74.6 - 68.5)
    row = df.loc["ImageNet initialisation beats training from scratch (Auto-ReID)"]
    assert row["effect (B - A)"] == pytest.approx(mAP(w, ev("market1501", "imagenet", "AutoReID")) - auto)
    row = df.loc["PCB's parts help (Baseline)"]
    plain = mAP(w, ev("market1501", "scratch", SELECTION["Baseline"]))
    assert row["effect (B - A)"] == pytest.approx(mAP(w, ev("market1501", "pcb", "Baseline")) - plain)


def test_re_ranking_the_same_training_has_no_seed_noise(claims):
    """Every query of a fake file has its mAP: no query spread; the same network on both sides:
    no seed spread either, so the verdict is the sign of the effect."""
    df, _, w, _ = claims
    row = df.loc["re-ranking helps (Auto-ReID)"]
    effect = (mAP(w, ev("market1501", "imagenet", "AutoReID", "metrics_rerank"))
              - mAP(w, ev("market1501", "imagenet", "AutoReID")))
    assert row["effect (B - A)"] == pytest.approx(effect)
    assert row["95% CI"] == f"[{effect:.1f}, {effect:.1f}]"
    assert row["verdict"] == ("reproduced" if effect > 0 else "contradicted")


def test_one_training_a_side_carries_the_profiles_seed_noise(claims):
    df, params, _, _ = claims
    row = df.loc["Auto-ReID beats ResNet-18"]
    lo, hi = (float(v) for v in row["95% CI"].strip("[]").split(","))
    half = 1.959964 * 2 ** 0.5 * 100 * params["seeds"]["sd"]["mAP"]
    assert hi - lo == pytest.approx(2 * half, abs=0.11)
    assert (row["verdict"] == "not resolved") == (lo <= 0 <= hi)


def test_random_cells_against_the_searched_runs(claims):
    df, params, w, _ = claims
    row = df.loc["searched cells beat random cells (reid space)"]
    n = params["table1"]["random_cells"]
    cells = sum(mAP(w, ev("market1501", "scratch", f"random_reid-run{r}")) for r in range(1, n + 1)) / n
    runs = [f"{v}-run{r}" for v in ("baseline_reid", "retrieval_reid")
            for r in range(1, params["table1"]["runs"] + 1)]
    searched = sum(mAP(w, ev("market1501", "scratch", a)) for a in runs) / len(runs)
    assert row["effect (B - A)"] == pytest.approx(searched - cells)
    assert row["n (A)"] == f"{n}x1" and row["n (B)"] == "8x1"


def test_the_claims_declare_every_file_they_read(claims, monkeypatch, tmp_path):
    """What the claims job reads is among its rule's inputs (else it races the jobs writing them)."""
    import os

    from autoreid.tables import claims as claims_table
    from helpers import record_reads

    _, params, _, _ = claims
    read = record_reads(monkeypatch, ["autoreid.tables.claims"])
    claims_table.write(params, str(tmp_path / "claims"))
    declared = {os.path.normpath(p) for p in tables.inputs(params, "claims")}
    assert read and set(read) <= declared, sorted(set(read) - declared)
    assert not any("scratch/AutoReID/" in p for p in declared)  # rule best_map_reid: the runs


def test_the_summary_metrics_are_numbers(claims):
    import json

    *_, folder = claims
    summary = json.loads((folder / "claims.json").read_text())
    row = summary["Auto-ReID beats GDAS"]
    assert set(row) == {"effect", "ci95_lo", "ci95_hi", "reproduced"}
    assert row["ci95_lo"] <= row["effect"] <= row["ci95_hi"]


def test_with_seeds_for_single_networks_the_selected_cells_train_under_their_names():
    """seeds.networks: a claim's single networks are read from their own seeds, the selected cells
    from their trainings under their names (known before `select` has run); a method's runs keep
    seeds.count."""
    from autoreid.config import load_params
    from autoreid.tables.claims import claims as plan

    params = load_params("params/default.yaml")
    params["seeds"]["networks"] = 3
    by = {c.claim: c for c in plan(params, None)}
    resnet = by["Auto-ReID beats ResNet-18"]
    assert [p.rsplit("/", 2)[-2:] for p in resnet.b_units[0]] == [["AutoReID", f"seed{k}"]
                                                                  for k in range(3)]
    assert len(resnet.a_units) == 1 and len(resnet.a_units[0]) == 3
    assert by["ImageNet initialisation beats training from scratch (Baseline)"].a_units[0][2].endswith(
        "market1501/scratch/Baseline/seed2")
    assert all(len(u) == 1 for u in by["the ReID search space beats the standard one"].a_units)
