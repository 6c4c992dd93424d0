# Train each network, extract query/gallery features, score them; profile each architecture.


def genotype_input(w):
    if w.arch in SELECTED:
        return {"genotype": P.selected(w.arch)}
    searched = parse_searched(w.arch)
    return {"genotype": P.genotype(SEARCH_BENCHMARK, *searched)} if searched else {}


def arch_arg(w, input):
    return input.genotype if "genotype" in input.keys() else w.arch


rule train:
    input:
        unpack(genotype_input),
        unpack(store_input),
        manifest=P.manifest("{benchmark}"),
    output:
        model=P.train("{benchmark}", "{setting}", "{arch}") + "/model.pt",
        log=P.train("{benchmark}", "{setting}", "{arch}") + "/log.csv",
    params:
        arch=arch_arg,
        out=lambda w, output: os.path.dirname(output.model),
        store=store_arg,
        cfg=lambda w: {**config["train"], **config["train_settings"][w.setting]},
    threads: THREADS
    resources:
        gpu=GPU,
    log:
        log_path("train", "{benchmark}", "{setting}", "{arch}"),
    shell:
        "autoreid train --manifest {input.manifest} --arch {params.arch} --name {wildcards.arch} "
        "--out {params.out} --params {PARAMS} --setting {wildcards.setting} {params.store} " +
        RUNTIME + " > {log} 2>&1"


rule extract:
    input:
        unpack(store_input),
        model=P.train("{benchmark}", "{setting}", "{arch}") + "/model.pt",
        manifest=P.manifest("{benchmark}"),
    output:
        P.evaluate("{benchmark}", "{setting}", "{arch}") + "/features.h5",
    params:
        store=store_arg,
        cfg=config["evaluate"],
    threads: THREADS
    resources:
        gpu=GPU,
    log:
        log_path("extract", "{benchmark}", "{setting}", "{arch}"),
    shell:
        "autoreid extract --manifest {input.manifest} --checkpoint {input.model} --out {output} "
        "--params {PARAMS} {params.store} " + RUNTIME + " > {log} 2>&1"


rule extract_pixels:
    input:
        unpack(store_input),
        manifest=P.manifest("{benchmark}"),
    output:
        P.pixels("{benchmark}") + "/features.h5",
    params:
        size=f"--height {config['train']['height']} --width {config['train']['width']}",
        store=store_arg,
    log:
        log_path("extract", "{benchmark}", "pixels"),
    shell:
        "autoreid extract --manifest {input.manifest} --pixels {params.size} {params.store} "
        "--out {output} > {log} 2>&1"


rule evaluate:
    input:
        "{path}/features.h5",
    output:
        "{path}/metrics.json",
    params:
        cfg=config["evaluate"]["metric"],
    log:
        "{path}/evaluate.log",
    shell:
        "autoreid evaluate --features {input} --out {output} --params {PARAMS} > {log} 2>&1"


rule profile:
    input:
        unpack(genotype_input),
    output:
        P.profile("{arch}"),
    params:
        arch=arch_arg,
        cfg=config["profiling"],
    log:
        log_path("profile", "{arch}"),
    shell:
        "autoreid profile --arch {params.arch} --name {wildcards.arch} --params {PARAMS} "
        "--out {output} > {log} 2>&1"
