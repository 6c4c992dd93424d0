"""The command line: one list of commands, each a module of this package with its own options
(`add_parser`) and its call."""
from __future__ import annotations

import argparse

from autoreid.cli import (compare, complexity, data, evaluate, figures, place, search, select, tables,
                          train, use)

COMMANDS = (data, search, train, evaluate, compare, complexity, figures, select, tables, place, use)


class _Parser(argparse.ArgumentParser):
    """No abbreviations (`--out` is never taken for `--out-dir`), and every command's parser made
    the same way."""

    def __init__(self, **kw):
        kw.setdefault("allow_abbrev", False)
        super().__init__(**kw)


def parser() -> argparse.ArgumentParser:
    from autoreid.version import __version__

    p = _Parser(prog="autoreid", description="Auto-ReID: architecture search for person "
                "re-identification (search, derive, train, evaluate, complexity, tables). Every "
                "Snakemake rule calls one of these. --out names the file a command writes, "
                "--out-dir the folder it writes into; every value comes from the params file "
                "(--params, with --set key=value over it); export and query read a trained "
                "model.pt, which carries what they need.")
    p.add_argument("--version", action="version", version=f"autoreid {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="<command>",
                           parser_class=_Parser)
    for command in COMMANDS:
        command.add_parser(sub)
    return p
