"""The same seed on CPU gives the same genotype and the same metrics: search -> derive -> train
(scoring mAP at its end), twice, each command in a process of its own (so that hash seeds and
anything else process-specific differ between the two)."""
import pytest
import csv
import json

from autoreid.search.derive import derive
from autoreid.space import genotypes
from helpers import run_cli

NET = ["C=4", "layers=[1,1,1,1]", "height=32", "width=16", "pad=1", "P=2", "K=2", "embedding=16",
       "epochs=2"]


def pipeline(market, out):
    sets = [x for s in NET for x in ("--set", s)]
    run_cli("search", "--split", market["split"], "--out-dir", out / "search", "--set", "device=cpu",
            "--threads", "1", *sets, check=True)
    a = json.loads((out / "search" / "alphas.json").read_text())
    genotype = derive(a["normal"], a["reduce"], a["ops"], a["nodes"])
    genotypes.save(genotype, out / "genotype.yaml")
    run_cli("train", "--manifest", market["manifest"], "--arch", out / "genotype.yaml", "--out-dir",
            out / "train", "--set", "device=cpu", "--threads", "1", *sets, "--set", "eval_every=2",
            check=True)
    rows = list(csv.DictReader(open(out / "train" / "log.csv")))
    return genotype, [(r["loss"], r["mAP"], r["rank1"]) for r in rows]


@pytest.mark.slow
def test_same_seed_same_genotype_and_metrics(market, tmp_path):
    first, second = pipeline(market, tmp_path / "a"), pipeline(market, tmp_path / "b")
    assert first == second
    assert 0 < float(first[1][-1][1]) <= 1  # the final mAP was scored
