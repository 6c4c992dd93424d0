"""`autoreid select`: "Auto-ReID" and "Baseline" chosen among the searched runs (or the released
cells), by the params' `select.rule`."""
from __future__ import annotations

from autoreid.cli.options import add_params, params


def select(a) -> None:
    from autoreid.select import select as run

    record = run(params(a), a.out_dir)
    print(f"Auto-ReID = {record['AutoReID']['arch']}, Baseline = {record['Baseline']['arch']} "
          f"(rule {record['rule']})")


def add_parser(sub) -> None:
    s = sub.add_parser("select", help='choose "Auto-ReID" and "Baseline" among the searched runs')
    s.add_argument("--out-dir", required=True, help="folder for AutoReID.yaml, Baseline.yaml, "
                   "their drawings and selection.yaml (the tables read <results>/select)")
    add_params(s, "select", "`select` section and the results it chooses from")
    s.set_defaults(func=select)
