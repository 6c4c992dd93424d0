"""`autoreid place --gpus N -- COMMAND`: a command run on GPUs of its own."""
from __future__ import annotations

import argparse
import sys


def place(a) -> None:
    from autoreid.devices import place as run

    command = a.command_line[1:] if a.command_line[:1] == ["--"] else a.command_line
    slots = 1 if a.jobs_per_gpu is None else a.jobs_per_gpu
    run(a.gpus, command, lambda m: print(m, file=sys.stderr, flush=True), slots)


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
