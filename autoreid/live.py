"""Per-epoch metrics a researcher can follow while a search, training or pre-training runs: as
each epoch ends, `log.csv` is rewritten with every epoch so far, DVCLive's folder `live/` beside it
gets the same numbers (`dvc plots show` draws them during the run; its `metrics.json` holds the
last epoch's, which `dvc exp show` lists), and the console gets one timestamped line.

`live/` is written here, in DVCLive's documented layout, byte for byte what dvclive.Live (with
resume=False, save_dvc_exp=False, dvcyaml=None) writes when each epoch's numbers are logged at step
`epoch` and its summary made (tests/train/test_live.py compares the two): `plots/metrics/<name>.tsv`,
a `step` column and the metric's, one line an epoch that has the metric; `metrics.json`, the
latest value of each metric and the last `step`. DVCLive itself would open the DVC repository
(and `dvc init` a git checkout that has none); the pipeline declares `live/` as outputs, so the job
only writes the files."""
from __future__ import annotations

import csv
import io
import json
import logging
import math
import time
from pathlib import Path

from autoreid.io import write_csv, write_text
from autoreid.runtime import hms

LOGGER = logging.getLogger("autoreid")
NOT_LIVE = ("epoch", "seconds", "ranks")  # in log.csv only (images_per_s says the speed)
SHOWN = ("loss", "loss_w", "loss_alpha", "alpha_entropy", "genotype_changed", "lr", "images_per_s",
         "mAP", "rank1", "train_acc")


def epoch_end(out: Path, stage: str, rows: list[dict], epochs: int, started: float,
              first_epoch: int) -> None:
    """Record the epoch that `rows[-1]` describes. `started`: when this process began its first
    epoch, `first_epoch`: how many epochs were done before it (a resumed run), for the ETA."""
    save(out, rows)
    row, done = rows[-1], rows[-1]["epoch"]
    per_epoch = (time.time() - started) / max(1, done - first_epoch)
    values = "  ".join(f"{k} {row[k]:.4g}" for k in SHOWN
                       if isinstance(row.get(k), (int, float)) and not isinstance(row[k], bool))
    LOGGER.info("[%s] epoch %d/%d  %s  ETA %s", stage, done, epochs, values,
                hms(per_epoch * (epochs - done)))


def save(out: Path, rows: list[dict]) -> None:
    """log.csv and the DVCLive folder `live/` from every epoch so far."""
    write_csv(out / "log.csv", rows)
    write_live(out / "live", rows)


def write_live(folder: Path, rows: list[dict]) -> None:
    """DVCLive's folder from every epoch of `rows`: each metric's table (written only where it
    changed; a table no longer logged removed, as a new DVCLive run clears the folder) and the
    summary. Each file is replaced whole (autoreid.io), never appended to."""
    tables = folder / "plots" / "metrics"
    series = _series(rows)
    for stale in tables.glob("*.tsv") if tables.is_dir() else ():
        if stale.stem not in series:
            stale.unlink()
    for name, points in series.items():
        _write_changed(tables / f"{name}.tsv", _tsv(name, points))
    _write_changed(folder / "metrics.json", json.dumps(_summary(rows), indent=4) + "\n")


def _numbers(row: dict) -> dict:
    """The row's values DVCLive logs: numbers (not booleans), NaN and infinities as text."""
    return {k: (v if math.isfinite(v) else str(v)) for k, v in row.items()
            if k not in NOT_LIVE and isinstance(v, (int, float)) and not isinstance(v, bool)}


def _series(rows: list[dict]) -> dict[str, list[tuple[int, object]]]:
    series: dict[str, list[tuple[int, object]]] = {}
    for row in rows:
        for key, value in _numbers(row).items():
            series.setdefault(key, []).append((row["epoch"], value))
    return series


def _summary(rows: list[dict]) -> dict:
    """Each metric's latest value, in the order the metrics first appeared, with `step` after the
    first epoch's (DVCLive's `make_summary` after every epoch)."""
    summary: dict = {}
    for row in rows:
        summary.update(_numbers(row))
        summary["step"] = row["epoch"]
    return summary


def _tsv(name: str, points: list[tuple[int, object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter="\t", lineterminator="\n")  # written as os.linesep, as DVCLive does
    writer.writerow(["step", name])
    writer.writerows(points)
    return buf.getvalue()


def _write_changed(path: Path, text: str) -> None:
    if not path.is_file() or path.read_text(encoding="utf-8") != text:
        write_text(path, text)
