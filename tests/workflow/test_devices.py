"""GPU placement on a fake device list (CUDA_VISIBLE_DEVICES on a CPU machine): `autoreid place`
gives concurrent jobs distinct devices, frees a killed job's device, gives torchrun's ranks one
each, and uses a SLURM allocation as it is; the plan refuses GPU jobs that could never start."""
from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autoreid.devices import plan_gpus
from autoreid.errors import UserError
from helpers import ROOT, assert_user_error, slice_params

PLACE = [sys.executable, "-m", "autoreid.cli", "place"]


def env_with(tmp_path: Path, devices: str, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLURM_")}
    return {**env, "CUDA_VISIBLE_DEVICES": devices, "AUTOREID_GPU_LOCKS": str(tmp_path / "locks"),
            "PYTHONWARNINGS": "ignore", **extra}


# A job that writes the devices it was given, then waits until `n` jobs have written theirs (so
# all of them hold their devices at once) or until the file `release` exists.
JOB = """
import os, sys, time
from pathlib import Path
out, n = Path(sys.argv[1]), int(sys.argv[2])
rank = os.environ.get("LOCAL_RANK")
visible = os.environ["CUDA_VISIBLE_DEVICES"]
mine = visible.split(",")[int(rank)] if rank is not None else visible
part = out / f"{os.getpid()}.part"  # then renamed: a reader never sees the file half-written
part.write_text(mine + " " + os.environ.get("AUTOREID_PLACED", "-"))
part.replace(out / f"{os.getpid()}.dev")
deadline = time.time() + 60
while (len(list(out.glob("*.dev"))) < n and not (out / "release").exists()
       and time.time() < deadline):
    time.sleep(0.05)
"""


def job(tmp_path: Path, n: int) -> list[str]:
    (tmp_path / "job.py").write_text(JOB)
    return [sys.executable, str(tmp_path / "job.py"), str(tmp_path), str(n)]


def given(tmp_path: Path) -> list[list[str]]:
    return sorted(p.read_text().split() for p in tmp_path.glob("*.dev"))


def test_four_concurrent_jobs_get_four_distinct_devices(tmp_path):
    env = env_with(tmp_path, "0,1,2,3")
    procs = [subprocess.Popen([*PLACE, "--gpus", "1", "--", *job(tmp_path, 4)], env=env,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    for p in procs:
        assert p.wait(timeout=60) == 0, p.stderr.read()
    assert given(tmp_path) == [["0", "locks"], ["1", "locks"], ["2", "locks"], ["3", "locks"]]


def test_uuids_and_a_job_of_two_devices(tmp_path):
    env = env_with(tmp_path, "GPU-aa,GPU-bb,GPU-cc")
    two = subprocess.Popen([*PLACE, "--gpus", "2", "--", *job(tmp_path, 2)], env=env)
    one = subprocess.Popen([*PLACE, "--gpus", "1", "--", *job(tmp_path, 2)], env=env)
    assert two.wait(timeout=60) == 0 and one.wait(timeout=60) == 0
    held = [d.split(",") for d, _ in given(tmp_path)]
    assert sorted(map(len, held)) == [1, 2]
    assert sorted(sum(held, [])) == ["GPU-aa", "GPU-bb", "GPU-cc"]  # no device twice


def test_a_job_waits_for_a_busy_device_and_takes_it_when_freed(tmp_path):
    env = env_with(tmp_path, "7")
    first = subprocess.Popen([*PLACE, "--gpus", "1", "--", *job(tmp_path, 99)], env=env)
    while not given(tmp_path):
        time.sleep(0.05)
    second = subprocess.Popen([*PLACE, "--gpus", "1", "--", sys.executable, "-c",
                               "print('ran')"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    assert second.poll() is None  # waiting: the only device is busy
    (tmp_path / "release").write_text("")
    assert first.wait(timeout=30) == 0
    out, err = second.communicate(timeout=30)
    assert second.returncode == 0 and out.strip() == "ran"
    assert "waiting for 1 free GPU(s) of 7" in err


def test_a_killed_jobs_device_is_free_again(tmp_path):
    env = env_with(tmp_path, "0")
    killed = subprocess.Popen([*PLACE, "--gpus", "1", "--", *job(tmp_path, 99)], env=env)
    while not given(tmp_path):
        time.sleep(0.05)
    os.kill(killed.pid, signal.SIGKILL)  # no clean-up code runs
    killed.wait(timeout=10)
    proc = subprocess.run([*PLACE, "--gpus", "1", "--", sys.executable, "-c",
                           "import os; print(os.environ['CUDA_VISIBLE_DEVICES'])"],
                          env=env, capture_output=True, text=True, timeout=20)
    assert proc.returncode == 0 and proc.stdout.strip() == "0", proc.stderr


def test_torchrun_ranks_get_a_device_each_and_hold_it_while_they_run(tmp_path):
    env = env_with(tmp_path, "0,1,2")
    proc = subprocess.Popen([*PLACE, "--gpus", "2", "--", sys.executable, "-m",
                             "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                             *job(tmp_path, 99)[1:]], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while len(given(tmp_path)) < 2 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.1)
    ranks = given(tmp_path)
    assert len(ranks) == 2 and len({d for d, _ in ranks}) == 2, proc.stderr.read() if proc.poll() else ranks
    locks = sorted((tmp_path / "locks").glob("*.lock"))
    held = []
    for path in locks:  # while the ranks run, their devices' locks are taken
        with open(path) as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                held.append(path.name.rsplit("-", 1)[1].removesuffix(".lock"))
    assert sorted(held) == sorted(d for d, _ in ranks)
    (tmp_path / "release").write_text("")
    assert proc.wait(timeout=60) == 0


def test_a_slurm_allocation_is_used_as_it_is(tmp_path):
    env = env_with(tmp_path, "5,6", SLURM_JOB_ID="42")
    proc = subprocess.run([*PLACE, "--gpus", "2", "--", *job(tmp_path, 1)], env=env, timeout=60)
    assert proc.returncode == 0
    assert given(tmp_path) == [["5,6", "slurm"]]
    assert not (tmp_path / "locks").exists()  # no locks: SLURM placed the job


def test_too_many_gpus_and_no_command_are_one_line_errors(tmp_path):
    env = env_with(tmp_path, "0,1")
    proc = subprocess.run([*PLACE, "--gpus", "3", "--", "true"], env=env, capture_output=True,
                          text=True, timeout=30)
    assert_user_error(proc, "place --gpus 3", "exposes 2 GPU(s)", "CUDA_VISIBLE_DEVICES=0,1")
    proc = subprocess.run([*PLACE, "--gpus", "1"], env=env, capture_output=True, text=True,
                          timeout=30)
    assert_user_error(proc, "give the command")


def test_without_gpus_the_command_runs_as_it_is(tmp_path):
    env = env_with(tmp_path, "")
    proc = subprocess.run([*PLACE, "--gpus", "1", "--", sys.executable, "-c", "print('cpu')"],
                          env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0 and proc.stdout.strip() == "cpu"
    assert "no GPU on this machine" in proc.stderr


def test_the_run_config_records_its_devices(market, tmp_path):
    env = env_with(tmp_path, "3")
    out = tmp_path / "run"
    proc = subprocess.run([*PLACE, "--gpus", "1", "--", sys.executable, "-m", "autoreid.cli",
                           "train", "--manifest", str(market["manifest"]), "--arch", "DARTS_V2",
                           "--out-dir", str(out), "--set", "device=cpu", "--threads", "1",
                           "--set", "epochs=1", "--set", "C=4", "--set", "layers=[1,1,1,1]",
                           "--set", "height=32", "--set", "width=16", "--set", "P=2", "--set",
                           "K=2", "--set", "embedding=8"],
                          env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    import yaml

    devices = yaml.safe_load((out / "config.yaml").read_text())["config"]["devices"]
    assert devices == {"device": "cpu", "placed_by": "locks", "CUDA_VISIBLE_DEVICES": "3",
                       "jobs_per_gpu": 1}


# ---------------------------------------------------------------- the plan
def test_plan_gpus_names_the_parameter_and_the_limit(monkeypatch):
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0")
    assert plan_gpus(1, 1, 1, "auto") == 1
    assert plan_gpus(1, 8, None, "auto") == 1  # no budget (a cluster): SLURM checks
    assert plan_gpus(0, 8, 1, "auto") == 0
    with pytest.raises(UserError, match=r"^pretrain_processes: 8 .* --resources gpu=1 allows 1"):
        plan_gpus(1, 8, 1, "auto")
    with pytest.raises(UserError, match=r"^pretrain_processes: 8 .* this machine exposes 1 "
                                        r"\(set pretrain_processes: 1\)"):
        plan_gpus(1, 8, 8, "auto")
    with pytest.raises(UserError, match=r"^gpus_per_job: 1 GPUs per job, but --resources gpu=0"):
        plan_gpus(1, 1, 0, "auto")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert plan_gpus(1, 8, 1, "auto") == 0  # no GPU: the GPU jobs run on the CPU
    with pytest.raises(UserError, match="device: cuda, but this machine exposes no GPU"):
        plan_gpus(1, 1, 1, "cuda")


def snakemake_n(tmp_path: Path, params: Path, devices: str, *args: str):
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": devices, "PYTHONWARNINGS": "ignore"}
    return subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"), "-n", "-p", "tables",
                           "--configfile", str(params), *args], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)


def test_paper_profile_plans_on_one_gpu_and_places_every_gpu_job(tmp_path):
    proc = snakemake_n(tmp_path, ROOT / "params" / "paper.yaml", "0")
    assert proc.returncode == 0, proc.stderr[-2000:]
    shells = [line.removeprefix("Shell command: ") for line in proc.stdout.splitlines()
              if line.startswith("Shell command: ")]
    for command in ("search", "train", "evaluate", "pretrain"):
        placed = [s for s in shells if f" -- autoreid {command} " in s]
        unplaced = [s for s in shells if s.startswith(f"autoreid {command} ") and " --pixels " not in s]
        assert placed and not unplaced, command
        params = {s.split(" --params ")[1].split()[0] for s in placed}
        assert all(s.startswith("autoreid place --gpus 1 -- ") for s in placed)
        assert all(p.endswith("paper.yaml") for p in params)  # bf16 and every value: from that file


def test_eight_pretrain_processes_on_one_gpu_stop_the_plan(tmp_path):
    text = (ROOT / "params" / "paper.yaml").read_text()
    (tmp_path / "p8.yaml").write_text(text.replace("\npretrain_processes: 1 ", "\npretrain_processes: 8 "))
    proc = snakemake_n(tmp_path, tmp_path / "p8.yaml", "0")
    assert proc.returncode != 0
    assert ("p8.yaml: pretrain_processes: 8 processes x gpus_per_job 1 need 8 GPUs, but "
            "--resources gpu=1 allows 1") in proc.stdout + proc.stderr
    proc = snakemake_n(tmp_path, tmp_path / "p8.yaml", "0", "--resources", "gpu=8")
    assert proc.returncode != 0
    assert ("pretrain_processes: 8 processes x gpus_per_job 1 need 8 GPUs, but this machine "
            "exposes 1") in (
        proc.stdout + proc.stderr)
    proc = snakemake_n(tmp_path, tmp_path / "p8.yaml", ",".join(map(str, range(8))), "--resources",
                       "gpu=8")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert ("autoreid place --gpus 8 -- torchrun --standalone --nproc_per_node 8 -m autoreid.cli "
            "pretrain") in proc.stdout


def _pretrain_jobs(stdout: str) -> list[tuple[str, str]]:
    """(resources, shell command) of each pretrain job in a `snakemake -n -p` plan."""
    blocks = stdout.split("\nrule ")
    jobs = []
    for block in blocks:
        if block.startswith("pretrain:"):
            lines = block.splitlines()
            jobs.append((next(x for x in lines if x.strip().startswith("resources:")),
                         next(x for x in lines if x.startswith("Shell command:"))))
    return jobs


def test_pretraining_over_two_nodes_is_planned_on_slurm_only(tmp_path):
    """pretrain_nodes: 2 with 8 processes: on SLURM one job of 2 nodes, a task and 4 GPUs each,
    launched by `autoreid spread`; on one pre-training node `--nodes=1` keeps its GPUs together;
    with a machine's profile the plan stops with one line."""
    pytest.importorskip("snakemake_executor_plugin_slurm")
    text = (ROOT / "params" / "paper.yaml").read_text().replace("\npretrain_processes: 1 ",
                                                                "\npretrain_processes: 8 ")
    (tmp_path / "one.yaml").write_text(text)
    (tmp_path / "two.yaml").write_text(text.replace("\npretrain_nodes: 1 ", "\npretrain_nodes: 2 "))
    proc = snakemake_n(tmp_path, tmp_path / "two.yaml", "0")
    assert proc.returncode != 0
    assert ("two.yaml: pretrain_nodes: 2: pre-training over several nodes runs on SLURM only "
            "(--workflow-profile workflow/profiles/slurm") in proc.stdout + proc.stderr
    slurm = ["--workflow-profile", str(ROOT / "workflow" / "profiles" / "slurm")]
    proc = snakemake_n(tmp_path, tmp_path / "two.yaml", "", *slurm)
    assert proc.returncode == 0, proc.stderr[-2000:]
    jobs = _pretrain_jobs(proc.stdout)
    assert len(jobs) == 2  # Auto-ReID and Baseline
    for resources, shell in jobs:
        assert "nodes=2, tasks=2, tasks_per_gpu=0, mpi=srun, gres=gpu:4" in resources, resources
        assert ", gpu=" not in resources  # no --gpus (a job total) beside --gres (a node's)
        assert re.match(r"Shell command: autoreid spread --hosts 2 --tasks 2 --per-host 4 --threads \d+ "
                        r"-- pretrain --raw ", shell), shell
    proc = snakemake_n(tmp_path, tmp_path / "one.yaml", "", *slurm)
    assert proc.returncode == 0, proc.stderr[-2000:]
    for resources, shell in _pretrain_jobs(proc.stdout):
        assert "gpu=8, nodes=1" in resources, resources
        assert "torchrun --standalone --nproc_per_node 8 -m autoreid.cli pretrain" in shell


@pytest.mark.slow
def test_snakemake_runs_four_searches_two_on_each_of_two_devices(tmp_path):
    """The real DAG with gpus_per_job: 1, jobs_per_gpu: 2 and a budget of four GPU jobs: the four
    searches start together, each under `autoreid place`, two on each of two "GPUs" (they run on
    the CPU here)."""
    import yaml

    from autoreid.experiments import Paths

    params = slice_params()
    params["gpus_per_job"], params["jobs_per_gpu"] = 1, 2
    (tmp_path / "p.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    runs = [Paths("results/slice").search("market1501", "baseline", r) for r in (1, 2, 3, 4)]
    env = env_with(tmp_path, "0,1")
    proc = subprocess.run(["snakemake", "-s", str(ROOT / "Snakefile"),
                           *[f"{r}/alphas.json" for r in runs], "--configfile", "p.yaml",
                           "--cores", "4", "--resources", "gpu=4"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    placed = [yaml.safe_load((tmp_path / r / "config.yaml").read_text())["config"]["devices"]
              for r in runs]
    assert {d["placed_by"] for d in placed} == {"locks"}
    assert sorted(d["CUDA_VISIBLE_DEVICES"] for d in placed) == ["0", "0", "1", "1"]
    assert {d["jobs_per_gpu"] for d in placed} == {2}


# ---------------------------------------------------------------- several jobs a GPU
def test_eight_jobs_share_two_devices_four_a_device(tmp_path):
    """--jobs-per-gpu 4: eight one-GPU jobs run at once on two devices, four on each (spread over
    the devices first), each told that it shares its device."""
    env = env_with(tmp_path, "0,1")
    share = subprocess.Popen([*PLACE, "--gpus", "1", "--jobs-per-gpu", "4", "--", sys.executable,
                              "-c", "import os; print(os.environ['AUTOREID_JOBS_PER_GPU'])"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out, err = share.communicate(timeout=60)
    assert share.returncode == 0 and out.strip() == "4", err
    assert "[place] GPU(s) 0 (shared by up to 4 jobs) for:" in err
    procs = [subprocess.Popen([*PLACE, "--gpus", "1", "--jobs-per-gpu", "4", "--", *job(tmp_path, 8)],
                              env=env) for _ in range(8)]
    for p in procs:
        assert p.wait(timeout=60) == 0
    devices = [d for d, _ in given(tmp_path)]
    assert sorted(devices) == ["0"] * 4 + ["1"] * 4


def test_a_job_of_two_gpus_takes_whole_devices_and_waits_for_their_sharers(tmp_path):
    """A torchrun job of two GPUs takes every slot of two devices: it waits while a one-GPU job
    holds a slot of one of them, and a one-GPU job finds no slot while it runs."""
    env = env_with(tmp_path, "0,1")
    sharer = subprocess.Popen([*PLACE, "--gpus", "1", "--jobs-per-gpu", "2", "--",
                               *job(tmp_path, 99)], env=env)
    while not given(tmp_path):
        time.sleep(0.05)
    whole = subprocess.Popen([*PLACE, "--gpus", "2", "--jobs-per-gpu", "2", "--", sys.executable,
                              "-c", "import os; print(os.environ['CUDA_VISIBLE_DEVICES'], "
                              "os.environ.get('AUTOREID_JOBS_PER_GPU'))"],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)
    assert whole.poll() is None  # one slot of device 0 is taken
    (tmp_path / "release").write_text("")
    assert sharer.wait(timeout=30) == 0
    out, err = whole.communicate(timeout=30)
    assert whole.returncode == 0 and out.split() == ["0,1", "None"], err
    assert "waiting for 2 free GPU(s) of 0, 1" in err


def test_the_plan_notes_a_budget_that_keeps_gpus_from_being_shared(monkeypatch):
    from autoreid.devices import share_note

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    assert share_note(4, 2) == ("note: jobs_per_gpu: 4, but --resources gpu=2 runs at most 2 GPU "
                                "job(s) at once; --resources gpu=8 runs 4 on each of this "
                                "machine's 2 GPU(s)")
    assert share_note(4, 8) is None and share_note(1, 1) is None
    assert share_note(4, None) is None  # a cluster: SLURM gives each job its own GPU


def test_a_bad_share_is_one_line(tmp_path):
    proc = subprocess.run([*PLACE, "--gpus", "1", "--jobs-per-gpu", "0", "--", "true"],
                          env=env_with(tmp_path, "0"), capture_output=True, text=True, timeout=60)
    assert_user_error(proc, "place --jobs-per-gpu 0: must be >= 1")
