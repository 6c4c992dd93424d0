"""The SLURM profile against a real cluster: a search -> derive -> train -> extract -> evaluate chain
of the tiny DAG submitted through snakemake-executor-plugin-slurm, every job an sbatch job (its data
is prepared locally first: each SLURM job starts a Snakemake of its own, ~20 s here).

Needs a running SLURM (`.ci/local_slurm.sh install && .ci/local_slurm.sh start`, as root; .ci/run
does this and sets AUTOREID_REQUIRE_SLURM=1 so that a missing cluster fails instead of skipping)."""
import csv
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


@pytest.mark.slow
def test_pretraining_over_two_nodes_meets_at_one_rendezvous(tmp_path):
    """pretrain_nodes: 2 through the SLURM profile: one sbatch job; `autoreid spread` runs srun with
    2 tasks (the nodes resource set to 1: the CI cluster has one node, so its 2 tasks stand in for
    2 nodes), a torchrun agent each; they meet at one c10d rendezvous and train as 2 ranks."""
    assert cluster_is_up(), "AUTOREID_REQUIRE_SLURM=1 but `sinfo` shows no usable node"
    params = slice_params()
    params.update(gpus_per_job=1, pretrain_processes=2, pretrain_nodes=2)
    params["train"].update(layers=[1, 1, 1, 1])
    params["synth"]["imagenet"].update(classes=4, images_per_class=12, size=32)
    params["pretrain"].update(epochs=2, batch_size=16, height=32, width=16)
    (tmp_path / "slice.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    target = "results/slice/pretrain/imagenet/DARTS_V2/weights.pt"
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    local = subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"), "--configfile", "slice.yaml",
                            "--workflow-profile", "none",  # a machine's profile refuses the plan
                            "--cores", "2", "results/slice/raw/imagenet"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=600, env=env)
    assert local.returncode == 0, local.stderr[-3000:]
    proc = subprocess.run(
        ["snakemake", "-s", str(ROOT / "Snakefile"), target, "--configfile", "slice.yaml",
         "--workflow-profile", str(ROOT / "workflow" / "profiles" / "slurm"),
         "--set-resources", "pretrain:nodes=1", "--slurm-status-command", "squeue",
         "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "2"],
        cwd=tmp_path, capture_output=True, text=True, timeout=900, env=env)
    out = proc.stdout + proc.stderr
    log = tmp_path / "results/slice/logs/pretrain/imagenet/DARTS_V2.log"
    assert proc.returncode == 0, out[-3000:] + (log.read_text()[-3000:] if log.exists() else "")
    text = log.read_text()
    print(text[:1500])  # shown with pytest -s / -rA
    assert "[spread] 2 torchrun agent(s) on 1 node(s), 1 rank(s) each" in text, text[-2000:]
    assert "--rdzv-backend=c10d" in text
    rows = list(csv.DictReader(open(tmp_path / "results/slice/pretrain/imagenet/DARTS_V2/log.csv")))
    assert [r["ranks"] for r in rows] == ["2", "2"]  # one world of the two agents' ranks
    assert all(len(set(r["digests"].split())) == 1 for r in rows)  # in sync after every epoch

    job_id = re.search(r"submitted with SLURM jobid (\d+)", out).group(1)
    job = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True).stdout
    assert "JobState=COMPLETED" in job and "NumTasks=2" in job and "gres:gpu:1" in job, job
