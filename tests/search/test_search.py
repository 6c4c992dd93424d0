"""Search (Alg. 1) on a small synthetic benchmark: outputs, what moves alpha, which half each step
sees, resume (the step itself: test_search_step.py)."""
import json

import pytest
import torch

from autoreid.config import resolve
from autoreid.runtime import Placement
from autoreid.search.search import SearchConfig, search
from helpers import kill_after_first_checkpoint, run_cli

TINY = ["C=4", "layers=[1,1,1,1]", "height=32", "width=16", "pad=1", "P=2", "K=2",
        "embedding=16", "dropout=0.1"]


def small(**kw) -> SearchConfig:
    base = dict(C=4, layers=(1, 1, 1, 1), height=32, width=16, pad=1, P=2, K=2, embedding=16,
                dropout=0.1, epochs=2)
    return resolve("search", overrides={**base, **kw})


def test_search_writes_alphas_history_and_log(runs):
    result, out = runs["retrieval"]
    assert len(result["normal"]) == 14 and len(result["normal"][0]) == 7
    history = json.loads((out / "alpha_history.json").read_text())
    assert [h["epoch"] for h in history["epochs"]] == [1, 2]
    assert history["ops"][-1] == "part_aware"
    assert (out / "log.csv").read_text().startswith("epoch,loss_w,loss_alpha,lr,alpha_lr")
    import csv
    import math

    rows = list(csv.DictReader((out / "log.csv").open()))
    cfg = small()  # omega: cosine from lr to lr_min over the epochs; alpha: Adam lr until 60
    cosine = [cfg.lr_min + (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * e / cfg.epochs)) / 2
              for e in range(cfg.epochs)]
    assert [float(r["lr"]) for r in rows] == pytest.approx(cosine)
    assert [float(r["alpha_lr"]) for r in rows] == [cfg.alpha_lr] * cfg.epochs
    assert (out / "config.yaml").exists()
    assert not (out / "checkpoint.pt").exists()  # removed once the run is complete


@pytest.fixture(scope="module")
def runs(market, tmp_path_factory) -> dict:
    """Searches of one seed: softmax and retrieval objectives (reid space), retrieval at λ = 1,
    and the standard space; each keeps its folder."""
    out = tmp_path_factory.mktemp("searches")
    kws = {"softmax": dict(loss="softmax", epochs=1), "retrieval": {},
           "lam1": dict(lam=1.0, epochs=1), "standard": dict(space="standard", loss="softmax", epochs=1)}
    return {name: (search(str(market["split"]), str(out / name), small(**kw), Placement.cpu()),
                   out / name) for name, kw in kws.items()}


def test_objectives_and_spaces_differ(runs):
    """Same seed: the softmax and the retrieval search take different alpha trajectories (Table 1's
    Baseline + ReID and Retrieval + ReID rows rest on it); the standard space has no part_aware."""
    assert len(runs["standard"][0]["ops"]) == 6 and len(runs["retrieval"][0]["ops"]) == 7
    assert "part_aware" not in runs["standard"][0]["ops"]
    retrieval_epoch1 = json.loads((runs["retrieval"][1] / "alpha_history.json").read_text())["epochs"][0]
    a, b = torch.tensor(runs["softmax"][0]["normal"]), torch.tensor(retrieval_epoch1["normal"])
    assert (a - b).abs().max() > 1e-3


def test_lambda_one_searches_exactly_as_the_softmax_objective(runs):
    for key in ("alpha_normal", "alpha_reduce"):
        torch.testing.assert_close(torch.tensor(runs["softmax"][0][key]),
                                   torch.tensor(runs["lam1"][0][key]), rtol=0, atol=1e-6)


def test_alpha_moves_every_epoch(runs):
    epochs = json.loads((runs["retrieval"][1] / "alpha_history.json").read_text())["epochs"]
    uniform = 1 / 7  # alpha starts at 1e-3 N(0, 1): softmax weights within 1e-3 of uniform
    for cell in ("normal", "reduce"):
        w1, w2 = (torch.tensor(e[cell]) for e in epochs)
        assert (w1 - uniform).abs().max() > 5e-3
        assert (w2 - w1).abs().max() > 5e-3


def test_omega_sees_only_d_train_and_alpha_only_d_val(market, tmp_path, monkeypatch):
    """Halves with disjoint identities: every omega batch holds D_train's labels only, every alpha
    batch D_val's; one label space over both halves (pids relabelled once, 0..N-1)."""
    import autoreid.search.search as module
    from autoreid.data.manifest import Record, read_manifest, relabel, write_manifest

    records = read_manifest(market["split"], splits=("train", "val"))
    pids = sorted({r.pid for r in records})
    first = set(pids[: len(pids) // 2])
    records = [Record(r.path, r.pid, r.camid, "train" if r.pid in first else "val") for r in records]
    write_manifest(records, tmp_path / "split.csv")
    labels, _ = relabel(records)
    expected = {s: {y for y, r in zip(labels, records) if r.split == s} for s in ("train", "val")}
    assert not expected["train"] & expected["val"]

    seen = {"train": set(), "val": set()}
    real = module.search_step
    cfg = small(lr=0.05, momentum=0.8, weight_decay=1e-4, alpha_lr=0.03, alpha_betas=(0.6, 0.99),
                alpha_weight_decay=2e-4, alpha_milestones=(1,), epochs=2)

    def recording(model, cfg_, w_params, w_opt, a_opt, train_batch, val_batch, xi, *amp):
        seen["train"] |= set(train_batch[1].tolist())
        seen["val"] |= set(val_batch[1].tolist())
        assert model.head.classifier.out_features == len(pids)
        alphas = [id(a) for a in model.backbone.arch_parameters()]
        assert [id(p) for p in a_opt.param_groups[0]["params"]] == alphas
        weights = {id(p) for p in w_params}
        assert not set(alphas) & weights  # alpha is not an op weight ...
        assert weights | set(alphas) == {id(p) for p in model.parameters()}  # ... and all else is
        assert isinstance(w_opt, torch.optim.SGD) and isinstance(a_opt, torch.optim.Adam)
        assert (w_opt.defaults["momentum"], w_opt.defaults["weight_decay"]) == (0.8, 1e-4)
        assert (a_opt.defaults["betas"], a_opt.defaults["weight_decay"]) == ((0.6, 0.99), 2e-4)
        return real(model, cfg_, w_params, w_opt, a_opt, train_batch, val_batch, xi, *amp)

    monkeypatch.setattr(module, "search_step", recording)
    search(str(tmp_path / "split.csv"), str(tmp_path / "out"), cfg, Placement.cpu())
    assert seen["train"] and seen["train"] <= expected["train"]
    assert seen["val"] and seen["val"] <= expected["val"]
    import csv

    rows = list(csv.DictReader((tmp_path / "out" / "log.csv").open()))
    assert [float(r["alpha_lr"]) for r in rows] == pytest.approx([0.03, 0.003])  # x0.1 at epoch 1
    assert float(rows[0]["lr"]) == 0.05


@pytest.mark.slow
def test_search_resumes_after_being_killed(market, tmp_path):
    """Kill `autoreid search` after its first checkpoint; the rerun resumes from it and ends with
    exactly the alphas of an uninterrupted run (same seed, CPU)."""
    args = ["search", "--split", market["split"], "--threads", "1", "--set", "device=cpu"]
    sets = [x for s in TINY + ["epochs=3"] for x in ("--set", s)]
    run_cli(*args, "--out-dir", tmp_path / "ref", *sets, check=True)

    out = tmp_path / "killed"
    kill_after_first_checkpoint([*args, "--out-dir", out, *sets], out)
    assert not (out / "alphas.json").exists()
    resumed = run_cli(*args, "--out-dir", out, *sets, check=True)
    assert "resuming from" in resumed.stderr
    ref = json.loads((tmp_path / "ref" / "alphas.json").read_text())
    again = json.loads((out / "alphas.json").read_text())
    assert again["alpha_normal"] == ref["alpha_normal"]
    assert again["alpha_reduce"] == ref["alpha_reduce"]


def test_changed_config_does_not_resume(market, tmp_path):
    args = ["search", "--split", market["split"], "--out-dir", tmp_path, "--set", "device=cpu"]
    kill_after_first_checkpoint([*args, *[x for s in TINY + ["epochs=2"] for x in ("--set", s)]],
                                tmp_path)
    proc = run_cli(*args, *[x for s in TINY + ["epochs=2", "lr=0.05"] for x in ("--set", s)],
                   check=True)
    assert "different config" in proc.stderr and "resuming" not in proc.stderr


def test_derive_cli_writes_genotype_and_figure(runs, tmp_path):
    run_cli("derive", "--alphas", runs["standard"][1] / "alphas.json", "--out", tmp_path / "g.yaml",
            "--figure", tmp_path / "cells.png", check=True)
    from autoreid.space.genotypes import load

    g = load(tmp_path / "g.yaml")
    assert len(g.normal) == 8 and g.meta["space"] == "standard"
    assert (tmp_path / "cells.png").read_bytes()[:4] == b"\x89PNG"


def test_the_search_logs_its_convergence(runs):
    """Each epoch: the mean normalised entropy of the op weights (1: uniform) and whether the
    genotype derived then differs from the previous epoch's, as the history's weights say."""
    import csv

    from autoreid.search.derive import derive, normalised_entropy, structure

    result, out = runs["retrieval"]
    rows = list(csv.DictReader((out / "log.csv").open()))
    history = json.loads((out / "alpha_history.json").read_text())
    derived = [structure(derive(h["normal"], h["reduce"], history["ops"])) for h in history["epochs"]]
    for i, (row, h) in enumerate(zip(rows, history["epochs"])):
        assert float(row["alpha_entropy"]) == pytest.approx(
            normal_entropy := normalised_entropy(h["normal"], h["reduce"]), abs=1e-5)
        assert 0 < normal_entropy <= 1
        if i:
            assert int(row["genotype_changed"]) == int(derived[i] != derived[i - 1])
    assert result["alpha_entropy"] == float(rows[-1]["alpha_entropy"])
    assert 1 <= result["genotype_stable_since"] <= len(rows)


def test_entropy_and_stability_by_hand():
    from autoreid.search.derive import normalised_entropy
    from autoreid.search.search import stable_since

    assert normalised_entropy([[0.25] * 4]) == pytest.approx(1.0)
    assert normalised_entropy([[1.0, 0.0, 0.0]], [[0.5, 0.5, 0.0]]) == pytest.approx(
        (0 + 0.6931471805599453 / 1.0986122886681098) / 2)
    flags = [1, 1, 0, 1, 0, 0]
    assert stable_since([{"epoch": e + 1, "genotype_changed": f} for e, f in enumerate(flags)]) == 4
    assert stable_since([{"epoch": 1, "genotype_changed": 1}]) == 1
