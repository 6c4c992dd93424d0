"""ImageNet pre-training: real torchrun with 2 processes on CPU (gloo), ranks in sync, resume,
and the weights initialising reID training; bad inputs."""
import csv
import os
import re
import signal
import subprocess
import sys

import pytest
import torch
from helpers import ROOT, assert_user_error, kill_after_first_checkpoint, run_cli, signal_at_first_checkpoint

from autoreid.config import resolve
from autoreid.errors import UserError

TORCHRUN = (sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
            "-m", "autoreid.cli")
NET = ["--set", "train.C=4", "--set", "train.layers=[1,1,1,1]", "--set", "device=cpu", "--threads", "1"]
SETS = [x for s in ("epochs=3", "batch_size=16", "height=32", "width=16", "lr=0.02")
        for x in ("--set", s)]


@pytest.fixture(scope="module")
def imagenet(tmp_path_factory):
    from autoreid.data.benchmarks import synth

    root = tmp_path_factory.mktemp("imagenet")
    synth("imagenet", root, resolve("synth.imagenet",
                                    overrides={"classes": 4, "images_per_class": 12, "size": 32}))
    return root


def torchrun(*args, timeout=120):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    return subprocess.run([*TORCHRUN, *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env=env)


@pytest.mark.slow
def test_two_ranks_stay_in_sync_and_resume(imagenet, tmp_path):
    args = ["pretrain", "--raw", imagenet, "--arch", "DARTS_V2", *NET, *SETS]
    proc = torchrun(*args, "--out-dir", tmp_path / "ref")
    assert proc.returncode == 0, proc.stderr[-2000:]
    rows = list(csv.DictReader(open(tmp_path / "ref" / "log.csv")))
    assert [r["ranks"] for r in rows] == ["2", "2", "2"]
    for r in rows:  # after every epoch both ranks hold the same weights
        a, b = r["digests"].split()
        assert a == b
    assert len({r["digests"] for r in rows}) == 3  # and the weights did move

    out = tmp_path / "killed"
    kill_after_first_checkpoint([*args, "--out-dir", out], out, launcher=TORCHRUN)
    assert not (out / "weights.pt").exists()
    resumed = torchrun(*args, "--out-dir", out)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert "resuming from" in resumed.stderr
    ref = torch.load(tmp_path / "ref" / "weights.pt", weights_only=True)["backbone"]
    again = torch.load(out / "weights.pt", weights_only=True)["backbone"]
    assert all(torch.allclose(ref[k], again[k], atol=1e-6) for k in ref)

    # SIGTERM to torchrun and its ranks (as SLURM signals every process of a job step; a signal to
    # torchrun alone reaches the ranks only when its agent forwards it, by which time these short
    # epochs may all be done): the ranks agree on a step, rank 0 writes a checkpoint, the job
    # fails; the rerun resumes from that step to the same weights
    out = tmp_path / "terminated"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    proc = subprocess.Popen([*TORCHRUN, *map(str, [*args, "--out-dir", out])], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    signal_at_first_checkpoint(proc, out, signal.SIGTERM, tree=True)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and "stopping after this step" in err, err[-2000:]
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] >= 1
    resumed = torchrun(*args, "--out-dir", out)
    assert resumed.returncode == 0 and "resuming from" in resumed.stderr, resumed.stderr[-2000:]
    again = torch.load(out / "weights.pt", weights_only=True)["backbone"]
    assert all(torch.allclose(ref[k], again[k], atol=1e-6) for k in ref)


POISON = """import os
if os.environ.get("RANK") == "1":  # rank 1's loss turns NaN at its 5th step: epoch 2, step 2
    import torch
    real, calls = torch.nn.CrossEntropyLoss.forward, []

    def poisoned(self, *args, **kwargs):
        calls.append(1)
        loss = real(self, *args, **kwargs)
        return loss * float("nan") if len(calls) == 5 else loss

    torch.nn.CrossEntropyLoss.forward = poisoned
"""


@pytest.mark.slow
def test_a_nan_on_one_rank_stops_every_rank_with_the_last_checkpoint(imagenet, tmp_path):
    """Rank 1 alone sees a NaN loss (a sitecustomize injects it into that process): both ranks stop
    at the next logging step, each with one line, instead of rank 0 waiting in a collective until a
    timeout; the checkpoint after epoch 1 is kept."""
    (tmp_path / "poison").mkdir()
    (tmp_path / "poison" / "sitecustomize.py").write_text(POISON)
    out = tmp_path / "out"
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore",
               PYTHONPATH=os.pathsep.join([str(tmp_path / "poison"), str(ROOT)]))
    proc = subprocess.run([*TORCHRUN, "pretrain", "--raw", str(imagenet), "--arch", "DARTS_V2", *NET, *SETS,
                           "--out-dir", str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode != 0
    # the two ranks write to one stream: their lines may run into each other
    lines = sorted(re.findall(r"autoreid pretrain: error: (.*?checkpoint: \S*?checkpoint\.pt)", proc.stderr))
    assert len(lines) == 2, proc.stderr[-3000:]  # one a rank: rank 0 names its own NaN (DDP
    # averaged rank 1's NaN gradients into its weights) or, had its loss stayed finite, rank 1's
    assert lines[1] == (f"pretrain: loss became nan on rank 1 at epoch 2 step 2; last good checkpoint: "
                        f"{out / 'checkpoint.pt'}")
    assert lines[0].startswith("pretrain: ") and lines[0].endswith(str(out / "checkpoint.pt"))
    assert torch.load(out / "checkpoint.pt", weights_only=True)["epoch"] == 1
    assert not (out / "weights.pt").exists()


def test_weights_initialise_training_and_mismatch_is_refused(imagenet, market, tmp_path):
    run_cli("pretrain", "--raw", imagenet, "--arch", "DARTS_V2", "--out-dir", tmp_path / "pt", *NET,
            *SETS, check=True)
    weights = tmp_path / "pt" / "weights.pt"
    base = ["train", "--manifest", market["manifest"], "--set", "device=cpu", "--weights", weights]
    sets = [x for s in ("C=4", "layers=[1,1,1,1]", "height=32", "width=16", "pad=1", "P=4", "K=2",
                        "epochs=1", "embedding=16", "init=imagenet") for x in ("--set", s)]
    run_cli(*base, "--arch", "DARTS_V2", "--out-dir", tmp_path / "ok", *sets, check=True)
    ckpt = torch.load(tmp_path / "ok" / "model.pt", weights_only=True)
    assert ckpt["config"]["init_weights"] == str(weights)
    proc = run_cli(*base, "--arch", "GDAS_V1", "--out-dir", tmp_path / "bad", *sets)
    assert_user_error(proc, "weights.pt", "pre-trained architecture does not match")
    proc = run_cli(*base[:-2], "--arch", "DARTS_V2", "--out-dir", tmp_path / "none", *sets)
    assert_user_error(proc, "give --weights")


def test_imagenet_folder_without_classes(tmp_path):
    (tmp_path / "empty" / "train").mkdir(parents=True)
    proc = run_cli("pretrain", "--raw", tmp_path / "empty", "--arch", "resnet18", "--out-dir",
                   tmp_path / "o")
    assert_user_error(proc, "no classes")


def test_empty_class_folders_are_reported(imagenet, tmp_path, capsys):
    import shutil

    from autoreid.data.imagefolder import load_imagefolder

    shutil.copytree(imagenet, tmp_path / "in")
    base = tmp_path / "in" / "train" if (tmp_path / "in" / "train").is_dir() else tmp_path / "in"
    (base / "zz_empty").mkdir()
    records, classes = load_imagefolder(tmp_path / "in")
    assert classes[-1] == "zz_empty" and all(r.pid < len(classes) - 1 for r in records)
    assert "1 class folder(s) without images (zz_empty)" in capsys.readouterr().err


def test_torchvision_weights_only_from_the_local_cache(tmp_path, monkeypatch):
    from autoreid.models.build import arch_spec, build
    from autoreid.models.weights import load_pretrained

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    spec = arch_spec("resnet18", 5, 64, (2, 2, 2, 2))
    model = build(spec)
    with pytest.raises(UserError, match="never downloads"):
        load_pretrained(model, spec, "torchvision")
    state = {k: torch.full_like(v, 0.5) for k, v in model.backbone.state_dict().items()}
    state["fc.weight"] = torch.zeros(1000, 512)
    (tmp_path / "hub" / "checkpoints").mkdir(parents=True)
    torch.save(state, tmp_path / "hub" / "checkpoints" / "resnet18-f37072fd.pth")
    load_pretrained(model, spec, "torchvision")
    assert torch.all(model.backbone.conv1.weight == 0.5)


def test_a_warm_up_ramps_the_lr_linearly_then_hands_it_to_the_schedule():
    """Two warm-up epochs of 4 steps: lr x 1/8, 2/8, ..., 8/8 of the schedule's, then its decay."""
    from autoreid import optim
    from autoreid.optim import warm_up

    opt = optim.SGD([torch.nn.Parameter(torch.zeros(1))], 0.8, momentum=0.9)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, 0.5)
    seen = []
    for epoch in range(4):
        for step in range(4):
            warm_up(opt, sched, 2, epoch, step, 4)
            seen.append(opt.param_groups[0]["lr"])
        for group, lr in zip(opt.param_groups, sched.get_last_lr()):
            group["lr"] = lr
        sched.step()
    ramp = [0.8 * k / 8 for k in range(1, 5)] + [0.4 * k / 8 for k in range(5, 9)]
    assert seen[:8] == pytest.approx(ramp)  # the ramp rides on the schedule (x0.5 after epoch 1)
    assert seen[8:] == pytest.approx([0.2] * 4 + [0.1] * 4)  # then the schedule alone
    plain = optim.SGD([torch.nn.Parameter(torch.zeros(1))], 0.8)
    warm_up(plain, torch.optim.lr_scheduler.ExponentialLR(plain, 0.5), 0, 0, 0, 4)
    assert plain.param_groups[0]["lr"] == 0.8  # no warm-up: untouched
