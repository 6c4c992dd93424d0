# Search (Alg. 1) on the search split, then derive the genotype (DARTS rule) and draw it.


rule search:
    input:
        unpack(store_input),
        split=P.split("{benchmark}"),
    output:
        alphas=P.search("{benchmark}", "{variant}", "{run}") + "/alphas.json",
        history=P.search("{benchmark}", "{variant}", "{run}") + "/alpha_history.json",
        log=P.search("{benchmark}", "{variant}", "{run}") + "/log.csv",
        live=P.search("{benchmark}", "{variant}", "{run}") + "/live/metrics.json",
    params:
        out=lambda w, output: os.path.dirname(output.alphas),
        store=store_arg,
        param_keys=lambda w: ["amp", "search", f"search_variants.{w.variant}"],
        values=lambda w: values(["amp", "search", f"search_variants.{w.variant}"]),
    threads: THREADS
    resources:
        gpu=GPU,
        **size("search"),
    log:
        log_path("search", "{benchmark}", "{variant}", "run{run}"),
    benchmark:
        benchmark_path("search", "{benchmark}", "{variant}", "run{run}")
    shell:
        PLACE + "autoreid search --split {input.split} --out-dir {params.out} --params {PARAMS} "
        "--variant {wildcards.variant} --run {wildcards.run} {params.store} " + RUNTIME +
        " > {log} 2>&1"


rule derive:
    input:
        P.search("{benchmark}", "{variant}", "{run}") + "/alphas.json",
    output:
        genotype=P.genotype("{benchmark}", "{variant}", "{run}"),
        figure=P.derive("{benchmark}", "{variant}", "{run}") + "/cells.png",
    resources:
        **size("derive"),
    log:
        log_path("derive", "{benchmark}", "{variant}", "run{run}"),
    shell:
        "autoreid derive --alphas {input} --out {output.genotype} --figure {output.figure} "
        "--title '{wildcards.variant} run {wildcards.run}' > {log} 2>&1"
