"""Writers killed at random points leave their output complete or absent, never half-written
(what Snakemake or DVC would take for finished); a temporary file is all that may remain."""
import json
import random
import signal
import subprocess
import sys
import time

import h5py
import numpy as np
import pytest

from helpers import ROOT, run_cli


def killed_at(args, delay: float) -> int:
    proc = subprocess.Popen([sys.executable, "-m", "autoreid.cli", *map(str, args)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    return proc.wait()


def timed(args) -> float:
    t0 = time.perf_counter()
    run_cli(*args, check=True)
    return time.perf_counter() - t0


@pytest.fixture(scope="module")
def features(market, tmp_path_factory):
    path = tmp_path_factory.mktemp("atomic") / "features.h5"
    run_cli("extract", "--manifest", market["manifest"], "--pixels", "--set", "train.height=16",
            "--set", "train.width=8", "--out", path, check=True)
    return path


def test_a_killed_pack_leaves_a_complete_store_or_none(market, tmp_path):
    args = ["data", "pack", "--manifest", market["manifest"], "--set", "train.height=64",
            "--set", "train.width=32"]
    reference = tmp_path / "ref.h5"
    full = timed([*args, "--out", reference])
    rng = random.Random(0)
    for trial in range(3):
        out = tmp_path / f"store{trial}.h5"
        killed_at([*args, "--out", out], rng.uniform(0.5, 1.1) * full)
        if out.exists():  # then it is the whole store
            with h5py.File(reference) as a, h5py.File(out) as b:
                assert a.keys() == b.keys()
                assert all(np.array_equal(a[k][()], b[k][()]) for k in a if isinstance(a[k], h5py.Dataset))
    leftovers = [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    assert all(p.suffix == ".tmp" for p in leftovers)  # hidden temporaries, never the output name


def test_a_killed_evaluate_leaves_complete_metrics_or_none(features, tmp_path):
    args = ["evaluate", "--features", features]
    full = timed([*args, "--out", tmp_path / "ref.json"])
    reference = json.loads((tmp_path / "ref.json").read_text())
    rng = random.Random(1)
    for trial in range(3):
        out = tmp_path / f"m{trial}.json"
        killed_at([*args, "--out", out], rng.uniform(0.5, 1.1) * full)
        if out.exists():
            assert json.loads(out.read_text()) == reference


def test_two_writers_of_one_path_leave_one_complete_file(features, tmp_path):
    args = [sys.executable, "-m", "autoreid.cli", "evaluate", "--features", str(features), "--out",
            str(tmp_path / "m.json")]
    procs = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(2)]
    assert [p.wait() for p in procs] == [0, 0]
    run_cli("evaluate", "--features", features, "--out", tmp_path / "ref.json", check=True)
    assert json.loads((tmp_path / "m.json").read_text()) == json.loads(
        (tmp_path / "ref.json").read_text())
    assert not [p for p in tmp_path.iterdir() if p.suffix == ".tmp"]
