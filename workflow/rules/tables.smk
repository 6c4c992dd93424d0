# The paper's tables from the metrics, and its figures (training curves, ranked lists).


rule table:
    input:
        lambda w: tables.inputs(config, int(w.number)),
        cells=lambda w: [P.derive(SEARCH_BENCHMARK, *parse_searched(r.arch)) + "/cells.png"
                         for r in TABLE1_ROWS if parse_searched(r.arch) and w.number == "1"],
    output:
        [P.table("{number}", ext) for ext in ("md", "tex", "json")],
        report(P.table("{number}", "csv"), caption="../report/table.rst", category="Tables",
               labels={"table": "Table {number}"}),
    params:
        param_keys=lambda w: [f"table{w.number}", "bootstrap", "seeds"],
        values=lambda w: values([f"table{w.number}", "bootstrap", "seeds"]),
    resources:
        **size("table"),
    log:
        log_path("tables", "table{number}"),
    shell:
        "autoreid tables --params {PARAMS} --table {wildcards.number} > {log} 2>&1"


rule figures_curves:
    input:
        [P.train(SEARCH_BENCHMARK, config["table3"]["setting"], a, 0) + "/log.csv" for a in SELECTED],
    output:
        report(P.figure("curves.png"), caption="../report/curves.rst", category="Figures",
               labels={"figure": "training curves"}),
    params:
        labels=" ".join(SELECTED),
    resources:
        **size("figures_curves"),
    log:
        log_path("figures", "curves"),
    shell:
        "autoreid figures curves --logs {input} --labels {params.labels} --out {output} > {log} 2>&1"


rule figures_ranked:
    input:
        P.evaluate(SEARCH_BENCHMARK, config["table3"]["setting"], "AutoReID", 0) + "/features.h5",
    output:
        report(P.figure("ranked.png"), caption="../report/ranked.rst", category="Figures",
               labels={"figure": "ranked lists"}),
    params:
        param_keys=["figures"],
        values=values(["figures"]),
    resources:
        **size("figures_ranked"),
    log:
        log_path("figures", "ranked"),
    shell:
        "autoreid figures ranked --features {input} --params {PARAMS} --out {output} > {log} 2>&1"
