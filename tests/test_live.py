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
