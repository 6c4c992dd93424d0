"""Pre-training over several machines in one SLURM allocation: `srun` starts one `torchrun` agent
per task (one task per node), the agents meet at a c10d rendezvous on the batch host (the first of
the allocation's nodes, where this runs) and each starts its node's ranks. Every rank then runs
`python -m autoreid.cli ARGS` with torchrun's RANK, WORLD_SIZE and LOCAL_RANK, as on one node."""
from __future__ import annotations

import os
import shutil
import socket

from autoreid.errors import UserError

BASE_PORT = 29500
PORTS = 1000  # jobs that share a batch host rendezvous on ports of their own (by job id)


def rendezvous_port(job_id: str) -> int:
    return BASE_PORT + int(job_id) % PORTS


def command(hosts: int, tasks: int, per_host: int, threads: int, host: str, job_id: str,
            args: list[str]) -> list[str]:
    """The step's command line: `tasks` agents over `hosts` nodes (a task a node on a real
    cluster; several tasks on one node stand in for several nodes), `per_host` ranks each."""
    return ["srun", "--kill-on-bad-exit=1", f"--nodes={hosts}", f"--ntasks={tasks}",
            f"--cpus-per-task={threads}",
            "torchrun", f"--nnodes={tasks}", f"--nproc_per_node={per_host}", "--rdzv-backend=c10d",
            f"--rdzv-endpoint={host}:{rendezvous_port(job_id)}", f"--rdzv-id=autoreid-{job_id}",
            "-m", "autoreid.cli", *args]


def launch(hosts: int, tasks: int, per_host: int, threads: int, args: list[str], log) -> None:
    """Replace this process by the step (never returns)."""
    for name, value in (("--hosts", hosts), ("--tasks", tasks), ("--per-host", per_host),
                        ("--threads", threads)):
        if value < 1:
            raise UserError(f"{name} {value}: must be >= 1")
    if tasks < hosts:
        raise UserError(f"--tasks {tasks}: fewer than --hosts {hosts} (a torchrun agent a node)")
    if not args:
        raise UserError("give the autoreid command to run after -- (e.g. -- pretrain ...)")
    job_id = os.environ.get("SLURM_JOB_ID")
    if not job_id or not shutil.which("srun"):
        raise UserError(f"a run over {hosts} node(s) runs inside a SLURM job only "
                        "(the SLURM profile, docs/slurm.md; on one machine set pretrain_nodes: 1)")
    line = command(hosts, tasks, per_host, threads, socket.gethostname(), job_id, args)
    log(f"[spread] {tasks} torchrun agent(s) on {hosts} node(s), {per_host} rank(s) each: {' '.join(line)}")
    os.execvp(line[0], line)
