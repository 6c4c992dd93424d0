"""Table 2: search configuration (C, l of the supernet) x training configuration (C, l of the
trained network), reid space with the softmax objective, no ImageNet: R1, mAP, Params."""
from __future__ import annotations

import pandas as pd

from autoreid.experiments import SEARCH_BENCHMARK, Paths, search_config, setting_config, table2_cells
from autoreid.io import read_json
from autoreid.tables import paper, rows
from autoreid.tables.render import interval_note, write_table

COLUMNS = {"rank1": "R1", "mAP": "mAP"}


def _cl(cfg: dict) -> str:
    return f"C={cfg['C']}, l={list(cfg['layers'])}"


def inputs(params: dict) -> list[str]:
    paths = Paths(params["results"])
    return [p for _, _, arch, s in table2_cells(params)
            for p in rows.files(params, SEARCH_BENCHMARK, s, arch)
            + [f"{paths.train(SEARCH_BENCHMARK, s, arch, 0)}/summary.json"]]


def build(params: dict) -> pd.DataFrame:
    paths = Paths(params["results"])
    t = params["table2"]
    records = []
    for i, j, arch, setting in table2_cells(params):
        summary = read_json(f"{paths.train(SEARCH_BENCHMARK, setting, arch, 0)}/summary.json")
        ref = paper.TABLE2[i][j] if i < 4 and j < 4 else (None, None, None)
        records.append({
            "Search": _cl(search_config(params, t["searches"][i])),
            "Train": _cl(setting_config(params, setting)),
            **rows.row(params, SEARCH_BENCHMARK, setting, arch, COLUMNS),
            "Params (M)": summary["params_M"],
            "paper R1": ref[0], "paper mAP": ref[1], "paper Params": ref[2]})
    return pd.DataFrame.from_records(records)


def write(params: dict, out_stem: str) -> list[str]:
    # pragma: no mutate start (prose under the table: its facts are tested, its words are not)
    notes = [f"profile `{params['name']}`; search: reid space, softmax objective, run "
             f"{params['table2']['run']}; trained from scratch on Market-1501; R1 and mAP in %.",
             "Params (M): of the network as trained here (backbone + head + classifier).",
             interval_note(params),
             "`paper` columns: Table 2 of Quan et al. by position (search C16 l2222, C16 l3463, "
             "C32 l2222, C32 l3463 x the same training configurations)."]
    # pragma: no mutate end
    return write_table(build(params), out_stem, "Table 2: search configuration x training "
                       "configuration (Market-1501, no ImageNet)", notes, "tab:table2")
