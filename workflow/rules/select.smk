# Selection of "Auto-ReID" and "Baseline" from the Table 1 searches (or the released cells).


def select_keys():
    """The keys `autoreid select` reads: its rule and, unless it takes the released cells, the
    Table 1 runs it chooses from and each variant's search space."""
    if config["select"]["rule"] == "published":
        return ["select.rule"]
    variants = config["table1"]["variants"]
    return ["select.rule", "table1.setting", "table1.runs", "table1.variants", "search.space",
            "seeds.count"] + [
        f"search_variants.{v}.space" for v in variants if "space" in config["search_variants"][v]]


rule select:
    input:  # rule `published` reads nothing: the released cells need no search
        [] if config["select"]["rule"] == "published" else
        [folder + "/metrics.json" for r in searched_rows(config)
         for folder in P.evaluations(config, SEARCH_BENCHMARK, config["table1"]["setting"], r.arch)],
    output:
        [P.selected(name) for name in SELECTED],
        [report(P.selected(name).replace(".yaml", ".png"), caption="../report/cells.rst",
                category="Selected cells", labels={"cells": name}) for name in SELECTED],
        selection=P.selection(),
    params:
        param_keys=select_keys(),
        values=values(select_keys()),
    resources:
        **size("select"),
    log:
        log_path("select", "select"),
    shell:
        "autoreid select --params {PARAMS} > {log} 2>&1"
