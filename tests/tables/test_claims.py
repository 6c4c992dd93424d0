"""The claims table: each claim's effect is B - A of the files its sides name (a method's side: the
mean over its runs), its interval and verdict follow autoreid.compare, and its inputs are declared."""
import pandas as pd
import pytest

from autoreid import tables
from autoreid.cli import main
from test_table_numbers import SELECTION, build, ev


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Fake results of every table (and a selection), written once."""
    base = tmp_path_factory.mktemp("claims")
    _, _, params, w = build(base, 1)
    return base, params, w


@pytest.fixture
def claims(world, tmp_path):
    """`autoreid tables --table claims`, called in the body of each test that reads the table (a
    mutation tool credits a test with the code its body runs, not its fixtures)."""
    base, params, w = world

    def run():
        assert main(["tables", "--params", str(base / "params.yaml"), "--table", "claims",
                     "--out-dir", str(tmp_path)]) == 0
        df = pd.read_csv(tmp_path / "claims.csv")
        return df.set_index("Claim"), params, w, tmp_path
    return run


def test_one_call_writes_every_table_asked_for(world, tmp_path):
    """tables.build, the stage's entry: each table's four files, in the order asked."""
    base, params, _ = world
    written = tables.build(params, ["claims", "2"], str(tmp_path))
    assert written == [str(tmp_path / f"{stem}{ext}") for stem in ("claims", "table2")
                       for ext in (".md", ".tex", ".csv", ".json")]
    assert all((tmp_path / p).exists() for p in written)


def _mean(*values: float) -> float:
    return sum(values) / len(values)


# The default profile's claims, in order: (claim, A, B, n (A), n (B), the paper's effect on mAP),
# the effects from Tables 1, 3 and 4 of the paper (run means for the search claims; Table 4's
# Auto-ReID against Table 1's networks).
DEFAULT_CLAIMS = [
    ("the ReID search space beats the standard one", "Baseline runs",
     "Baseline + ReID Search Space runs", "4x1", "4x1",
     _mean(71.3, 71.2, 74.6, 72.2) - _mean(68.5, 68.2, 65.8, 66.5)),
    ("the retrieval objective beats softmax in the search", "Baseline + ReID Search Space runs",
     "Retrieval + ReID Search Space runs", "4x1", "4x1",
     _mean(72.7, 73.4, 73.1, 74.2) - _mean(71.3, 71.2, 74.6, 72.2)),
    ("Auto-ReID beats ResNet-18", "ResNet-18", "Auto-ReID", "1x1", "1x1", 74.6 - 66.0),
    ("Auto-ReID beats ResNet-34", "ResNet-34", "Auto-ReID", "1x1", "1x1", 74.6 - 68.0),
    ("Auto-ReID beats ResNet-50", "ResNet-50", "Auto-ReID", "1x1", "1x1", 74.6 - 68.5),
    ("Auto-ReID beats DARTS", "DARTS", "Auto-ReID", "1x1", "1x1", 74.6 - 65.2),
    ("Auto-ReID beats GDAS", "GDAS", "Auto-ReID", "1x1", "1x1", 74.6 - 66.8),
    ("searched cells beat random cells (standard space)", "random standard cells",
     "searched runs", "2x1", "4x1", None),
    ("searched cells beat random cells (reid space)", "random reid cells", "searched runs",
     "2x1", "8x1", None),
    ("ImageNet initialisation beats training from scratch (Auto-ReID)", "Auto-ReID, from scratch",
     "Auto-ReID, ImageNet", "1x1", "1x1", 85.1 - 74.6),
    ("re-ranking helps (Auto-ReID)", "Auto-ReID", "Auto-ReID + RK", "1x1", "1x1", 94.2 - 85.1),
    ("ImageNet initialisation beats training from scratch (Baseline)", "Baseline, from scratch",
     "Baseline, ImageNet", "1x1", "1x1", 83.4 - 68.5),
    ("re-ranking helps (Baseline)", "Baseline", "Baseline + RK", "1x1", "1x1", 93.5 - 83.4),
    ("PCB's parts help (DARTS)", "DARTS", "DARTS+PCB", "1x1", "1x1", 70.3 - 65.2),
    ("PCB's parts help (GDAS)", "GDAS", "GDAS+PCB", "1x1", "1x1", 68.1 - 66.8),
    ("PCB's parts help (Baseline)", "Baseline", "Baseline+PCB", "1x1", "1x1", 70.2 - 68.5),
]
COLUMNS = ["Claim", "A", "B", "n (A)", "n (B)", "mAP A", "mAP B", "effect (B - A)", "95% CI",
           "verdict", "paper effect"]


def test_the_default_profiles_claims_their_sides_and_the_papers_effects(claims):
    df, *_ = claims()
    assert list(df.reset_index().columns) == COLUMNS
    assert list(df.index) == [c[0] for c in DEFAULT_CLAIMS]
    for claim, a, b, n_a, n_b, paper in DEFAULT_CLAIMS:
        row = df.loc[claim]
        assert (row["A"], row["B"], row["n (A)"], row["n (B)"]) == (a, b, n_a, n_b), claim
        if paper is None:
            assert pd.isna(row["paper effect"]), claim
        else:
            assert row["paper effect"] == pytest.approx(paper), claim


def test_each_sides_map_is_its_files_and_the_effect_their_difference(claims):
    df, _, w, _ = claims()
    row = df.loc["Auto-ReID beats DARTS"]
    assert row["mAP A"] == pytest.approx(mAP(w, ev("market1501", "scratch", "DARTS_V2")))
    assert row["mAP B"] == pytest.approx(mAP(w, ev("market1501", "scratch", SELECTION["AutoReID"])))
    for claim, row in df.iterrows():
        assert row["effect (B - A)"] == pytest.approx(row["mAP B"] - row["mAP A"]), claim


def mAP(w, rel: str) -> float:
    return 100 * w.values[rel]["mAP"]


def test_a_methods_side_is_the_mean_over_its_runs(claims):
    df, params, w, _ = claims()
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
    df, _, w, _ = claims()
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
    df, _, w, _ = claims()
    row = df.loc["re-ranking helps (Auto-ReID)"]
    effect = (mAP(w, ev("market1501", "imagenet", "AutoReID", "metrics_rerank"))
              - mAP(w, ev("market1501", "imagenet", "AutoReID")))
    assert row["effect (B - A)"] == pytest.approx(effect)
    assert row["95% CI"] == f"[{effect:.1f}, {effect:.1f}]"
    assert row["verdict"] == ("reproduced" if effect > 0 else "contradicted")


def test_one_training_a_side_carries_the_profiles_seed_noise(claims):
    df, params, _, _ = claims()
    row = df.loc["Auto-ReID beats ResNet-18"]
    lo, hi = (float(v) for v in row["95% CI"].strip("[]").split(","))
    half = 1.959964 * 2 ** 0.5 * 100 * params["seeds"]["sd"]["mAP"]
    assert hi - lo == pytest.approx(2 * half, abs=0.11)
    assert (row["verdict"] == "not resolved") == (lo <= 0 <= hi)


def test_random_cells_against_the_searched_runs(claims):
    df, params, w, _ = claims()
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

    _, params, _, _ = claims()
    read = record_reads(monkeypatch, ["autoreid.tables.claims"])
    claims_table.write(params, str(tmp_path / "claims"))
    declared = {os.path.normpath(p) for p in tables.inputs(params, "claims")}
    assert read and set(read) <= declared, sorted(set(read) - declared)
    assert not any("scratch/AutoReID/" in p for p in declared)  # rule best_map_reid: the runs


def test_the_summary_metrics_are_the_tables_numbers(claims):
    """claims.json (what `dvc metrics` reads): per claim the effect to two places, the interval's
    ends and 1 where the claim is reproduced."""
    import json

    df, *_, folder = claims()
    summary = json.loads((folder / "claims.json").read_text())
    assert list(summary) == list(df.index)
    for claim, row in df.iterrows():
        lo, hi = (float(v) for v in row["95% CI"][1:-1].split(", "))
        assert summary[claim] == {"effect": round(row["effect (B - A)"], 2), "ci95_lo": lo,
                                  "ci95_hi": hi, "reproduced": int(row["verdict"] == "reproduced")}
    assert {row["reproduced"] for row in summary.values()} == {0, 1}


def test_the_table_is_titled_and_labelled(claims):
    *_, folder = claims()
    title = "Claims: the paper's claims tested on this profile"
    assert (folder / "claims.md").read_text().startswith(f"# {title}\n")
    tex = (folder / "claims.tex").read_text().splitlines()
    assert tex[-2] == r"\label{tab:claims}" and tex[-3].startswith(rf"\caption{{{title}. ")
    assert "paper effect: from Tables 1, 3 and 4" in (folder / "claims.md").read_text()


def _params(**table1):
    from autoreid.config import load_params

    params = load_params("params/default.yaml")
    params["table1"].update(table1)
    return params


def test_the_claims_follow_the_profiles_variants():
    """A claim is made where the profile has both its sides: a pair of search variants, random
    cells and a searched run of their space."""
    from autoreid.tables.claims import claims as plan

    by = {c.claim: c for c in plan(_params(variants=["baseline", "baseline_reid"]), None)}
    assert "the ReID search space beats the standard one" in by
    assert "the retrieval objective beats softmax in the search" not in by
    reid = by["searched cells beat random cells (reid space)"]
    assert [u[0].split("/")[-2] for u in reid.b_units] == [f"baseline_reid-run{r}" for r in range(1, 5)]
    standard = by["searched cells beat random cells (standard space)"]
    assert [u[0].split("/")[-2] for u in standard.a_units] == ["random_standard-run1",
                                                               "random_standard-run2"]
    by = {c.claim: c for c in plan(_params(variants=["baseline_reid", "retrieval_reid"]), None)}
    assert "searched cells beat random cells (standard space)" not in by
    assert "the ReID search space beats the standard one" not in by
    assert "the retrieval objective beats softmax in the search" in by
    by = {c.claim for c in plan(_params(random_cells=0), None)}
    assert not any(c.startswith("searched cells beat random cells") for c in by)


def test_a_network_the_paper_does_not_report_has_no_paper_effect():
    """A published cell outside the paper's tables (the released Baseline's) is named as the
    genotypes name it, and the paper gives no effect for it."""
    from autoreid.tables.claims import claims as plan

    params = _params(published=["DARTS_V2", "BASELINE"])
    params["table4"]["archs"] = ["BASELINE"]
    by = {c.claim: c for c in plan(params, None)}
    c = by["Auto-ReID beats BASELINE"]
    assert (c.a, c.b, c.paper) == ("BASELINE", "Auto-ReID", None)
    assert by["Auto-ReID beats DARTS"].paper == pytest.approx(74.6 - 65.2)
    c = by["PCB's parts help (BASELINE)"]
    assert (c.a, c.b, c.paper) == ("BASELINE", "BASELINE+PCB", None)


def test_every_run_the_selection_may_choose_is_declared():
    """Where no claim compares the searched runs themselves, the selected cells' files (one of the
    runs, known once `select` has run) are still among the claims' inputs."""
    from autoreid.experiments import searched_rows
    from autoreid.tables import claims as claims_table
    from autoreid.tables.rows import files

    params = _params(variants=["baseline", "retrieval_reid"], random_cells=0)
    declared = set(claims_table.inputs(params))
    runs = [r.arch for r in searched_rows(params)]
    assert len(runs) == 8
    for arch in runs:
        assert set(files(params, "market1501", "scratch", arch)) <= declared, arch


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
