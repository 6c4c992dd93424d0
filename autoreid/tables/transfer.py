"""Tables 5 and 6: Baseline and Auto-ReID (cells searched on Market-1501) trained and evaluated on
CUHK03 (new protocol, labeled and detected) and MSMT17, beside the paper's numbers and the
literature rows it quotes."""
from __future__ import annotations

import pandas as pd

from autoreid.experiments import LABELS, SELECTED, Paths
from autoreid.io import read_yaml
from autoreid.select import note
from autoreid.tables import paper, rows
from autoreid.tables.render import interval_note, write_table

BENCHMARKS = {5: ("cuhk03-labeled", "cuhk03-detected"), 6: ("msmt17",)}
COLUMNS = {5: [("cuhk03-labeled", "rank1", "Labeled R1"), ("cuhk03-labeled", "mAP", "Labeled mAP"),
               ("cuhk03-detected", "rank1", "Detected R1"), ("cuhk03-detected", "mAP", "Detected mAP")],
           6: [("msmt17", "rank1", "R1"), ("msmt17", "rank5", "R5"), ("msmt17", "rank10", "R10"),
               ("msmt17", "mAP", "mAP")]}
TITLES = {5: "Table 5: CUHK03 (new protocol), labeled and detected",
          6: "Table 6: MSMT17"}


def inputs(params: dict, number: int) -> list[str]:
    """The metrics files a table reads (the Snakefile asks for the same list)."""
    paths, setting = Paths(params["results"]), params[f"table{number}"]["setting"]
    return [f for b in BENCHMARKS[number] for a in SELECTED
            for f in rows.files(params, b, setting, a)] + [paths.selection()]


def build(params: dict, number: int) -> pd.DataFrame:
    setting = params[f"table{number}"]["setting"]
    quoted = paper.TABLE5 if number == 5 else paper.TABLE6
    records = [{"Method": f"{method} (quoted)",
                **{f"paper {c[2]}": v for c, v in zip(COLUMNS[number], ref)}}
               for method, ref in quoted.items() if method not in ("Baseline", "Auto-ReID")]
    for arch in SELECTED:
        label = LABELS[arch]
        row = {"Method": label}
        for b in BENCHMARKS[number]:
            row.update(rows.row(params, b, setting, arch,
                                {key: name for b_, key, name in COLUMNS[number] if b_ == b}))
        row.update({f"paper {c[2]}": v for c, v in zip(COLUMNS[number], quoted[label])})
        records.append(row)
    ours = [n for _, key, name in COLUMNS[number]
            for n in ([name, name + rows.CI] if key in rows.WITH_INTERVAL else [name])]
    columns = ["Method"] + ours + ["n"] + [f"paper {c[2]}" for c in COLUMNS[number]]
    return pd.DataFrame.from_records(records, columns=columns)


def write(params: dict, number: int, out_stem: str) -> list[str]:
    df = build(params, number)
    setting = params[f"table{number}"]["setting"]
    selection = read_yaml(Paths(params["results"]).selection())
    # pragma: no mutate start (prose under the table: its facts are tested, its words are not)
    notes = [
        f"profile `{params['name']}`; ours: cells trained on each benchmark (setting "
        f"`{setting}`); in %.",
        f"{note(selection)}.",
        interval_note(params),
        "`paper` columns and quoted rows: Quan et al., ICCV 2019 (with ImageNet pre-training).",
    ]
    # pragma: no mutate end
    return write_table(df, out_stem, TITLES[number], notes, f"tab:table{number}")

