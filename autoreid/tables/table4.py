"""Table 4: the part-aware module found by search against a hand-placed part module: DARTS,
GDAS and Baseline with and without a PCB head, and Auto-ReID; all from scratch on Market-1501."""
from __future__ import annotations

import pandas as pd

from autoreid.experiments import (LABELS, SEARCH_BENCHMARK, SELECTED, Paths, chosen_arch, searched_rows,
                                  trained_by_name)
from autoreid.io import read_json, read_yaml
from autoreid.select import note
from autoreid.tables import paper, rows
from autoreid.tables.render import interval_note, write_table

COLUMNS = {"mAP": "mAP", "rank1": "R1"}


def _plain(params: dict, arch: str, selection: dict) -> str:
    """The training from scratch that stands for `arch` without PCB (a selected name: its
    `chosen_arch`)."""
    return chosen_arch(params, selection, arch) if arch in SELECTED else arch


def inputs(params: dict) -> list[str]:
    """Every file `build` reads. The rows of selected names (and Auto-ReID's) read the Table 1 run
    the selection chose, which is known only once `select` has run: all searched Table 1 runs are
    declared. Under rule `published`, or where single networks get their own seeds
    (seeds.networks), they read the cells trained under their names."""
    paths, t = Paths(params["results"]), params["table4"]
    scratch = params["table1"]["setting"]
    chosen = (list(SELECTED) if trained_by_name(params)  # trained as themselves, or a run
              else [r.arch for r in searched_rows(params)])
    plain = dict.fromkeys([a for a in t["archs"] if a not in SELECTED] + chosen)  # once each, in order
    return ([f for a in t["archs"] for f in rows.files(params, SEARCH_BENCHMARK, t["setting"], a)]
            + [f for a in plain for f in rows.files(params, SEARCH_BENCHMARK, scratch, a)]
            + [paths.complexity(a, "pcb") for a in t["archs"]]
            + [paths.complexity(a) for a in t["archs"]] + [paths.complexity("AutoReID"), paths.selection()])


def build(params: dict) -> pd.DataFrame:
    paths, t = Paths(params["results"]), params["table4"]
    selection = read_yaml(paths.selection())
    scratch = params["table1"]["setting"]
    entries = []
    for arch in t["archs"]:
        entries.append((LABELS.get(arch, arch), _plain(params, arch, selection), scratch, arch))
    for arch in t["archs"]:
        entries.append((f"{LABELS.get(arch, arch)}+PCB", arch, t["setting"], arch))
    entries.append(("Auto-ReID", chosen_arch(params, selection, "AutoReID"), scratch, "AutoReID"))
    records = []
    for label, trained, setting, counted in entries:
        p = read_json(paths.complexity(counted))  # +PCB: the plain network's size, as the paper prints
        ref = paper.TABLE4.get(label, (None,) * 4)
        records.append({"Architecture": label,
                        **rows.row(params, SEARCH_BENCHMARK, setting, trained, COLUMNS),
                        "Params (M)": p["params_M"], "FLOPs (G)": p["flops_G"],
                        "paper mAP": ref[0], "paper R1": ref[1], "paper Params": ref[2],
                        "paper FLOPs": ref[3]})
    return pd.DataFrame.from_records(records)


def pcb_sizes(params: dict) -> list[tuple[str, float, float, float]]:
    """(arch, PCB head params M, PCB network params M, its multiply-adds G) per +PCB row."""
    paths = Paths(params["results"])
    return [(arch, p["head_params_M"], p["params_M"], p["flops_G"])
            for arch in params["table4"]["archs"] for p in [read_json(paths.complexity(arch, "pcb"))]]


def write(params: dict, out_stem: str) -> list[str]:
    sizes = pcb_sizes(params)
    # pragma: no mutate start (prose under the table: its facts are tested, its words are not)
    notes = [f"profile `{params['name']}`; all trained from scratch on Market-1501; mAP and R1 "
             "in %. " + note(read_yaml(Paths(params["results"]).selection())) + ".",
             "PCB: last stride 1 (the stripes are cut from a 24x8 map at 384x128), 6 horizontal "
             "stripes, a 256-d reduction and a classifier per stripe, softmax on each stripe "
             f"(train_settings.{params['table4']['setting']}). Params/FLOPs are at the paper's "
             "scale; the +PCB rows print the plain networks' sizes, as the paper does. With their "
             "PCB heads they count " + "; ".join(
                 f"{LABELS.get(a, a)}+PCB {total:.2f} M (head {head:.2f} M), {flops:.2f} G"
                 for a, head, total, flops in sizes) + ".",
             interval_note(params), "`paper` columns: Table 4 of Quan et al., ICCV 2019."]
    # pragma: no mutate end
    return write_table(build(params), out_stem, "Table 4: searched part-aware cells vs hand-placed "
                       "PCB heads (Market-1501, no ImageNet)", notes, "tab:table4")
