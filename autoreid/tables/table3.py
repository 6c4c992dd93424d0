"""Table 3: Market-1501 with ImageNet pre-training: Baseline and Auto-ReID, without and with
k-reciprocal re-ranking (RK), beside the paper's numbers and the literature rows it quotes."""
from __future__ import annotations

import pandas as pd

from autoreid.experiments import LABELS, SEARCH_BENCHMARK, SELECTED, Paths
from autoreid.io import read_json, read_yaml
from autoreid.select import note
from autoreid.tables import paper, rows
from autoreid.tables.render import interval_note, write_table

COLUMNS = {"rank1": "R1", "mAP": "mAP"}


def inputs(params: dict) -> list[str]:
    paths, setting = Paths(params["results"]), params["table3"]["setting"]
    return [f for a in SELECTED for name in ("metrics", "metrics_rerank")
            for f in rows.files(params, SEARCH_BENCHMARK, setting, a, name)] + [
        paths.complexity(a) for a in SELECTED] + [paths.selection()]


def build(params: dict) -> pd.DataFrame:
    paths, setting = Paths(params["results"]), params["table3"]["setting"]
    records = []
    for rk in (False, True):
        for method, (backbone, size, r1, mAP) in paper.TABLE3.items():
            if method.endswith(" + RK") != rk or method.removesuffix(" + RK") in ("Baseline", "Auto-ReID"):
                continue
            records.append({"Method": f"{method} (quoted)", "Backbone": backbone,
                            "paper Params": size, "paper R1": r1, "paper mAP": mAP})
        for arch in SELECTED:
            label = LABELS[arch] + (" + RK" if rk else "")
            _, size, r1, mAP = paper.TABLE3[label]
            records.append({"Method": label, "Backbone": "searched",
                            "Params (M)": read_json(paths.complexity(arch))["params_M"],
                            **rows.row(params, SEARCH_BENCHMARK, setting, arch, COLUMNS,
                                       "metrics_rerank" if rk else "metrics"),
                            "paper Params": size, "paper R1": r1, "paper mAP": mAP})
    columns = ["Method", "Backbone", "Params (M)", "R1", "R1 95% CI", "mAP", "mAP 95% CI", "n",
               "paper Params", "paper R1", "paper mAP"]
    return pd.DataFrame.from_records(records, columns=columns)


def write(params: dict, out_stem: str) -> list[str]:
    selection = read_yaml(Paths(params["results"]).selection())
    source = ("the synthetic ImageNet-layout folder" if params["datasets"]["imagenet"]["synthetic"]
              else "ImageNet")
    # pragma: no mutate start (prose under the table: its facts are tested, its words are not)
    notes = [f"profile `{params['name']}`; ours: pre-trained on {source}, then trained on "
             f"Market-1501 (setting `{params['table3']['setting']}`); in %.",
             f"{note(selection)}; RK: k-reciprocal re-ranking, k1=20, k2=6, λ=0.3.",
             "Params (M) at the paper's scale (C=64, l=[2,2,2,2], 751 classes).",
             interval_note(params),
             "`paper` columns and quoted rows: Table 3 of Quan et al., ICCV 2019."]
    # pragma: no mutate end
    return write_table(build(params), out_stem, "Table 3: Market-1501 with ImageNet pre-training",
                       notes, "tab:table3")
