"""Per-epoch metrics while a run is going: DVCLive's folder and log.csv hold the finished epochs
before the job ends, and the console has one timestamped line per epoch (autoreid.live)."""
import csv
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import ROOT

SETS = ["C=4", "layers=[1,1,1,1]", "height=32", "width=16", "pad=1", "P=4", "K=2", "epochs=4",
        "embedding=16", "dropout=0.1", "eval_every=2"]


def test_train_shows_finished_epochs_while_it_runs(market, tmp_path):
    out = tmp_path / "run"
    live = out / "live" / "metrics.json"
    args = [sys.executable, "-m", "autoreid.cli", "train", "--manifest", market["manifest"],
            "--arch", "DARTS_V2", "--out-dir", out, "--set", "device=cpu", "--threads", "1",
            *[x for s in SETS for x in ("--set", s)]]
    proc = subprocess.Popen(list(map(str, args)), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 240
    while not live.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    seen_running = proc.poll() is None and live.exists()
    during = json.loads(live.read_text()) if seen_running else {}
    rows_during = list(csv.DictReader(open(out / "log.csv"))) if seen_running else []
    _, stderr = proc.communicate(timeout=240)
    assert proc.returncode == 0, stderr[-2000:]
    assert seen_running, "live/metrics.json appeared only after the job ended"
    assert during["step"] >= 1 and "loss" in during and len(rows_during) >= 1
    assert not (out / "model.pt").exists() or during["step"] >= 1

    final = json.loads(live.read_text())
    assert final["step"] == 4 and {"loss", "lr", "images_per_s", "mAP", "rank1"} <= set(final)
    loss = (out / "live" / "plots" / "metrics" / "loss.tsv").read_text().splitlines()
    assert loss[0] == "step\tloss" and [line.split("\t")[0] for line in loss[1:]] == ["1", "2", "3", "4"]
    lines = [line for line in stderr.splitlines() if "] epoch " in line and " step " not in line]
    assert len(lines) == 4, stderr[-2000:]
    stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[train DARTS_V2\] epoch (\d)/4 "
    assert [re.match(stamp, line)[1] for line in lines] == ["1", "2", "3", "4"]
    assert "mAP" in lines[1] and "mAP" not in lines[0]  # evaluated every 2 epochs
    assert not list(out.rglob("dvc.yaml"))  # DVCLive adds no pipeline of its own


def test_live_writes_its_files_without_opening_a_dvc_repository(tmp_path):
    """In a git checkout with no DVC, DVCLive's folder is written and nothing of DVC or DVCLive is
    loaded (DVCLive would open the repository, and `dvc init` the checkout)."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    code = ("import sys; from pathlib import Path; from autoreid.live import write_live; "
            "rows = [{'epoch': 1, 'loss': 2.0}]; write_live(Path('live'), rows); "
            "rows.append({'epoch': 2, 'loss': 1.0}); write_live(Path('live'), rows); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dvc', 'dvclive')))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert json.loads((tmp_path / "live" / "metrics.json").read_text())["step"] == 2
    assert not (tmp_path / ".dvc").exists()


ROWS = [  # a training's epochs: evaluated every 2, a metric that first appears late, NaN, a flag
    {"epoch": 1, "loss": 6.4931, "lr": 0.01, "seconds": 0.5, "images_per_s": 1018.2, "mAP": "",
     "rank1": "", "ranks": 1, "digests": "1.5 1.5", "stable": True},
    {"epoch": 2, "loss": 4.3884, "lr": 0.01, "seconds": 0.4, "images_per_s": 1119.0, "mAP": 0.13467,
     "rank1": 0.25, "ranks": 1, "digests": "2.5 2.5", "stable": False},
    {"epoch": 3, "loss": float("nan"), "lr": 0.001, "seconds": 0.4, "images_per_s": 1166,
     "mAP": "", "rank1": "", "genotype_changed": 0, "ranks": 1},
    {"epoch": 4, "loss": 2.6797296660287038, "lr": 1e-05, "seconds": 0.4, "images_per_s": 1147.0,
     "mAP": 0.32807, "rank1": float("inf"), "genotype_changed": 1, "ranks": 1},
]


def _files(folder) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_live_folder_is_dvclives_byte_for_byte(tmp_path):
    """After each epoch, `live/` holds exactly the files, with exactly the bytes, that DVCLive
    writes when it logs the epochs as a run used to (a Live made at the first epoch, each epoch's
    numbers logged at step `epoch`, then its summary made), in a folder of no repository."""
    pytest.importorskip("dvclive")
    code = f"""
import json, sys
from pathlib import Path
from dvclive import Live
sys.path[:0] = [{str(Path(__file__).resolve().parent)!r}, {str(ROOT / 'tests')!r}]
from autoreid.live import NOT_LIVE
from test_live import ROWS, _files
live = Live(dir="live", resume=False, save_dvc_exp=False, dvcyaml=None)
after = []
for row in ROWS:
    live.step = row["epoch"]
    for key, value in row.items():
        if key not in NOT_LIVE and isinstance(value, (int, float)) and not isinstance(value, bool):
            live.log_metric(key, value)
    live.make_summary()
    after.append({{k: v.decode() for k, v in _files(Path("live")).items()}})
print(json.dumps(after))
"""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DVC_NO_ANALYTICS": "1",
           "PYTHONPATH": str(ROOT)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    theirs = json.loads(proc.stdout.splitlines()[-1])

    from autoreid.live import write_live

    ours = tmp_path / "ours"
    for n, expected in enumerate(theirs, 1):
        write_live(ours, ROWS[:n])
        assert {k: v.decode() for k, v in _files(ours).items()} == expected
    assert set(theirs[-1]) == {"metrics.json", *(f"plots/metrics/{m}.tsv" for m in (
        "loss", "lr", "images_per_s", "mAP", "rank1", "genotype_changed"))}


def test_live_folder_of_a_resumed_run_is_the_uninterrupted_runs(tmp_path):
    """A resumed run writes every epoch so far at once: the same files, the same bytes, and no
    table of an earlier run's metric left behind."""
    from autoreid.live import write_live

    for n in range(1, len(ROWS) + 1):
        write_live(tmp_path / "through", ROWS[:n])
    write_live(tmp_path / "resumed", [{"epoch": 1, "old_metric": 1.0}])
    write_live(tmp_path / "resumed", ROWS)
    assert _files(tmp_path / "resumed") == _files(tmp_path / "through")
