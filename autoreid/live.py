"""Per-epoch metrics a researcher can follow while a search, training or pre-training runs: as
each epoch ends, `log.csv` is rewritten with every epoch so far, DVCLive's folder `live/` beside it
gets the same numbers (`dvc plots show` draws them during the run; its `metrics.json` holds the
last epoch's, which `dvc exp show` lists), and the console gets one timestamped line."""
from __future__ import annotations

import functools
import logging
import time
from pathlib import Path

from autoreid.io import write_csv
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


_OPEN: dict[str, tuple] = {}  # folder -> (its rows list, its Live, how many rows it has logged)


@functools.cache
def _files_only_live():
    """dvclive.Live without its look for a DVC repository (which imports DVC: 0.4 s a job):
    the pipeline declares live/ as outputs, so DVCLive has nothing to do with the repository."""
    import dvclive

    class FilesOnly(dvclive.Live):
        def _init_dvc(self):
            self._dvc_repo, self._dvc_file = None, self._init_dvc_file()

    return FilesOnly


def write_live(folder: Path, rows: list[dict]) -> None:
    """DVCLive's folder: the epochs of `rows` not logged yet. A run keeps one Live (made, and
    `live/` emptied, at its first epoch: a resumed run logs every epoch so far again, none twice).
    DVCLive writes files only: the pipeline declares them, so it is kept away from the repository
    (left to itself it opens the DVC repo, fails in a git repo without commits, and runs `dvc init`
    in a git checkout that has no DVC)."""
    own, live, logged = _OPEN.get(str(folder), (None, None, 0))
    if own is not rows or logged > len(rows):  # another run, in this process, of this folder
        live = _files_only_live()(dir=str(folder), resume=False, save_dvc_exp=False, dvcyaml=None)
        logged = 0
    for row in rows[logged:]:
        live.step = row["epoch"]
        for key, value in row.items():
            if key not in NOT_LIVE and isinstance(value, (int, float)) and not isinstance(value,
                                                                                          bool):
                live.log_metric(key, value)
    live.make_summary()
    _OPEN[str(folder)] = (rows, live, len(rows))
