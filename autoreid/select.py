"""Selection (§4.3): which architectures are "Auto-ReID" and "Baseline" in Tables 3-6.

Rules: `published` (the cells the paper released: Auto-ReID = BASELINE_REID_SEARCH_SPACE,
Baseline = BASELINE; Tables 3-6 then need no search, and Table 4's plain rows train them from
scratch, as they do under any rule where single networks get their own seeds, seeds.networks),
`best_map` (the paper's protocol: Auto-ReID = the best of all searched runs by mAP,
Baseline = the best "Baseline" run), `best_rank1` (the same by rank-1), `best_map_reid`
(Auto-ReID = the best run searched in the part-aware ReID search space, so it never is a Baseline
run), `paper` (the runs the paper used: Baseline + ReID Search Space run 3 and Baseline run 1).
Under `best_map` a Baseline run can win both; `select` then says so, and Tables 3-6 compare a
network with itself. The choice is written to `selection.yaml`, and each chosen genotype is copied
to `<name>.yaml` for the later stages.
"""
from __future__ import annotations

from pathlib import Path

from autoreid.errors import UserError
from autoreid.experiments import SEARCH_BENCHMARK, Paths, parse_searched, searched_rows
from autoreid.io import read_json, write_yaml
from autoreid.space import genotypes

RULES = ("published", "best_map", "best_rank1", "best_map_reid", "paper")
PAPER = {"AutoReID": "baseline_reid-run3", "Baseline": "baseline-run1"}
RELEASED = {"AutoReID": "BASELINE_REID_SEARCH_SPACE", "Baseline": "BASELINE"}
HOW = {  # how each rule chose, for the tables' notes
    "published": "the cells the paper released; no search behind Tables 3-6",
    "best_map": "the best searched Table 1 run by mAP, and the best Baseline run",
    "best_rank1": "the best searched Table 1 run by rank-1, and the best Baseline run",
    "best_map_reid": "the best Table 1 run searched in the ReID space, and the best Baseline run",
    "paper": "the runs the paper used: Baseline + ReID Search Space run 3, Baseline run 1",
}


def note(selection: dict) -> str:
    """One line for a table's notes: which cells are Auto-ReID and Baseline, and how chosen."""
    cells = {name: selection[name].get("cell", selection[name]["arch"]) for name in RELEASED}
    if selection["rule"] == "published":
        cells = {name: f"the released {cell} cell" for name, cell in cells.items()}
    return (f"Auto-ReID = {cells['AutoReID']}, Baseline = {cells['Baseline']} "
            f"(selection rule `{selection['rule']}`: {HOW.get(selection['rule'], 'see select.py')})")


def choose(candidates: dict[str, dict], rule: str, reid: set[str] = frozenset()) -> dict[str, str]:
    """candidates: searched arch -> metrics; reid: the variants searched in the ReID space.
    Returns {"AutoReID": arch, "Baseline": arch}."""
    if rule not in RULES:
        raise UserError(f"select: unknown rule {rule!r} (known: {', '.join(RULES)})")
    if rule == "paper":
        missing = [a for a in PAPER.values() if a not in candidates]
        if missing:
            raise UserError(f"select: rule 'paper' needs run(s) {', '.join(missing)} in Table 1")
        return dict(PAPER)
    key = "rank1" if rule == "best_rank1" else "mAP"
    baseline = {a: m for a, m in candidates.items() if parse_searched(a)[0] == "baseline"}
    if not baseline:
        raise UserError("select: no 'baseline' search among Table 1's variants")

    def best(pool: dict) -> str:
        return max(pool, key=lambda a: (pool[a][key], pool[a]["mAP"], -list(pool).index(a)))

    pool = candidates
    if rule == "best_map_reid":
        pool = {a: m for a, m in candidates.items() if parse_searched(a)[0] in reid}
        if not pool:
            raise UserError("select: rule 'best_map_reid' found no run searched in the ReID space")
    return {"AutoReID": best(pool), "Baseline": best(baseline)}


def _mean_metrics(folders: list[str]) -> dict:
    """mAP and rank-1 of a searched run: the mean over its training seeds."""
    runs = [read_json(f"{folder}/metrics.json") for folder in folders]
    return {k: sum(m[k] for m in runs) / len(runs) for k in ("mAP", "rank1")}


def select(params: dict, out_dir: str | Path) -> dict:
    """Select's one entry: the cells chosen by `select.rule` -> `out_dir`/<name>.yaml (and .png)
    and `out_dir`/selection.yaml; returns the selection."""
    paths, out_dir = Paths(params["results"]), Path(out_dir)
    rule = params["select"]["rule"]
    if rule == "published":  # nothing to read: the released cells, trained under their names
        chosen = {name: (name, genotypes.PUBLISHED[cell], cell, {}) for name, cell in RELEASED.items()}
    else:
        setting = params["table1"]["setting"]
        candidates = {r.arch: _mean_metrics(paths.evaluations(params, SEARCH_BENCHMARK, setting, r.arch))
                      for r in searched_rows(params)}
        reid = {v for v, spec in params["search_variants"].items() if spec["space"] == "reid"}
        picked = choose(candidates, rule, reid)
        if picked["AutoReID"] == picked["Baseline"]:
            print(f"select: rule {rule!r} chose {picked['AutoReID']} as both Auto-ReID and Baseline "
                  "(Tables 3-6 will compare it with itself; rule best_map_reid avoids this)")
        chosen = {}
        for name, arch in picked.items():
            source = paths.genotype(SEARCH_BENCHMARK, *parse_searched(arch))
            m = candidates[arch]
            chosen[name] = (arch, genotypes.load(source), source,
                            {"mAP": m["mAP"], "rank1": m["rank1"]})
    record = {"rule": rule}
    for name, (arch, g, source, metrics) in chosen.items():
        meta = {**g.meta, "selected_as": name, "selected_from": source, "rule": rule}
        chosen_genotype = genotypes.Genotype(g.normal, g.reduce, g.normal_concat, g.reduce_concat,
                                             meta)
        genotypes.save(chosen_genotype, out_dir / f"{name}.yaml")
        from autoreid.space.draw import draw_genotype

        draw_genotype(chosen_genotype, out_dir / f"{name}.png", f"{name} = {source} (rule {rule})")
        record[name] = {"arch": arch, "cell": source if rule == "published" else arch,
                        "genotype": source, **metrics}
    write_yaml(out_dir / "selection.yaml", record)
    return record
