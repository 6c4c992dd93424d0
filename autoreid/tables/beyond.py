"""The "beyond the paper" table: what a modern training recipe and a robust search buy over the
paper's, each line "B against A" on the embedded (or real) Market-1501 with both sides' mAP and
their 95% intervals, the effect B - A on mAP and R1 with its interval (autoreid.compare: paired
over the test queries, over the training seeds of one network or over the searched runs of a
method) and a verdict: `gain` (the interval lies above 0), `loss` (below 0), `not resolved`.

Three groups of lines (params `beyond`):
- recipe: each of `networks` (the Auto-ReID cell, ResNet-50) under the modern recipe against the
  paper's, and the first network against each other one under the modern recipe;
- ingredient: each of `ingredient_networks` under the paper's recipe plus one ingredient against
  the paper's recipe alone (`ingredients`: train settings that each change one key);
- search: the cells of each robust search (`regularized`: search variants, `runs` runs each)
  against plain DARTS (`plain`: Table 1's runs of that variant) and against Table 1's random cells
  of the ReID space, trained as Table 1 trains its runs; beside them each side's spread of mAP
  over its runs, the mean number of skip_connect edges in its derived cells (DARTS' collapse)
  and how alike its runs' cells are (`agreement`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from statistics import mean, stdev

import pandas as pd

from autoreid.experiments import (LABELS, SEARCH_BENCHMARK, Paths, parse_searched, random_rows,
                                  searched_arch)
from autoreid.tables.render import write_table
from autoreid.tables.rows import interval

VERDICTS = {"B": "gain", "A": "loss", "not resolved": "not resolved"}
ANCHORS = [  # Market-1501, single query, no re-ranking, ImageNet-initialised: (R1, mAP)
    ("Auto-ReID (Quan et al., ICCV 2019)", 94.5, 85.1),
    ("ResNet-50, bag of tricks (Luo et al., CVPRW 2019)", 94.1, 85.7),
    ("ResNet-50, fast-reid SBS (He et al., 2020)", 95.4, 88.2),
    ("MSINet, searched (Gu et al., CVPR 2023)", 95.3, 89.6),
]


@dataclass(frozen=True)
class Line:
    group: str  # recipe | ingredient | search
    comparison: str
    a: str
    b: str
    a_units: tuple  # ((evaluation folder, ...), ...): a unit is one network, its folders its seeds
    b_units: tuple
    a_cells: tuple = ()  # search lines: each unit's genotype file
    b_cells: tuple = ()


def _label(arch: str) -> str:
    return LABELS.get(arch, arch)


def _one(params: dict, setting: str, arch: str) -> tuple:
    return (tuple(Paths(params["results"]).evaluations(params, SEARCH_BENCHMARK, setting, arch)),)


def _cells(params: dict, archs: list[str]) -> tuple[tuple, tuple]:
    """(units, genotype files) of searched or random cells trained as Table 1 trains its runs."""
    paths, setting = Paths(params["results"]), params["table1"]["setting"]
    units = tuple(tuple(paths.evaluations(params, SEARCH_BENCHMARK, setting, a)) for a in archs)
    return units, tuple(paths.genotype(SEARCH_BENCHMARK, *parse_searched(a)) for a in archs)


def lines(params: dict) -> list[Line]:
    b = params["beyond"]
    out = []
    for net in b["networks"]:
        out.append(Line("recipe", f"modern recipe against the paper's ({_label(net)})",
                        f"{_label(net)}, paper's recipe", f"{_label(net)}, modern recipe",
                        _one(params, b["paper"], net), _one(params, b["modern"], net)))
    first, *others = b["networks"]
    for net in others:
        out.append(Line("recipe", f"{_label(first)} against {_label(net)}, modern recipe",
                        f"{_label(net)}, modern recipe", f"{_label(first)}, modern recipe",
                        _one(params, b["modern"], net), _one(params, b["modern"], first)))
    for net in b["ingredient_networks"]:
        for ingredient in b["ingredients"]:
            out.append(Line("ingredient", f"{ingredient} alone ({_label(net)})",
                            f"{_label(net)}, paper's recipe", f"{_label(net)}, + {ingredient}",
                            _one(params, b["paper"], net), _one(params, ingredient, net)))
    plain = [searched_arch(b["plain"], r) for r in range(1, params["table1"]["runs"] + 1)]
    randoms = [r.arch for r in random_rows(params) if r.arch.startswith("random_reid-")]
    sides = [(f"{_label(b['plain'])} (DARTS)", plain)] + ([("random ReID cells", randoms)] if randoms else [])
    for variant in b["regularized"]:
        runs = [searched_arch(variant, r) for r in range(1, b["runs"] + 1)]
        units, cells = _cells(params, runs)
        for name, archs in sides:
            a_units, a_cells = _cells(params, archs)
            out.append(Line("search", f"{_label(variant)} cells against {name}", name,
                            f"{_label(variant)} cells", a_units, units, a_cells, cells))
    if randoms:
        a_units, a_cells = _cells(params, randoms)
        b_units, b_cells = _cells(params, plain)
        out.append(Line("search", f"{sides[0][0]} cells against random ReID cells",
                        "random ReID cells", sides[0][0], a_units, b_units, a_cells, b_cells))
    return out


def inputs(params: dict) -> list[str]:
    """Every file the table reads: each side's metrics and details, and the searched cells."""
    files = []
    for line in lines(params):
        files += [f"{folder}/metrics{ext}" for unit in line.a_units + line.b_units for folder in unit
                  for ext in (".json", ".details.json")]
        files += list(line.a_cells + line.b_cells)
    return list(dict.fromkeys(files))


def skip_edges(genotype_file: str) -> int:
    """skip_connect edges of a derived genotype's normal and reduction cells."""
    from autoreid.space.genotypes import load

    g = load(genotype_file)
    return sum(op == "skip_connect" for op, *_ in g.normal + g.reduce)


def agreement(genotype_files: tuple) -> float | None:
    """How alike a method's derived cells are: over every pair of its runs, the share of the
    nodes' input edges (op, input) that both hold, node by node, normal and reduction cells
    (1: every run derived the same cells). None with fewer than two runs."""
    from itertools import combinations

    from autoreid.space.genotypes import load

    def nodes(g):
        edges = list(g.normal) + list(g.reduce)
        return [{tuple(e[:2]) for e in edges[k:k + 2]} for k in range(0, len(edges), 2)]

    cells = [nodes(load(f)) for f in genotype_files]
    pairs = [sum(len(x & y) for x, y in zip(a, b)) / (2 * len(a)) for a, b in combinations(cells, 2)]
    return mean(pairs) if pairs else None


def _spread(values: list[float]) -> str:
    return f"{100 * stdev(values):.1f}" if len(values) > 1 else ""


def _side(params: dict, units: tuple) -> tuple[float, str]:
    """A side's mean mAP (%) and its 95% interval over the queries and its seeds or runs."""
    from autoreid.compare import estimate
    from autoreid.config import stage_config

    e = estimate([f"{folder}/metrics.json" for unit in units for folder in unit],
                 stage_config(params, "bootstrap"), stage_config(params, "seeds"))
    return 100 * e["mAP"]["mean"], interval(*e["mAP"]["ci95"])


def build(params: dict) -> pd.DataFrame:
    from autoreid.compare import compare_units, estimate
    from autoreid.config import stage_config

    boot, noise = stage_config(params, "bootstrap"), stage_config(params, "seeds")
    records = []
    for line in lines(params):
        def units(side):
            return [[Path(f"{folder}/metrics.json") for folder in unit] for unit in side]

        r = compare_units(units(line.a_units), units(line.b_units), boot, noise)["metrics"]
        (map_a, ci_a), (map_b, ci_b) = _side(params, line.a_units), _side(params, line.b_units)
        record = {"Group": line.group, "Comparison": line.comparison, "A": line.a, "B": line.b,
                  "n (A)": f"{len(line.a_units)}x{len(line.a_units[0])}",
                  "n (B)": f"{len(line.b_units)}x{len(line.b_units[0])}",
                  "mAP A": map_a, "mAP A 95% CI": ci_a, "mAP B": map_b, "mAP B 95% CI": ci_b}
        for metric, name in (("mAP", "mAP"), ("rank1", "R1")):
            m = r[metric]
            record.update({f"{name} effect (B - A)": 100 * m["difference"],
                           f"{name} 95% CI": interval(*m["ci95"]), f"{name} verdict": VERDICTS[m["verdict"]]})
        spread = ["", ""]
        if line.group == "search":
            for k, side in enumerate((line.a_units, line.b_units)):
                spread[k] = _spread([estimate([f"{f}/metrics.json" for f in unit], boot, None)["mAP"]["mean"]
                                     for unit in side])
        record["runs' mAP sd (A / B)"] = " / ".join(spread) if any(spread) else ""
        record["skip edges (A / B)"] = (
            f"{mean(map(skip_edges, line.a_cells)):.1f} / {mean(map(skip_edges, line.b_cells)):.1f}"
            if line.a_cells else "")
        shares = [agreement(cells) for cells in (line.a_cells, line.b_cells)]
        record["cells' agreement (A / B)"] = (
            " / ".join("" if v is None else f"{v:.2f}" for v in shares) if line.a_cells else "")
        records.append(record)
    return pd.DataFrame.from_records(records)


def summary(df: pd.DataFrame) -> dict:
    """{comparison: {effect, ci95_lo, ci95_hi, gain}} on mAP, for `dvc metrics` (numbers only)."""
    out = {}
    for _, row in df.iterrows():
        lo, hi = (float(v) for v in row["mAP 95% CI"][1:-1].split(","))
        out[row["Comparison"]] = {"effect": round(float(row["mAP effect (B - A)"]), 2), "ci95_lo": lo,
                                  "ci95_hi": hi, "gain": int(row["mAP verdict"] == "gain")}
    return out


def write(params: dict, out_stem: str) -> list[str]:
    b = params["beyond"]
    # pragma: no mutate start (prose under the table: its facts are tested, its words are not)
    notes = [
        f"profile `{params['name']}`, Market-1501; mAP and R1 in %; effect: B - A; n: networks x "
        "training seeds a side (a search's side holds its runs, each trained with its seeds).",
        "95% CI of a side: over its test queries (identity bootstrap) and its seeds or runs; of an "
        f"effect: paired over the queries ({params['bootstrap']['resamples']} resamples) and over "
        "the seeds or runs (Student's t; one training a side: the profile's seeds.sd). Verdict: "
        "gain (the interval lies above 0), loss (below 0), not resolved.",
        f"paper's recipe: setting `{b['paper']}`; modern recipe: `{b['modern']}`; an ingredient "
        "alone: the paper's recipe with that one key changed (params train_settings). Searches: "
        f"`{b['plain']}` is DARTS as the paper runs it ({params['table1']['runs']} runs); each "
        f"robust search {b['runs']} runs, trained as Table 1's runs (setting "
        f"`{params['table1']['setting']}`). runs' mAP sd: the spread of a method's runs; skip "
        "edges: skip_connect edges of a derived genotype (normal + reduction), mean over runs; "
        "cells' agreement: the share of the nodes' (op, input) edges two runs both derived, mean "
        "over pairs of runs (1: every run the same cells).",
        "anchors, Market-1501 without re-ranking, ImageNet-initialised (R1 / mAP): "
        + "; ".join(f"{name} {r1} / {m}" for name, r1, m in ANCHORS)
        + ". They are the published levels at full scale; this profile's rows are effects at its own.",
    ]
    # pragma: no mutate end
    df = build(params)
    return write_table(df, out_stem, "Beyond the paper: a modern recipe and robust searches", notes,
                       "tab:beyond", summary(df))
