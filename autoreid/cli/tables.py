"""`autoreid tables`: the paper's six tables, the claims table and the beyond-the-paper table from
a profile's results."""
from __future__ import annotations

from autoreid.cli.options import add_params, params


def tables(a) -> None:
    from autoreid import tables as build

    for line in build.build(params(a), a.table or build.NAMES, a.out_dir):
        print(line)


def add_parser(sub) -> None:
    s = sub.add_parser("tables", help="build the paper's tables from the results of a profile")
    s.add_argument("--table", nargs="+",
                   help="tables: 1-6 (the paper's), claims and beyond (default: all)")
    s.add_argument("--out-dir", required=True, help="folder for <table>.md, .tex, .csv and .json "
                   "(the pipeline's: <results>/tables)")
    add_params(s, None, "tables' sections and results")
    s.set_defaults(func=tables)
