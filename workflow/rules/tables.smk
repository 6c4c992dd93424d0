# The paper's tables, the claims table and the beyond-the-paper table from the metrics, and the
# figures (training curves, ranked lists).


rule table:
    input:
        lambda w: tables.inputs(config, w.number),
        cells=lambda w: [P.derive(SEARCH_BENCHMARK, *parse_searched(r.arch)) + "/cells.png"
                         for r in TABLE1_ROWS if parse_searched(r.arch) and w.number == "1"],
    output:
        [P.table("{number}", ext) for ext in ("md", "tex", "json")],
        report(P.table("{number}", "csv"), caption="../report/table.rst", category="Tables",
               labels={"table": "Table {number}"}),
    params:
        out=lambda w, output: os.path.dirname(output[0]),
        **rerun_on("table"),
    resources:
        **size("table"),
    log:
        log_path("tables", "table{number}"),
    shell:
        "autoreid tables --params {PARAMS} --table {wildcards.number} --out-dir {params.out} "
        "> {log} 2>&1"


rule claims:  # each of the paper's claims: its effect here, 95% interval and verdict
    input:
        tables.inputs(config, "claims"),
    output:
        [P.table("claims", ext) for ext in ("md", "tex", "json")],
        report(P.table("claims", "csv"), caption="../report/claims.rst", category="Tables",
               labels={"table": "Claims"}),
    params:
        out=lambda w, output: os.path.dirname(output[0]),
        **rerun_on("claims"),
    resources:
        **size("claims"),
    log:
        log_path("tables", "claims"),
    shell:
        "autoreid tables --params {PARAMS} --table claims --out-dir {params.out} > {log} 2>&1"


rule beyond:  # a modern recipe and robust searches against the paper's: effects, intervals, verdicts
    input:
        tables.inputs(config, "beyond"),
    output:
        [P.table("beyond", ext) for ext in ("md", "tex", "json")],
        report(P.table("beyond", "csv"), caption="../report/beyond.rst", category="Tables",
               labels={"table": "Beyond the paper"}),
    params:
        out=lambda w, output: os.path.dirname(output[0]),
        **rerun_on("beyond"),
    resources:
        **size("beyond"),
    log:
        log_path("tables", "beyond"),
    shell:
        "autoreid tables --params {PARAMS} --table beyond --out-dir {params.out} > {log} 2>&1"


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
        **rerun_on("figures_ranked"),
    resources:
        **size("figures_ranked"),
    log:
        log_path("figures", "ranked"),
    shell:
        "autoreid figures ranked --features {input} --params {PARAMS} --out {output} > {log} 2>&1"
