"""Per-epoch metrics while a run is going: DVCLive's folder and log.csv hold the finished epochs
before the job ends, and the console has one timestamped line per epoch (autoreid.live)."""
import csv
import json
import re
import subprocess
import sys
import time

from conftest import ROOT

SETS = ["C=4", "layers=[1,1,1,1]", "height=32", "width=16", "pad=1", "P=4", "K=2", "epochs=4",
        "embedding=16", "dropout=0.1", "eval_every=2"]


def test_train_shows_finished_epochs_while_it_runs(market, tmp_path):
    out = tmp_path / "run"
    live = out / "live" / "metrics.json"
    args = [sys.executable, "-m", "autoreid.cli", "train", "--manifest", market["manifest"],
            "--arch", "DARTS_V2", "--out-dir", out, "--device", "cpu", "--threads", "1",
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
    """In a git checkout with no DVC, DVCLive's folder is written and nothing of DVC's repository
    code is loaded (it would cost every job 0.4 s, and `dvc init` the checkout)."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    code = ("import sys; from pathlib import Path; from autoreid.live import write_live; "
            "rows = [{'epoch': 1, 'loss': 2.0}]; write_live(Path('live'), rows); "
            "rows.append({'epoch': 2, 'loss': 1.0}); write_live(Path('live'), rows); "
            "print(sorted(m for m in sys.modules if m.startswith(('dvc.repo', 'dvc.scm'))))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
    assert json.loads((tmp_path / "live" / "metrics.json").read_text())["step"] == 2
    assert not (tmp_path / ".dvc").exists()
