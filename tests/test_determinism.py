"""The same seed on CPU gives the same genotype and the same metrics: search -> derive -> train ->
extract -> evaluate, twice, through the CLI, in separate processes."""
import json

import yaml

from conftest import run_cli

NET = ["C=4", "layers=[1,1,1,1]", "height=32", "width=16", "pad=1", "P=2", "K=2", "embedding=16",
       "epochs=2"]


def pipeline(market, out):
    sets = [x for s in NET for x in ("--set", s)]
    run_cli("search", "--split", market["split"], "--out", out / "search", "--device", "cpu",
            "--threads", "1", *sets, check=True)
    run_cli("derive", "--alphas", out / "search" / "alphas.json", "--out", out / "genotype.yaml",
            check=True)
    run_cli("train", "--manifest", market["manifest"], "--arch", out / "genotype.yaml", "--out",
            out / "train", "--device", "cpu", "--threads", "1", *sets, check=True)
    run_cli("extract", "--manifest", market["manifest"], "--checkpoint", out / "train" / "model.pt",
            "--out", out / "features.h5", "--device", "cpu", check=True)
    run_cli("evaluate", "--features", out / "features.h5", "--out", out / "metrics.json",
            check=True)
    genotype = yaml.safe_load((out / "genotype.yaml").read_text())
    metrics = json.loads((out / "metrics.json").read_text())
    del metrics["features"]  # the path
    return genotype, metrics


def test_same_seed_same_genotype_and_metrics(market, tmp_path):
    first, second = pipeline(market, tmp_path / "a"), pipeline(market, tmp_path / "b")
    first[0].pop("meta", None), second[0].pop("meta", None)  # names the alphas file's path
    assert first == second
    assert 0 < first[1]["mAP"] <= 1
