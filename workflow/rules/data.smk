# Data: synthetic benchmark (embedded profile) -> manifest -> search split.


def raw_input(w):
    bench = config["benchmarks"][w.benchmark]
    return P.synth_marker(w.benchmark) if bench["synthetic"] else []


rule synth:
    output:
        P.synth_marker("{benchmark}"),
    params:
        out=lambda w: P.raw(w.benchmark),
        cfg=lambda w: config["synth"][w.benchmark],
    log:
        log_path("synth", "{benchmark}"),
    shell:
        "autoreid data synth --benchmark {wildcards.benchmark} --params {PARAMS} "
        "--out {params.out} > {log} 2>&1"


rule prepare:
    input:
        raw_input,
    output:
        P.manifest("{benchmark}"),
    params:
        raw=lambda w: config["benchmarks"][w.benchmark]["raw"],
        out=lambda w, output: os.path.dirname(output[0]),
    log:
        log_path("prepare", "{benchmark}"),
    shell:
        "autoreid data prepare --benchmark {wildcards.benchmark} --raw {params.raw} "
        "--out {params.out} > {log} 2>&1"


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
