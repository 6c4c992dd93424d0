"""SIGTERM (a scheduler's warning before it kills or preempts a job): search and train write a
checkpoint mid-epoch, exit with 143, and the rerun resumes to exactly the uninterrupted result."""
import json
import signal
import subprocess
import sys

import pytest
import torch

import autoreid.runtime
from autoreid.config import resolve
from autoreid.runtime import Placement
from autoreid.search.search import search
from autoreid.train.train import train
from helpers import ROOT, signal_at_first_checkpoint


def signal_at(monkeypatch, module, epoch: int, step: int, signum=signal.SIGTERM) -> None:
    """Make the run send itself `signum` while it is at (epoch, step), both counted from 0."""

    class Signalling(autoreid.runtime.Progress):
        def step(self, e, s, images, **values):
            super().step(e, s, images, **values)
            if (e, s) == (epoch, step):
                signal.raise_signal(signum)  # in this thread: handled before step() returns

    monkeypatch.setattr(module, "Progress", Signalling)


def checkpoint_at(path) -> tuple[int, int]:
    state = torch.load(path, weights_only=True)
    return state["epoch"], state["step"]


def test_train_stops_mid_epoch_and_resumes_to_the_same_weights(market, tmp_path, monkeypatch):
    import autoreid.train.train as module

    cfg = resolve("train", overrides=dict(
        C=4, layers=(1, 1, 1, 1), height=32, width=16, pad=1, P=2, K=2, epochs=3,
        embedding=16, dropout=0.1))
    args = (str(market["manifest"]), "DARTS_V2")
    train(*args, str(tmp_path / "ref"), cfg, Placement.cpu())

    out = tmp_path / "stopped"
    signal_at(monkeypatch, module, epoch=1, step=0)
    with pytest.raises(SystemExit) as stopped:
        train(*args, str(out), cfg, Placement.cpu())
    assert stopped.value.code == 128 + signal.SIGTERM
    assert checkpoint_at(out / "checkpoint.pt") == (1, 1)  # epoch 2, after its first step
    assert not (out / "model.pt").exists()

    monkeypatch.undo()
    train(*args, str(out), cfg, Placement.cpu())
    a = torch.load(tmp_path / "ref" / "model.pt", weights_only=True)["state_dict"]
    b = torch.load(out / "model.pt", weights_only=True)["state_dict"]
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert (tmp_path / "ref" / "log.csv").read_text().split("\n")[1].split(",")[:2] == \
        (out / "log.csv").read_text().split("\n")[1].split(",")[:2]  # epoch 1's loss


def test_search_stops_on_sigusr1_and_resumes_to_the_same_alphas(market, tmp_path, monkeypatch):
    import autoreid.search.search as module

    cfg = resolve("search", overrides=dict(C=4, layers=(1, 1, 1, 1), height=32, width=16, pad=1, P=2, K=2,
                       embedding=16, dropout=0.1, epochs=2))
    ref = search(str(market["split"]), str(tmp_path / "ref"), cfg, Placement.cpu())

    out = tmp_path / "stopped"
    signal_at(monkeypatch, module, epoch=0, step=0, signum=signal.SIGUSR1)
    with pytest.raises(SystemExit) as stopped:
        search(str(market["split"]), str(out), cfg, Placement.cpu())
    assert stopped.value.code == 128 + signal.SIGUSR1
    assert checkpoint_at(out / "checkpoint.pt") == (0, 1)

    monkeypatch.undo()
    again = search(str(market["split"]), str(out), cfg, Placement.cpu())
    assert again["alpha_normal"] == ref["alpha_normal"]
    assert again["alpha_reduce"] == ref["alpha_reduce"]
    assert (out / "log.csv").read_text().split("\n")[1].split(",")[:3] == \
        (tmp_path / "ref" / "log.csv").read_text().split("\n")[1].split(",")[:3]


def test_cli_writes_a_checkpoint_on_sigterm(market, tmp_path):
    """A real SIGTERM from outside, as SLURM sends it: exit 143, a checkpoint, a resumed rerun."""
    sets = [x for s in ["C=4", "layers=[1,1,1,1]", "height=32", "width=16", "pad=1", "P=2", "K=2",
                        "embedding=16", "epochs=4"] for x in ("--set", s)]
    cmd = [sys.executable, "-m", "autoreid.cli", "search", "--split", str(market["split"]),
           "--threads", "1", "--set", "device=cpu", "--out-dir", str(tmp_path), *sets]
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True)
    signal_at_first_checkpoint(proc, tmp_path, signal.SIGTERM)  # epoch 1 done, in epoch 2 of 4
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err
    assert "SIGTERM: stopping after this step" in err and "rerun the same command" in err
    assert "Traceback" not in err
    assert (tmp_path / "checkpoint.pt").exists() and not (tmp_path / "alphas.json").exists()
    resumed = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert resumed.returncode == 0 and "resuming from" in resumed.stderr
    assert json.loads((tmp_path / "alphas.json").read_text())["ops"][-1] == "part_aware"


def test_a_nan_loss_stops_training_naming_the_step_and_the_last_good_checkpoint(
        market, tmp_path, monkeypatch):
    import autoreid.train.train as module

    calls = {"n": 0}
    real = module.objective_loss

    def poisoned(*args, **kwargs):
        calls["n"] += 1
        loss = real(*args, **kwargs)
        return loss * float("nan") if calls["n"] == 15 else loss  # epoch 2, step 3 (12 steps/epoch)

    monkeypatch.setattr(module, "objective_loss", poisoned)
    cfg = resolve("train", overrides=dict(
        C=4, layers=(1, 1, 1, 1), height=32, width=16, pad=1, P=2, K=2, epochs=3,
        embedding=16, dropout=0.1))
    with pytest.raises(module.UserError, match=r"loss became nan at epoch 2 step 3; last good "
                                               r"checkpoint: .*checkpoint.pt"):
        train(str(market["manifest"]), "DARTS_V2", str(tmp_path), cfg, Placement.cpu())
    assert checkpoint_at(tmp_path / "checkpoint.pt") == (1, 0)  # the good one, after epoch 1
