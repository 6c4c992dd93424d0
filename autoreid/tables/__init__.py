"""The paper's six tables: each module has `inputs(params)` (the files it reads) and
`write(params, stem)`."""
from __future__ import annotations


def inputs(params: dict, number: int) -> list[str]:
    from autoreid.tables import table1, table2, table3, table4, transfer

    return {1: table1.inputs, 2: table2.inputs, 3: table3.inputs, 4: table4.inputs,
            5: lambda p: transfer.inputs(p, 5), 6: lambda p: transfer.inputs(p, 6)}[number](params)
