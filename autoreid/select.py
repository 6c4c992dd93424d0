"""Selection (§4.3): which searched architectures are "Auto-ReID" and "Baseline" in Tables 3-6.

Rules: `best_map` (the paper's: Auto-ReID = the best of all searched runs by mAP, Baseline = the
best "Baseline" run), `best_rank1` (the same by rank-1), `best_map_reid` (Auto-ReID = the best run
searched in the part-aware ReID search space, so it never is a Baseline run), `paper` (the runs
the paper used: Baseline + ReID Search Space run 3 and Baseline run 1). Under `best_map` a
Baseline run can win both; `select` then says so, and Tables 3-6 compare a network with itself. The choice is written to
`selection.yaml`, and each chosen genotype is copied to `<name>.yaml` for the later stages.
"""
from __future__ import annotations

from autoreid.errors import UserError
from autoreid.experiments import SEARCH_BENCHMARK, Paths, parse_searched, searched_rows
from autoreid.io import read_json, write_yaml
from autoreid.space import genotypes

RULES = ("best_map", "best_rank1", "best_map_reid", "paper")
PAPER = {"AutoReID": "baseline_reid-run3", "Baseline": "baseline-run1"}


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


def select(params: dict, rule: str | None = None) -> dict:
    paths = Paths(params["results"])
    rule = rule or params["select"]["rule"]
    setting = params["table1"]["setting"]
    candidates = {r.arch: read_json(f"{paths.evaluate(SEARCH_BENCHMARK, setting, r.arch)}/metrics.json")
                  for r in searched_rows(params)}
    reid = {v for v, spec in params["search_variants"].items() if spec["space"] == "reid"}
    chosen = choose(candidates, rule, reid)
    if chosen["AutoReID"] == chosen["Baseline"]:
        print(f"select: rule {rule!r} chose {chosen['AutoReID']} as both Auto-ReID and Baseline "
              "(Tables 3-6 will compare it with itself; rule best_map_reid avoids this)")
    record = {"rule": rule}
    for name, arch in chosen.items():
        variant, run = parse_searched(arch)
        source = paths.genotype(SEARCH_BENCHMARK, variant, run)
        g = genotypes.load(source)
        meta = {**g.meta, "selected_as": name, "selected_from": arch, "rule": rule}
        chosen_genotype = genotypes.Genotype(g.normal, g.reduce, g.normal_concat, g.reduce_concat,
                                             meta)
        genotypes.save(chosen_genotype, paths.selected(name))
        from autoreid.search.draw import draw_genotype

        draw_genotype(chosen_genotype, paths.selected(name).replace(".yaml", ".png"),
                      f"{name} = {arch} (rule {rule})")
        m = candidates[arch]
        record[name] = {"arch": arch, "genotype": source, "mAP": m["mAP"], "rank1": m["rank1"]}
    write_yaml(paths.selection(), record)
    return record

