"""The paper's six tables: each module has `inputs(params)` (the files it reads) and
`write(params, stem)`."""
from __future__ import annotations


def inputs(params: dict, number: int) -> list[str]:
    from autoreid.tables import table1, table2, table3, table4, transfer

    return {1: table1.inputs, 2: table2.inputs, 3: table3.inputs, 4: table4.inputs,
            5: lambda p: transfer.inputs(p, 5), 6: lambda p: transfer.inputs(p, 6)}[number](params)


def profiles(params: dict) -> dict[str, list[str]]:
    """The architectures (file names) whose size the tables print, per head: {"reid": [...],
    "pcb": [...]}, from the profile files among every table's inputs (the `profile` jobs)."""
    from autoreid.experiments import Paths

    folder = Paths(params["results"]).profile("x", "y").rsplit("/", 1)[0] + "/"
    out: dict[str, list[str]] = {}
    for path in sorted({f for n in range(1, 7) for f in inputs(params, n)}):
        if path.startswith(folder) and path.endswith(".json"):
            arch, _, head = path[len(folder):-len(".json")].rpartition("-")
            out.setdefault(head, []).append(arch)
    return out
