"""`autoreid <command>`: the one entry point that Snakemake rules, DVC stages, CI and users call.

Each command is parse -> resolve -> call: argparse reads the options (paths and names; none has a
default of its own), `autoreid.cli.options` turns the params file and `--set` into the stage's
frozen config, and the stage's one entry runs on it. User mistakes (bad files, parameters,
layouts) end with one line on stderr and exit status 1.
"""
from __future__ import annotations

import gc
import sys


def _name(args) -> str:
    return " ".join(filter(None, [args.command, getattr(args, "data_command", None),
                                  getattr(args, "kind", None)]))


def _logging() -> None:
    """One timestamped line per event on stderr (the per-epoch lines of autoreid.live)."""
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, datefmt="%Y-%m-%d %H:%M:%S",
                        format="%(asctime)s %(message)s")


def main(argv: list[str] | None = None) -> int:
    from autoreid.cli.parser import parser
    from autoreid.errors import UserError

    args = parser().parse_args(argv)
    _logging()
    try:
        args.func(args)
    except UserError as e:
        print(f"autoreid {_name(args)}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"autoreid {_name(args)}: interrupted", file=sys.stderr)
        return 130
    return 0


def run() -> None:
    """The process's entry (the `autoreid` script, `python -m autoreid.cli`, torchrun's workers):
    `main`, then exit. gc.freeze first: the interpreter's last garbage collection would otherwise
    walk every object torch made at import, about 0.4 s of each of the DAG's ~170 processes on a
    CPU (atexit handlers, flushes and finalizers still run)."""
    code = main()
    gc.freeze()
    sys.exit(code)
