# The paper's tables from the metrics and profiles of their rows.


rule table1:
    input:
        metrics=[P.evaluate("market1501", config["table1"]["setting"], r.arch) + "/metrics.json"
                 for r in TABLE1_ROWS],
        profiles=[P.profile(r.arch) for r in TABLE1_ROWS],
        pixels=P.pixels("market1501") + "/metrics.json",
        cells=[P.derive(SEARCH_BENCHMARK, *parse_searched(r.arch)) + "/cells.png"
               for r in TABLE1_ROWS if parse_searched(r.arch)],
    output:
        TABLE_FILES,
    log:
        log_path("tables", "table1"),
    shell:
        "autoreid tables --params {PARAMS} --table 1 > {log} 2>&1"
