# Selection of "Auto-ReID" and "Baseline" from the Table 1 searches (or the released cells).


rule select:
    input:  # rule `published` reads nothing: the released cells need no search
        [] if config["select"]["rule"] == "published" else
        [P.evaluate(SEARCH_BENCHMARK, config["table1"]["setting"], r.arch) + "/metrics.json"
         for r in TABLE1_ROWS if parse_searched(r.arch)],
    output:
        [P.selected(name) for name in SELECTED],
        [report(P.selected(name).replace(".yaml", ".png"), caption="../report/cells.rst",
                category="Selected cells", labels={"cells": name}) for name in SELECTED],
        selection=P.selection(),
    params:
        param_keys=["select", "table1"],
        values=values(["select", "table1"]),
    resources:
        **size("select"),
    log:
        log_path("select", "select"),
    shell:
        "autoreid select --params {PARAMS} > {log} 2>&1"
