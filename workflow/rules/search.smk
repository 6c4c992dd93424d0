# Search (Alg. 1) on the search split, then derive the genotype (DARTS rule) and draw it; random
# cells (what a search has to beat) are drawn where a derived genotype goes.


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
        **rerun_on("search"),
    threads: THREADS
    resources:
        gpu=GPU,
        **size("search"),
    log:
        log_path("search", "{benchmark}", "{variant}", "run{run}"),
    benchmark:
        timing_path("search", "{benchmark}", "{variant}", "run{run}")
    shell:
        PLACE + "autoreid search --split {input.split} --out-dir {params.out} --params {PARAMS} "
        "--variant {wildcards.variant} --run {wildcards.run} {params.store} " + RUNTIME +
        " > {log} 2>&1"


rule derive:
    wildcard_constraints:
        variant=f"(?!{RANDOM})[A-Za-z0-9_]+",
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


rule random:
    output:
        genotype=P.genotype("{benchmark}", RANDOM + "{space}", "{run}"),
        figure=P.derive("{benchmark}", RANDOM + "{space}", "{run}") + "/cells.png",
    wildcard_constraints:
        space="standard|reid",
    params:
        **rerun_on("random"),
    resources:
        **size("random"),
    log:
        log_path("random", "{benchmark}", "{space}", "run{run}"),
    shell:
        "autoreid random --space {wildcards.space} --run {wildcards.run} --params {PARAMS} "
        "--out {output.genotype} --figure {output.figure} "
        "--title 'random {wildcards.space} cell {wildcards.run}' > {log} 2>&1"
