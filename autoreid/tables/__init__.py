"""The paper's six tables, the claims table and the "beyond the paper" table: each module has
`inputs(params)` (the files it reads) and `write(params, stem)`; a table is named by its number, the
others by "claims" and "beyond"."""
from __future__ import annotations

NAMES = ("1", "2", "3", "4", "5", "6", "claims", "beyond")


def _table(name: str | int):
    """(inputs, write) of table `name`."""
    from autoreid.errors import UserError
    from autoreid.tables import beyond, claims, table1, table2, table3, table4, transfer

    tables = {"1": (table1.inputs, table1.write), "2": (table2.inputs, table2.write),
              "3": (table3.inputs, table3.write), "4": (table4.inputs, table4.write),
              "5": (lambda p: transfer.inputs(p, 5), lambda p, stem: transfer.write(p, 5, stem)),
              "6": (lambda p: transfer.inputs(p, 6), lambda p, stem: transfer.write(p, 6, stem)),
              "claims": (claims.inputs, claims.write), "beyond": (beyond.inputs, beyond.write)}
    if str(name) not in tables:
        raise UserError(f"table {name}: the tables are {', '.join(NAMES)} (the paper's Tables 1-6, "
                        "the claims table and the beyond-the-paper table)")
    return tables[str(name)]


def inputs(params: dict, name: str | int) -> list[str]:
    return _table(name)[0](params)


def write(params: dict, name: str | int, stem: str) -> list[str]:
    return _table(name)[1](params, stem)


def build(params: dict, names, out_dir: str) -> list[str]:
    """Tables' one entry: each table of `names` -> `out_dir`/<table>.md, .tex, .csv and .json (the
    paper's Tables 1-6: table<n>; the claims table: claims; beyond the paper: beyond); returns what
    each wrote."""
    from pathlib import Path

    from autoreid.experiments import table_stem

    lines = []
    for name in names:
        lines += write(params, name, str(Path(out_dir) / table_stem(name)))
    return lines


def keys(name: str | int) -> list[str]:
    """The params keys a table reads besides the results (its job's DVC params)."""
    own = {"claims": ["table1", "table3", "table4", "select.rule"],
           "beyond": ["beyond", "table1.setting", "table1.runs", "table1.random_cells"]}
    return own.get(str(name), [f"table{name}"]) + ["bootstrap", "seeds"]


def complexities(params: dict) -> dict[str, list[str]]:
    """The architectures (file names) whose complexity the tables print, per head: {"reid": [...],
    "pcb": [...]}, from the complexity files among every table's inputs (the `complexity` jobs)."""
    from autoreid.experiments import Paths

    folder = Paths(params["results"]).complexities() + "/"
    out: dict[str, list[str]] = {}
    for path in sorted({f for n in NAMES for f in inputs(params, n)}):
        if path.startswith(folder) and path.endswith(".json"):
            arch, _, head = path[len(folder):-len(".json")].rpartition("-")
            out.setdefault(head, []).append(arch)
    return out
