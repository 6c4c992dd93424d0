# Selection of "Auto-ReID" and "Baseline", and the paper's tables from their metrics.


rule table1:
    input:
        metrics=[P.evaluate(SEARCH_BENCHMARK, config["table1"]["setting"], r.arch) + "/metrics.json"
                 for r in TABLE1_ROWS],
        profiles=[P.profile(r.arch) for r in TABLE1_ROWS],
        pixels=P.pixels(SEARCH_BENCHMARK) + "/metrics.json",
        cells=[P.derive(SEARCH_BENCHMARK, *parse_searched(r.arch)) + "/cells.png"
               for r in TABLE1_ROWS if parse_searched(r.arch)],
    output:
        [P.table(1, ext) for ext in ("md", "tex", "csv")],
    log:
        log_path("tables", "table1"),
    shell:
        "autoreid tables --params {PARAMS} --table 1 > {log} 2>&1"


rule select:
    input:
        [P.evaluate(SEARCH_BENCHMARK, config["table1"]["setting"], r.arch) + "/metrics.json"
         for r in TABLE1_ROWS if parse_searched(r.arch)],
    output:
        [P.selected(name) for name in SELECTED],
        selection=P.selection(),
    params:
        rule=config["select"]["rule"],
    log:
        log_path("select", "select"),
    shell:
        "autoreid select --params {PARAMS} > {log} 2>&1"


rule transfer_table:
    input:
        lambda w: transfer.inputs(config, int(w.number)),
        selection=P.selection(),
    output:
        [P.table("{number}", ext) for ext in ("md", "tex", "csv")],
    wildcard_constraints:
        number="5|6",
    log:
        log_path("tables", "table{number}"),
    shell:
        "autoreid tables --params {PARAMS} --table {wildcards.number} > {log} 2>&1"
