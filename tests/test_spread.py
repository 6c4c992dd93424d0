"""`autoreid spread`: the srun + torchrun line of a pre-training over several nodes, and its refusals
outside a SLURM job. The rendezvous itself runs on the local SLURM (tests/workflow/test_slurm.py);
the plan's resources and command are in tests/workflow/test_devices.py."""
import pytest
from helpers import assert_user_error, run_cli

from autoreid.errors import UserError
from autoreid.spread import command, launch, rendezvous_port


def test_one_agent_a_node_meets_on_the_batch_host():
    line = command(4, 4, 8, 6, "gpu017", "812345", ["pretrain", "--raw", "data/imagenet"])
    assert line == ["srun", "--kill-on-bad-exit=1", "--nodes=4", "--ntasks=4", "--cpus-per-task=6",
                    "torchrun", "--nnodes=4", "--nproc_per_node=8", "--rdzv-backend=c10d",
                    "--rdzv-endpoint=gpu017:29845", "--rdzv-id=autoreid-812345",
                    "-m", "autoreid.cli", "pretrain", "--raw", "data/imagenet"]


def test_jobs_on_one_batch_host_rendezvous_on_ports_of_their_own():
    assert rendezvous_port("1000") == 29500
    assert rendezvous_port("1001") != rendezvous_port("1002")
    assert {rendezvous_port(str(j)) for j in range(5000, 6000)} == set(range(29500, 30500))


@pytest.mark.parametrize("kw, message", [
    (dict(hosts=0), "--hosts 0: must be >= 1"),
    (dict(per_host=0), "--per-host 0: must be >= 1"),
    (dict(tasks=1), "--tasks 1: fewer than --hosts 2"),
    (dict(args=[]), "give the autoreid command to run after --"),
])
def test_bad_layouts_are_refused(kw, message, monkeypatch):
    monkeypatch.setenv("SLURM_JOB_ID", "7")
    given = dict(hosts=2, tasks=2, per_host=4, threads=1, args=["pretrain"], log=print) | kw
    with pytest.raises(UserError, match=message):
        launch(**given)


def test_outside_a_slurm_job_it_says_so_in_one_line(monkeypatch):
    monkeypatch.delenv("SLURM_JOB_ID", raising=False)
    proc = run_cli("spread", "--hosts", "2", "--per-host", "4", "--", "pretrain", "--raw", "x")
    assert_user_error(proc, "a run over 2 node(s) runs inside a SLURM job only",
                      "set pretrain_nodes: 1")


def test_tasks_standing_in_for_nodes_are_the_agents_torchrun_waits_for():
    line = command(1, 2, 1, 1, "vm", "54", ["pretrain"])
    assert "--nodes=1" in line and "--ntasks=2" in line and "--nnodes=2" in line
