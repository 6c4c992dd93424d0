"""The SLURM profile against a real cluster: a search -> derive -> train -> extract -> evaluate chain
of the tiny DAG submitted through snakemake-executor-plugin-slurm, every job an sbatch job (its data
is prepared locally first: each SLURM job starts a Snakemake of its own, ~20 s here).

Needs a running SLURM (`.ci/local_slurm.sh install && .ci/local_slurm.sh start`, as root; .ci/run
does this and sets AUTOREID_REQUIRE_SLURM=1 so that a missing cluster fails instead of skipping)."""
import os
import re
import shutil
import subprocess
import time

import pytest
import yaml

from helpers import ROOT, slice_params


def cluster_is_up() -> bool:
    if not shutil.which("sinfo"):
        return False
    proc = subprocess.run(["sinfo", "-h", "-o", "%T"], capture_output=True, text=True)
    return proc.returncode == 0 and any(s in proc.stdout for s in ("idle", "mixed", "allocated"))


def plugin_is_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("snakemake_executor_plugin_slurm") is not None


REQUIRED = os.environ.get("AUTOREID_REQUIRE_SLURM") == "1"
pytestmark = [
    pytest.mark.skipif(not cluster_is_up() and not REQUIRED,
                       reason="no SLURM cluster here (.ci/local_slurm.sh starts one)"),
    pytest.mark.skipif(not plugin_is_installed() and not REQUIRED,
                       reason="no SLURM executor plugin here (pip install -e '.[slurm]')")]


@pytest.mark.slow
def test_chain_runs_through_slurm(tmp_path):
    assert cluster_is_up(), "AUTOREID_REQUIRE_SLURM=1 but `sinfo` shows no usable node"
    assert plugin_is_installed(), "AUTOREID_REQUIRE_SLURM=1 but no plugin: pip install -e '.[slurm]'"
    params = slice_params()
    params["gpus_per_job"] = 1  # GPU jobs must ask SLURM for the (fake) GPU
    (tmp_path / "slice.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    target = "results/slice/evaluate/market1501/scratch/retrieval_reid-run1/seed0/metrics.json"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    local = subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"), "--configfile", "slice.yaml",
                            "--cores", "2", "results/slice/split/market1501/split.csv",
                            "results/slice/data/market1501/store.h5"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert local.returncode == 0, local.stderr[-3000:]
    start = time.time()
    proc = subprocess.run(
        ["snakemake", "-s", str(ROOT / "Snakefile"), target, "--configfile", "slice.yaml",
         "--workflow-profile", str(ROOT / "workflow" / "profiles" / "slurm"),
         "--slurm-status-command", "squeue",  # the CI cluster has no accounting database
         "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    print(f"SLURM chain: {time.time() - start:.0f} s")  # shown with pytest -s / -rA
    metrics = yaml.safe_load((tmp_path / target).read_text())
    assert 0 <= metrics["mAP"] <= 1

    submitted = {rule: job for job, rule in
                 re.findall(r"submitted with SLURM jobid (\d+) \(log: \S*/rule_(\w+)/", out)}
    assert not {"synth", "prepare", "pack", "split"} & set(submitted)  # done locally before
    for rule in ("search", "derive", "train", "evaluate"):
        assert rule in submitted, (rule, out[-3000:])
        logs = list((tmp_path / ".snakemake" / "slurm_logs" / f"rule_{rule}").rglob(
            f"{submitted[rule]}.log"))
        assert logs and "slurm-jobstep" in logs[0].read_text(), rule  # ran inside the allocation
    for rule, gpus in (("search", True), ("train", True), ("derive", False)):
        job = subprocess.run(["scontrol", "show", "job", submitted[rule]], capture_output=True,
                             text=True).stdout
        assert "JobState=COMPLETED" in job, job
        assert ("gres:gpu:1" in job) == gpus, (rule, job)
