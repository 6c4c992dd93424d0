# Selection of "Auto-ReID" and "Baseline", and the paper's tables from their metrics.


rule select:
    input:  # rule `published` reads nothing: the released cells need no search
        [] if config["select"]["rule"] == "published" else
        [P.evaluate(SEARCH_BENCHMARK, config["table1"]["setting"], r.arch) + "/metrics.json"
         for r in TABLE1_ROWS if parse_searched(r.arch)],
    output:
        [P.selected(name) for name in SELECTED],
        [P.selected(name).replace(".yaml", ".png") for name in SELECTED],
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


rule table:
    input:
        lambda w: tables.inputs(config, int(w.number)),
        cells=lambda w: [P.derive(SEARCH_BENCHMARK, *parse_searched(r.arch)) + "/cells.png"
                         for r in TABLE1_ROWS if parse_searched(r.arch) and w.number == "1"],
    output:
        [P.table("{number}", ext) for ext in ("md", "tex", "csv")],
    params:
        param_keys=lambda w: [f"table{w.number}"],
        values=lambda w: values([f"table{w.number}"]),
    resources:
        **size("table"),
    log:
        log_path("tables", "table{number}"),
    shell:
        "autoreid tables --params {PARAMS} --table {wildcards.number} > {log} 2>&1"


rule figure_curves:
    input:
        [P.train(SEARCH_BENCHMARK, config["table3"]["setting"], a) + "/log.csv" for a in SELECTED],
    output:
        P.figure("curves.png"),
    params:
        labels=" ".join(SELECTED),
    resources:
        **size("figure_curves"),
    log:
        log_path("figures", "curves"),
    shell:
        "autoreid figure curves --logs {input} --labels {params.labels} --out {output} > {log} 2>&1"


rule figure_ranked:
    input:
        P.extract(SEARCH_BENCHMARK, config["table3"]["setting"], "AutoReID") + "/features.h5",
    output:
        P.figure("ranked.png"),
    resources:
        **size("figure_ranked"),
    log:
        log_path("figures", "ranked"),
    shell:
        "autoreid figure ranked --features {input} --out {output} > {log} 2>&1"
