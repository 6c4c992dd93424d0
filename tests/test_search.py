"""Search (Alg. 1) on a small synthetic benchmark: outputs, determinism, resume, second order."""
import json

import torch

from autoreid.search.search import SearchConfig, search
from conftest import kill_after_first_checkpoint, run_cli

TINY = ["C=4", "layers=[1,1,1,1]", "height=32", "width=16", "pad=1", "P=2", "K=2",
        "embedding=16", "dropout=0.1"]


def small(**kw) -> SearchConfig:
    base = dict(C=4, layers=(1, 1, 1, 1), height=32, width=16, pad=1, P=2, K=2, embedding=16,
                dropout=0.1, epochs=2)
    return SearchConfig(**{**base, **kw})


def test_search_writes_alphas_history_and_log(market, tmp_path):
    result = search(str(market["split"]), str(tmp_path), small(), torch.device("cpu"))
    assert len(result["normal"]) == 14 and len(result["normal"][0]) == 7
    history = json.loads((tmp_path / "alpha_history.json").read_text())
    assert [h["epoch"] for h in history["epochs"]] == [1, 2]
    assert history["ops"][-1] == "part_aware"
    assert (tmp_path / "log.csv").read_text().startswith("epoch,loss_w,loss_alpha,lr,alpha_lr")
    assert (tmp_path / "config.yaml").exists()
    assert not (tmp_path / "checkpoint.pt").exists()  # removed once the run is complete


def test_objectives_and_spaces_differ(market, tmp_path):
    a = search(str(market["split"]), str(tmp_path / "a"), small(space="standard", objective="softmax",
                                                               epochs=1), torch.device("cpu"))
    b = search(str(market["split"]), str(tmp_path / "b"), small(epochs=1), torch.device("cpu"))
    assert len(a["ops"]) == 6 and len(b["ops"]) == 7


def test_second_order_step_runs(market, tmp_path):
    r = search(str(market["split"]), str(tmp_path), small(order="second", epochs=1),
               torch.device("cpu"))
    assert all(abs(sum(row) - 1) < 1e-5 for row in r["normal"])


def test_search_resumes_after_being_killed(market, tmp_path):
    """Kill `autoreid search` after its first checkpoint; the rerun resumes from it and ends with
    exactly the alphas of an uninterrupted run (same seed, CPU)."""
    args = ["search", "--split", market["split"], "--threads", "1", "--device", "cpu"]
    sets = [x for s in TINY + ["epochs=3"] for x in ("--set", s)]
    run_cli(*args, "--out", tmp_path / "ref", *sets, check=True)

    out = tmp_path / "killed"
    kill_after_first_checkpoint([*args, "--out", out, *sets], out)
    assert not (out / "alphas.json").exists()
    resumed = run_cli(*args, "--out", out, *sets, check=True)
    assert "resuming from" in resumed.stderr
    ref = json.loads((tmp_path / "ref" / "alphas.json").read_text())
    again = json.loads((out / "alphas.json").read_text())
    assert again["alpha_normal"] == ref["alpha_normal"]
    assert again["alpha_reduce"] == ref["alpha_reduce"]


def test_changed_config_does_not_resume(market, tmp_path):
    args = ["search", "--split", market["split"], "--out", tmp_path, "--device", "cpu"]
    kill_after_first_checkpoint([*args, *[x for s in TINY + ["epochs=2"] for x in ("--set", s)]],
                                tmp_path)
    proc = run_cli(*args, *[x for s in TINY + ["epochs=2", "lr=0.05"] for x in ("--set", s)],
                   check=True)
    assert "different config" in proc.stderr and "resuming" not in proc.stderr


def test_derive_cli_writes_genotype_and_figure(market, tmp_path):
    search(str(market["split"]), str(tmp_path), small(epochs=1), torch.device("cpu"))
    run_cli("derive", "--alphas", tmp_path / "alphas.json", "--out", tmp_path / "g.yaml",
            "--figure", tmp_path / "cells.png", check=True)
    from autoreid.space.genotypes import load

    g = load(tmp_path / "g.yaml")
    assert len(g.normal) == 8 and g.meta["space"] == "reid"
    assert (tmp_path / "cells.png").read_bytes()[:4] == b"\x89PNG"
