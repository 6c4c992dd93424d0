"""Where a command runs: `autoreid place --gpus N -- COMMAND` (on GPUs of its own) and
`autoreid spread --hosts K ... -- ARGS` (`autoreid ARGS` over several nodes of a SLURM job)."""
from __future__ import annotations

import argparse
import sys


def _after_dashes(words: list[str]) -> list[str]:
    return words[1:] if words[:1] == ["--"] else words


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def place(a) -> None:
    from autoreid.devices import place as run

    slots = 1 if a.jobs_per_gpu is None else a.jobs_per_gpu
    run(a.gpus, _after_dashes(a.command_line), _log, slots)


def spread(a) -> None:
    from autoreid.spread import launch

    tasks = a.hosts if a.tasks is None else a.tasks
    threads = 1 if a.threads is None else a.threads
    launch(a.hosts, tasks, a.per_host, threads, _after_dashes(a.command_line), _log)


def add_parser(sub) -> None:
    s = sub.add_parser("place", help="run a command on GPUs of its own (file locks; a SLURM job's "
                       "allocation as it is): autoreid place --gpus N -- COMMAND ...")
    s.add_argument("--gpus", type=int, required=True, help="devices the command gets")
    s.add_argument("--jobs-per-gpu", type=int,
                   help="jobs that share one device (the params' jobs_per_gpu; default: 1, none): "
                        "a command of one GPU takes one of its slots, one of several whole devices")
    s.add_argument("command_line", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                   help="the command, after --; it sees only its devices in CUDA_VISIBLE_DEVICES")
    s.set_defaults(func=place)

    s = sub.add_parser("spread", help="inside a SLURM job, run `autoreid ARGS` over several nodes: "
                       "srun starts a torchrun agent a node, c10d rendezvous on this host "
                       "(pretrain_nodes > 1): autoreid spread --hosts K --per-host G -- pretrain ...")
    s.add_argument("--hosts", type=int, required=True, help="nodes of the SLURM job to spread over")
    s.add_argument("--tasks", type=int,
                   help="torchrun agents (default: --hosts, one a node; more stand in for nodes)")
    s.add_argument("--per-host", type=int, required=True, help="ranks (GPUs) each agent starts")
    s.add_argument("--threads", type=int, help="CPUs of each agent (default: 1)")
    s.add_argument("command_line", nargs=argparse.REMAINDER, metavar="-- ARGS ...",
                   help="the autoreid command and its options, after --")
    s.set_defaults(func=spread)
