# Data: synthetic datasets (embedded profile) -> manifest per benchmark -> image store, search split.


def raw_input(w):
    dataset = BENCHMARKS[w.benchmark]
    return P.synth_marker(dataset) if config["datasets"][dataset]["synthetic"] else []


def store_input(w):
    return {"store": P.store(w.benchmark)} if STORE != "none" else {}


def store_arg(w, input):
    return f"--store {input.store} --workers {config['workers']}" if "store" in input.keys() else ""


rule synth:
    output:
        P.synth_marker("{dataset}"),
    params:
        out=lambda w, output: os.path.dirname(output[0]),
        cfg=lambda w: config["synth"][w.dataset],
    log:
        log_path("synth", "{dataset}"),
    shell:
        "autoreid data synth --dataset {wildcards.dataset} --params {PARAMS} --out {params.out} "
        "> {log} 2>&1"


rule prepare:
    input:
        raw_input,
    output:
        P.manifest("{benchmark}"),
    params:
        raw=lambda w: config["datasets"][BENCHMARKS[w.benchmark]]["raw"],
        out=lambda w, output: os.path.dirname(output[0]),
        extra=lambda w: "--train-only" if w.benchmark == "msmt17" and config["datasets"]["msmt17"]["train_only"] else "",
    log:
        log_path("prepare", "{benchmark}"),
    shell:
        "autoreid data prepare --benchmark {wildcards.benchmark} --raw {params.raw} "
        "--out {params.out} {params.extra} > {log} 2>&1"


rule pack:
    input:
        P.manifest("{benchmark}"),
    output:
        P.store("{benchmark}"),
    params:
        size=f"--height {config['train']['height']} --width {config['train']['width']}",
    log:
        log_path("pack", "{benchmark}"),
    shell:
        "autoreid data pack --manifest {input} --out {output} --format {STORE} {params.size} "
        "> {log} 2>&1"


rule split:
    input:
        P.manifest("{benchmark}"),
    output:
        P.split("{benchmark}"),
    params:
        cfg=config["split"],
    log:
        log_path("split", "{benchmark}"),
    shell:
        "autoreid data split --manifest {input} --out {output} --params {PARAMS} > {log} 2>&1"
