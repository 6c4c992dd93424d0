# Data: synthetic datasets (embedded profile) -> manifest per benchmark -> image store, search split.


def raw_input(w):
    dataset = BENCHMARKS[w.benchmark] if "benchmark" in w.keys() else "cuhk03"
    return P.raw(dataset) if config["datasets"][dataset]["synthetic"] else []


def store_input(w):
    return {"store": P.store(w.benchmark)} if STORE != "none" else {}


def store_arg(w, input):
    return f"--store {input.store}" if "store" in input.keys() else ""


rule synth:
    output:
        directory(P.raw("{dataset}")),
    params:
        **rerun_on("synth"),
    resources:
        **size("synth"),
    log:
        log_path("synth", "{dataset}"),
    shell:
        "autoreid data synth --dataset {wildcards.dataset} --params {PARAMS} --out-dir {output} "
        "> {log} 2>&1"


rule prepare:
    input:
        raw_input,
    output:
        P.manifest("{benchmark}"),
    wildcard_constraints:
        benchmark="market1501|msmt17",
    params:
        raw=lambda w: config["datasets"][BENCHMARKS[w.benchmark]]["raw"],
        out=lambda w, output: os.path.dirname(output[0]),
        **rerun_on("prepare"),
    resources:
        **size("prepare"),
    log:
        log_path("prepare", "{benchmark}"),
    shell:
        "autoreid data prepare --benchmark {wildcards.benchmark} --raw {params.raw} "
        "--out-dir {params.out} --params {PARAMS} > {log} 2>&1"


rule prepare_cuhk03:
    input:
        raw_input,
    output:
        manifest=P.manifest("cuhk03-{kind}"),
        images=directory(P.cuhk03_images("{kind}")),
    wildcard_constraints:
        kind="labeled|detected",
    params:
        raw=config["datasets"]["cuhk03"]["raw"],
        out=lambda w, output: os.path.dirname(output.manifest),
        **rerun_on("prepare_cuhk03"),
    resources:
        **size("prepare_cuhk03"),
    log:
        log_path("prepare", "cuhk03-{kind}"),
    shell:
        "autoreid data prepare --benchmark cuhk03-{wildcards.kind} --raw {params.raw} "
        "--out-dir {params.out} --params {PARAMS} > {log} 2>&1"


rule pack:
    input:
        P.manifest("{benchmark}"),
    output:
        P.store("{benchmark}"),
    params:
        **rerun_on("pack"),
    resources:
        **size("pack"),
    log:
        log_path("pack", "{benchmark}"),
    shell:
        "autoreid data pack --manifest {input} --out {output} --params {PARAMS} > {log} 2>&1"


rule split:
    input:
        P.manifest("{benchmark}"),
    output:
        P.split("{benchmark}"),
    params:
        **rerun_on("split"),
    resources:
        **size("split"),
    log:
        log_path("split", "{benchmark}"),
    shell:
        "autoreid data split --manifest {input} --out {output} --params {PARAMS} > {log} 2>&1"
