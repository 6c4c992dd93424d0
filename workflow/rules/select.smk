# Selection of "Auto-ReID" and "Baseline" from the Table 1 searches (or the released cells).


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
        out=lambda w, output: os.path.dirname(output.selection),
        **rerun_on("select"),
    resources:
        **size("select"),
    log:
        log_path("select", "select"),
    shell:
        "autoreid select --params {PARAMS} --out-dir {params.out} > {log} 2>&1"
