"""`snakemake` itself killed mid-search (SIGKILL, the whole process tree): after
`snakemake --unlock`, the rerun with --rerun-incomplete redoes the search job, which resumes from its checkpoint and ends with the
alphas of an uninterrupted run."""
import pytest
import json
import signal
import subprocess

import yaml

from helpers import ROOT, signal_at_first_checkpoint, slice_params

ALPHAS = "results/slice/search/market1501/baseline/run1/alphas.json"


def snakemake(wd, *args):
    return subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"), ALPHAS, "--cores", "1",
                           "--configfile", "slice.yaml", *args], cwd=wd, capture_output=True,
                          text=True, timeout=600)


@pytest.mark.slow
def test_killed_snakemake_reruns_incomplete_search_and_resumes(tmp_path):
    params = slice_params()
    params["search"]["epochs"] = 2
    (tmp_path / "slice.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    checkpoint = tmp_path / ALPHAS.replace("alphas.json", "checkpoint.pt")

    proc = subprocess.Popen(["snakemake", "-s", str(ROOT / "Snakefile"), ALPHAS, "--cores", "1",
                             "--configfile", "slice.yaml"], cwd=tmp_path, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    signal_at_first_checkpoint(proc, checkpoint.parent, signal.SIGKILL, timeout=300)
    proc.wait()
    assert checkpoint.exists() and not (tmp_path / ALPHAS).exists()

    unlock = snakemake(tmp_path, "--unlock")  # Snakemake's own lock outlives a SIGKILL
    assert unlock.returncode == 0, unlock.stderr[-3000:]
    rerun = snakemake(tmp_path, "--rerun-incomplete")
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    log = (tmp_path / "results/slice/logs/search/market1501/baseline/run1.log").read_text()
    assert "resuming from" in log
    resumed = json.loads((tmp_path / ALPHAS).read_text())

    fresh = snakemake(tmp_path, "--forcerun", "search")  # the same job, uninterrupted
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    log = (tmp_path / "results/slice/logs/search/market1501/baseline/run1.log").read_text()
    assert "resuming from" not in log
    reference = json.loads((tmp_path / ALPHAS).read_text())
    assert resumed["alpha_normal"] == reference["alpha_normal"]
    assert resumed["alpha_reduce"] == reference["alpha_reduce"]
