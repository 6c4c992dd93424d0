"""The "beyond the paper" table: its lines on the default profile, each side's files, effects as
B - A with compare's interval and verdict, the search lines' spread and skip edges, the files it
declares, and its summary for `dvc metrics`."""
import json

import pandas as pd
import pytest
import yaml

from autoreid import tables
from autoreid.cli import main
from autoreid.space.genotypes import PUBLISHED
from helpers import ROOT
from test_table_numbers import World

GENOTYPES = {"retrieval_reid": "DARTS_V2", "retrieval_reid_beta": "GDAS_V1",
             "retrieval_reid_dartsminus": "RETRIEVAL_REID_SEARCH_SPACE", "random_reid": "BASELINE"}


def genotype(variant: str, run: int) -> dict:
    """The variant's published cell; the robust searches' run 2 with its first edge's op changed
    (one edge of 16 the runs do not share)."""
    d = PUBLISHED[GENOTYPES[variant]].to_dict()
    if variant.startswith("retrieval_reid_") and run == 2:
        d["normal"][0][0] = "max_pool_3x3" if d["normal"][0][0] != "max_pool_3x3" else "avg_pool_3x3"
    return d


def skips(d: dict) -> int:
    return sum(op == "skip_connect" for op, *_ in d["normal"] + d["reduce"])


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """Fake metrics for every evaluation the table reads, published genotypes for its cells."""
    base = tmp_path_factory.mktemp("beyond")
    params = yaml.safe_load((ROOT / "params" / "default.yaml").read_text())
    params["results"] = str(base / "results")
    params["beyond"].update(ingredient_networks=["AutoReID"], runs=2)  # the study's shape, smaller
    w = World(base / "results", seed=5)
    for f in tables.inputs(params, "beyond"):
        rel = f[len(params["results"]) + 1:]
        if rel.endswith("metrics.json"):
            w.metrics(rel)
        elif rel.endswith("genotype.yaml"):
            variant, run = rel.split("/")[-3], int(rel.split("/")[-2].removeprefix("run"))
            (base / "results" / rel).parent.mkdir(parents=True, exist_ok=True)
            (base / "results" / rel).write_text(yaml.safe_dump(genotype(variant, run)))
    (base / "params.yaml").write_text(yaml.safe_dump(params))
    return base, params, w


def run(world, tmp_path):
    base, params, w = world
    assert main(["tables", "--params", str(base / "params.yaml"), "--table", "beyond",
                 "--out-dir", str(tmp_path)]) == 0
    return pd.read_csv(tmp_path / "beyond.csv").set_index("Comparison"), params, w


def mAP(w, setting: str, arch: str) -> float:
    return 100 * w.values[f"evaluate/market1501/{setting}/{arch}/seed0/metrics.json"]["mAP"]


def test_the_tiny_profile_takes_resnet18_for_the_ingredients_and_two_runs_a_search():
    from autoreid.config import load_params
    from autoreid.tables.beyond import lines

    found = lines(load_params(ROOT / "params" / "default.yaml"))
    assert [x.comparison for x in found if x.group == "ingredient"] == [
        f"{i} alone (ResNet-18)" for i in ("bnneck", "gem", "erasing", "warmup", "smoothing", "cosine")]
    assert {len(x.b_units) for x in found if x.group == "search"} == {2, 4}  # 2 robust runs; 4 plain


def test_the_lines_of_each_group(world, tmp_path):
    df, params, _ = run(world, tmp_path)
    assert list(df.index) == [
        "modern recipe against the paper's (Auto-ReID)", "modern recipe against the paper's (ResNet-50)",
        "Auto-ReID against ResNet-50, modern recipe",
        *[f"{i} alone (Auto-ReID)" for i in ("bnneck", "gem", "erasing", "warmup", "smoothing", "cosine")],
        "β-DARTS, Retrieval + ReID cells against Retrieval + ReID Search Space (DARTS)",
        "β-DARTS, Retrieval + ReID cells against random ReID cells",
        "DARTS−, Retrieval + ReID cells against Retrieval + ReID Search Space (DARTS)",
        "DARTS−, Retrieval + ReID cells against random ReID cells",
        "Retrieval + ReID Search Space (DARTS) cells against random ReID cells"]
    assert list(df["Group"]) == ["recipe"] * 3 + ["ingredient"] * 6 + ["search"] * 5
    row = df.loc["β-DARTS, Retrieval + ReID cells against Retrieval + ReID Search Space (DARTS)"]
    assert (row["n (A)"], row["n (B)"]) == ("4x1", "2x1")  # Table 1's runs; beyond.runs
    assert df.loc["warmup alone (Auto-ReID)", "n (B)"] == "1x1"


def test_each_side_reads_its_own_files_and_the_effect_is_their_difference(world, tmp_path):
    df, params, w = run(world, tmp_path)
    row = df.loc["modern recipe against the paper's (ResNet-50)"]
    a, b = mAP(w, "scratch", "resnet50"), mAP(w, "modern", "resnet50")
    assert (row["mAP A"], row["mAP B"]) == pytest.approx((a, b))
    assert row["mAP effect (B - A)"] == pytest.approx(b - a)
    row = df.loc["erasing alone (Auto-ReID)"]
    effect = mAP(w, "erasing", "AutoReID") - mAP(w, "scratch", "AutoReID")
    assert row["mAP effect (B - A)"] == pytest.approx(effect)
    row = df.loc["DARTS−, Retrieval + ReID cells against random ReID cells"]
    runs = [mAP(w, "scratch", f"retrieval_reid_dartsminus-run{r}") for r in (1, 2)]
    cells = [mAP(w, "scratch", f"random_reid-run{r}") for r in (1, 2)]
    assert row["mAP effect (B - A)"] == pytest.approx(sum(runs) / 2 - sum(cells) / 2)
    for _, row in df.iterrows():  # one training a side carries seeds.sd: every effect has a width
        lo, hi = (float(v) for v in row["mAP 95% CI"].strip("[]").split(","))
        assert lo < row["mAP effect (B - A)"] < hi
        verdict = "gain" if lo > 0 else "loss" if hi < 0 else "not resolved"
        assert row["mAP verdict"] == verdict
        for side in ("A", "B"):
            lo, hi = (float(v) for v in row[f"mAP {side} 95% CI"].strip("[]").split(","))
            assert lo <= row[f"mAP {side}"] <= hi


def test_the_search_lines_show_each_sides_spread_and_skip_edges(world, tmp_path):
    import statistics

    df, _, w = run(world, tmp_path)
    row = df.loc["β-DARTS, Retrieval + ReID cells against Retrieval + ReID Search Space (DARTS)"]
    plain = [mAP(w, "scratch", f"retrieval_reid-run{r}") for r in range(1, 5)]
    beta = [mAP(w, "scratch", f"retrieval_reid_beta-run{r}") for r in (1, 2)]
    assert row["runs' mAP sd (A / B)"] == f"{statistics.stdev(plain):.1f} / {statistics.stdev(beta):.1f}"
    beta_skips = (skips(genotype("retrieval_reid_beta", 1)) + skips(genotype("retrieval_reid_beta", 2))) / 2
    assert row["skip edges (A / B)"] == f"{skips(genotype('retrieval_reid', 1)):.1f} / {beta_skips:.1f}"
    # the plain runs all derived one cell; the two β-DARTS runs share 15 of their 16 node inputs
    assert row["cells' agreement (A / B)"] == f"1.00 / {15 / 16:.2f}"
    assert pd.isna(df.loc["bnneck alone (Auto-ReID)", "skip edges (A / B)"])
    assert pd.isna(df.loc["bnneck alone (Auto-ReID)", "cells' agreement (A / B)"])


def test_the_table_declares_every_file_it_reads(world, monkeypatch, tmp_path):
    import os

    from autoreid.tables import beyond
    from helpers import record_reads

    _, params, _ = world
    read = record_reads(monkeypatch, ["autoreid.tables.beyond", "autoreid.space.genotypes"])
    beyond.write(params, str(tmp_path / "beyond"))
    declared = {os.path.normpath(p) for p in tables.inputs(params, "beyond")}
    assert read and set(read) <= declared, sorted(set(read) - declared)
    assert any(p.endswith("retrieval_reid_beta/run2/genotype.yaml") for p in declared)


def test_the_summary_and_the_anchors(world, tmp_path):
    df, *_ = run(world, tmp_path)
    summary = json.loads((tmp_path / "beyond.json").read_text())
    assert list(summary) == list(df.index)
    for comparison, row in df.iterrows():
        lo, hi = (float(v) for v in row["mAP 95% CI"][1:-1].split(", "))
        assert summary[comparison] == {"effect": round(row["mAP effect (B - A)"], 2), "ci95_lo": lo,
                                       "ci95_hi": hi, "gain": int(row["mAP verdict"] == "gain")}
    md = (tmp_path / "beyond.md").read_text()
    assert md.startswith("# Beyond the paper: a modern recipe and robust searches\n")
    assert "bag of tricks (Luo et al., CVPRW 2019) 94.1 / 85.7" in md
