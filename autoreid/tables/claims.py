"""The claims table: each of the paper's claims as "B beats A" on mAP, with the measured effect
B - A, its 95% interval (autoreid.compare: paired over the test queries; over the searched runs
where a side is a method's runs, over the training seeds where it is one network) and a verdict:
`reproduced` (the interval lies above 0), `contradicted` (below 0), `not resolved` (it holds 0).
Beside it the paper's own effect, from its tables.

Where a claim names Auto-ReID or Baseline, they are the cells `select` chose; under a rule that
chooses by test-set mAP (best_map, best_map_reid) that choice was made on the same test set, which
flatters them (the paper's protocol; the note under the table says so).
"""
from __future__ import annotations

from dataclasses import dataclass
from statistics import mean

import pandas as pd

from autoreid.experiments import (LABELS, SEARCH_BENCHMARK, SELECTED, Paths, chosen_arch,
                                  network_seeds, random_rows, searched_arch, trained_by_name)
from autoreid.io import read_yaml
from autoreid.tables import paper
from autoreid.tables.render import write_table
from autoreid.tables.rows import interval

VERDICTS = {"B": "reproduced", "A": "contradicted", "not resolved": "not resolved"}


@dataclass(frozen=True)
class Claim:
    claim: str  # in the paper's words: B beats A
    a: str  # what the claim says is worse, as a table names it
    b: str
    a_units: tuple  # ((evaluation folder, ...), ...): a unit is one network, its folders its seeds
    b_units: tuple
    paper: float | None  # the paper's own effect on mAP (B - A, points)
    metrics: str = "metrics"  # metrics or metrics_rerank, of both sides ...
    b_metrics: str | None = None  # ... or of B alone


def _runs(params: dict, variant: str) -> tuple:
    paths, setting = Paths(params["results"]), params["table1"]["setting"]
    return tuple(tuple(paths.evaluations(params, SEARCH_BENCHMARK, setting, searched_arch(variant, r)))
                 for r in range(1, params["table1"]["runs"] + 1))


def _one(params: dict, setting: str, arch: str, benchmark: str = SEARCH_BENCHMARK) -> tuple:
    return (tuple(Paths(params["results"]).evaluations(params, benchmark, setting, arch)),)


def _chosen(params: dict, selection: dict | None, name: str) -> tuple:
    """The trainings from scratch of the cell `select` chose as `name` (AutoReID, Baseline):
    `chosen_arch`'s; () while no selection is known and the choice is a Table 1 run (`inputs` then
    declares every run it may pick)."""
    if selection is None and not trained_by_name(params):
        return ()
    return _one(params, params["table1"]["setting"], chosen_arch(params, selection or {}, name))


def _paper_runs(label: str) -> float:
    return mean(v[0] for k, v in paper.TABLE1.items() if k.startswith(label + " (run"))


def claims(params: dict, selection: dict | None) -> list[Claim]:
    """The claims the profile's results can test (a table or variant it lacks drops its claims)."""
    t1, scratch = params["table1"], params["table1"]["setting"]
    variants = set(t1["variants"])
    out = []
    for a, b, text in (("baseline", "baseline_reid", "the ReID search space beats the standard one"),
                       ("baseline_reid", "retrieval_reid", "the retrieval objective beats softmax "
                                                           "in the search")):
        if {a, b} <= variants:
            out.append(Claim(text, f"{LABELS[a]} runs", f"{LABELS[b]} runs", _runs(params, a),
                             _runs(params, b), _paper_runs(LABELS[b]) - _paper_runs(LABELS[a])))
    for other in t1["resnets"] + t1["published"]:
        label = LABELS.get(other, other)
        ref = paper.TABLE1.get(label)
        out.append(Claim(f"Auto-ReID beats {label}", label, "Auto-ReID", _one(params, scratch, other),
                         _chosen(params, selection, "AutoReID"),
                         ref and paper.TABLE4["Auto-ReID"][0] - ref[0]))
    randoms = {r.arch.split("-run")[0] for r in random_rows(params)}
    for space, searched in (("standard", [v for v in ("baseline",) if v in variants]),
                            ("reid", [v for v in ("baseline_reid", "retrieval_reid") if v in variants])):
        if f"random_{space}" in randoms and searched:
            units = tuple(u for v in searched for u in _runs(params, v))
            cells = tuple(u for r in random_rows(params) if r.arch.startswith(f"random_{space}-")
                          for u in _one(params, scratch, r.arch))
            out.append(Claim(f"searched cells beat random cells ({space} space)",
                             f"random {space} cells", "searched runs", cells, units, None))
    imagenet = params["table3"]["setting"]
    for name in SELECTED:
        label = LABELS[name]
        out.append(Claim(f"ImageNet initialisation beats training from scratch ({label})",
                         f"{label}, from scratch", f"{label}, ImageNet", _chosen(params, selection, name),
                         _one(params, imagenet, name),
                         paper.TABLE3[label][3] - paper.TABLE4[label][0]))
        out.append(Claim(f"re-ranking helps ({label})", label, f"{label} + RK",
                         _one(params, imagenet, name), _one(params, imagenet, name),
                         paper.TABLE3[label + " + RK"][3] - paper.TABLE3[label][3],
                         b_metrics="metrics_rerank"))
    pcb = params["table4"]["setting"]
    for arch in params["table4"]["archs"]:
        label = LABELS.get(arch, arch)
        plain = _chosen(params, selection, arch) if arch in SELECTED else _one(params, scratch, arch)
        ref_plain, ref_pcb = paper.TABLE4.get(label), paper.TABLE4.get(label + "+PCB")
        out.append(Claim(f"PCB's parts help ({label})", label, f"{label}+PCB", plain,
                         _one(params, pcb, arch),
                         ref_plain and ref_pcb and ref_pcb[0] - ref_plain[0]))
    return out


def _n(units: tuple) -> str:
    """networks x training seeds"""
    return f"{len(units)}x{len(units[0])}"


def _files(units: tuple, name: str) -> list[str]:
    return [f"{folder}/{name}{ext}" for unit in units for folder in unit
            for ext in (".json", ".details.json")]


def inputs(params: dict) -> list[str]:
    """Every file the claims read. Which searched run is Auto-ReID is known only once `select`
    has run, so every searched Table 1 run of the selection's pool is declared (as Table 4 does)."""
    from autoreid.tables import table4

    files = [Paths(params["results"]).selection()]
    for c in claims(params, None):
        files += _files(c.a_units, c.metrics) + _files(c.b_units, c.b_metrics or c.metrics)
    files += [f for f in table4.inputs(params) if f.endswith(("metrics.json", "metrics.details.json"))]
    return list(dict.fromkeys(files))


def build(params: dict) -> pd.DataFrame:
    from pathlib import Path

    from autoreid.compare import compare_units
    from autoreid.config import stage_config

    boot, noise = stage_config(params, "bootstrap"), stage_config(params, "seeds")
    selection = read_yaml(Paths(params["results"]).selection())
    records = []
    for c in claims(params, selection):
        def units(side, name):
            return [[Path(f"{folder}/{name}.json") for folder in unit] for unit in side]

        r = compare_units(units(c.a_units, c.metrics), units(c.b_units, c.b_metrics or c.metrics),
                          boot, noise)
        m = r["metrics"]["mAP"]
        records.append({"Claim": c.claim, "A": c.a, "B": c.b, "n (A)": _n(c.a_units),
                        "n (B)": _n(c.b_units), "mAP A": 100 * m["A"], "mAP B": 100 * m["B"],
                        "effect (B - A)": 100 * m["difference"], "95% CI": interval(*m["ci95"]),
                        "verdict": VERDICTS[m["verdict"]], "paper effect": c.paper})
    return pd.DataFrame.from_records(records)


def summary(df: pd.DataFrame) -> dict:
    """{claim: {effect, ci95_lo, ci95_hi, reproduced}} for `dvc metrics` (numbers only)."""
    out = {}
    for _, row in df.iterrows():
        lo, hi = (float(v) for v in row["95% CI"][1:-1].split(","))
        out[row["Claim"]] = {"effect": round(float(row["effect (B - A)"]), 2), "ci95_lo": lo,
                             "ci95_hi": hi, "reproduced": int(row["verdict"] == "reproduced")}
    return out


def write(params: dict, out_stem: str) -> list[str]:
    selection = read_yaml(Paths(params["results"]).selection())
    # pragma: no mutate start (prose under the table: its facts are tested, its words are not)
    notes = [
        f"profile `{params['name']}`; mAP in %; effect: B - A; n: networks x training seeds a "
        "side (a method's side holds its searched runs or random cells, each trained with its "
        "seeds).",
        "95% CI: paired over the test queries (identity bootstrap, "
        f"{params['bootstrap']['resamples']} resamples) and over the networks or seeds of each "
        "side (Student's t); with one training a side, one training's seed noise measured on this "
        "profile (seeds.sd). Verdict: reproduced (the interval lies above 0), contradicted (below "
        "0), not resolved.",
        f"Auto-ReID = {selection['AutoReID']['arch']}, Baseline = {selection['Baseline']['arch']} "
        f"(rule `{selection['rule']}`" + ("; chosen by test-set mAP, which flatters them"
                                          + (": as single networks they are trained again under "
                                             "their names, and only seed 0 is the training the "
                                             "choice saw)" if network_seeds(params) >
                                             params["seeds"]["count"] else ")")
                                          if selection["rule"] in ("best_map", "best_map_reid",
                                                                   "best_rank1") else ")") + ".",
        "paper effect: from Tables 1, 3 and 4 of Quan et al., ICCV 2019 (run means for the "
        "search claims; the released Auto-ReID's Table 4 mAP against Table 1's rows).",
    ]
    # pragma: no mutate end
    df = build(params)
    return write_table(df, out_stem, "Claims: the paper's claims tested on this profile", notes,
                       "tab:claims", summary(df))
