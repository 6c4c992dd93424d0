"""pytest's hooks (workers, threads, the order of the files) and the fixtures the tests share: a
small synthetic Market-1501 tree, its manifest and its search split. Helpers: helpers.py."""
from __future__ import annotations

import os

import pytest

from helpers import cores

# pytest-xdist runs the files on one worker per core (`-n auto --dist loadfile`, pyproject.toml), in
# collection order: the files that take longest (`--durations`, 2-core machine) go first, so that
# the short ones fill the workers' last minutes and both end together.
LONGEST_FIRST = ("test_workflow.py", "test_dvc.py", "test_slurm.py", "test_pretrain.py",
                 "test_search.py", "test_devices.py", "test_preemption.py", "test_train_evaluate.py",
                 "test_rerun_incomplete.py", "test_determinism.py", "test_atomic.py", "test_cli.py")


def pytest_xdist_auto_num_workers(config) -> int:
    """`-n auto`: a worker per core, at most 4 (each test may start a 2-core job of its own)."""
    return min(4, cores())


def pytest_configure(config) -> None:
    """Under xdist, each worker's torch (and the jobs its tests start without `--threads`) takes
    its share of the cores: two workers of two OpenMP threads each on 2 cores spin against each
    other (a test of in-process searches took 43 s instead of 8)."""
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if workers > 1:
        share = max(1, cores() // workers)
        os.environ.setdefault("OMP_NUM_THREADS", str(share))


def pytest_collection_modifyitems(config, items) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: files stay whole


@pytest.fixture(scope="session")
def market(tmp_path_factory) -> dict:
    """A small synthetic benchmark in the official layout, prepared and split."""
    from autoreid.config import resolve
    from autoreid.data.manifest import read_manifest, write_manifest
    from autoreid.data.market1501 import load_market1501
    from autoreid.data.split import search_split
    from autoreid.data.synth.market import write_market

    base = tmp_path_factory.mktemp("market")
    cfg = resolve("synth.market1501", overrides=dict(
        train_ids=8, test_ids=6, cameras=3, cameras_per_id=(2, 3),
        images_per_camera=(2, 3), distractors=4, junk=3, height=64, width=32))
    write_market(base / "raw", cfg)
    records = load_market1501(base / "raw")
    write_manifest(records, base / "data" / "manifest.csv")
    train = [r for r in read_manifest(base / "data" / "manifest.csv") if r.split == "train"]
    write_manifest(search_split(train, 0.5, 0), base / "split" / "split.csv")
    return {"base": base, "raw": base / "raw", "manifest": base / "data" / "manifest.csv",
            "split": base / "split" / "split.csv"}
