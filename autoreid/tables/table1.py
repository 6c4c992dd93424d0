"""Table 1: the effect of each component (Market-1501, trained from scratch): ResNets, the
published DARTS/GDAS cells and four searches each of Baseline, Baseline + ReID Search Space and
Retrieval + ReID Search Space; ours beside the paper's."""
from __future__ import annotations

import pandas as pd

from autoreid.errors import UserError
from autoreid.experiments import Paths, table1_rows
from autoreid.io import read_json
from autoreid.tables import paper, rows
from autoreid.tables.render import interval_note, write_table

BENCHMARK = "market1501"
COLUMNS = {"mAP": "mAP", "rank1": "R1", "rank5": "R5", "rank10": "R10"}


def inputs(params: dict) -> list[str]:
    """Files Table 1 reads (the Snakefile asks for the same list, plus the cell drawings)."""
    paths, setting = Paths(params["results"]), params["table1"]["setting"]
    table = table1_rows(params)
    return ([f for r in table for f in rows.files(params, BENCHMARK, setting, r.arch)]
            + [paths.complexity(r.arch) for r in table]
            + [f"{paths.pixels(BENCHMARK)}/metrics{ext}" for ext in (".json", ".details.json")])


def build(params: dict) -> pd.DataFrame:
    paths = Paths(params["results"])
    setting = params["table1"]["setting"]
    records = []
    for row in table1_rows(params):
        p = read_json(paths.complexity(row.arch))
        ref = paper.TABLE1.get(row.paper, (None,) * 6)
        records.append({
            "Architecture": row.label, **rows.row(params, BENCHMARK, setting, row.arch, COLUMNS),
            "Params (M)": p["params_M"], "FLOPs (G)": p["flops_G"],
            "paper mAP": ref[0], "paper R1": ref[1], "paper R5": ref[2], "paper R10": ref[3],
            "paper Params": ref[4], "paper FLOPs": ref[5],
        })
    records.append({"Architecture": "Raw pixels (reference, no network)",
                    **rows.scores(params, [paths.pixels(BENCHMARK)], COLUMNS, seeds=False)})
    columns = ["Architecture", "mAP", "mAP 95% CI", "R1", "R1 95% CI", "R5", "R10", "n",
               "Params (M)", "FLOPs (G)", "paper mAP", "paper R1", "paper R5", "paper R10",
               "paper Params", "paper FLOPs"]
    return pd.DataFrame.from_records(records, columns=columns)


def write(params: dict, out_stem: str) -> list[str]:
    try:
        df = build(params)
    except KeyError as e:
        raise UserError(f"table 1: a metrics or complexity file lacks {e}") from None
    prof = params["complexity"]
    train = params["train"]
    # pragma: no mutate start (prose under the table: its facts are tested, its words are not)
    notes = [
        f"profile `{params['name']}`; ours: trained from scratch at C={train['C']}, "
        f"l={train['layers']}, {train['height']}x{train['width']}, {train['epochs']} epochs; "
        "mAP and CMC in %.",
        f"Params (M) and FLOPs (G, multiply-adds) are counted at the paper's scale: C={prof['C']}, "
        f"l={prof['layers']}, {prof['height']}x{prof['width']} input, {prof['num_classes']}-way "
        "classifier (backbone + reID head).",
        interval_note(params),
        "`paper` columns: Table 1 of Quan et al., ICCV 2019.",
    ]
    # pragma: no mutate end
    return write_table(df, out_stem, "Table 1: Market-1501 without ImageNet pre-training",
                       notes, "tab:table1")
