# Train each network, extract query/gallery features, score them; profile the architectures.


def genotype_of(arch):
    """{"genotype": file} for a selected or searched cell; {} for a published name or a ResNet."""
    if arch in SELECTED:
        return {"genotype": P.selected(arch)}
    searched = parse_searched(arch)
    return {"genotype": P.genotype(SEARCH_BENCHMARK, *searched)} if searched else {}


def genotype_input(w):
    return genotype_of(w.arch)


def arch_arg(w, input):
    return input.genotype if "genotype" in input.keys() else w.arch


def init_input(w):
    if setting_config(config, w.setting)["init"] == "imagenet":
        return {"init": P.pretrain(w.setting, w.arch) + "/weights.pt"}
    return {}


def pretrain_keys(w):
    """What pretrain reads besides its own section: the network's width and depth (train's C and
    layers, or the setting's)."""
    setting = config["train_settings"][w.setting]
    return ["amp", "pretrain", "train.C", "train.layers"] + [
        f"train_settings.{w.setting}.{k}" for k in ("C", "layers") if k in setting]


def imagenet_input(w):
    return P.raw("imagenet") if config["datasets"]["imagenet"]["synthetic"] else []


rule pretrain:
    input:
        unpack(genotype_input),
        imagenet_input,
    output:
        weights=P.pretrain("{setting}", "{arch}") + "/weights.pt",
        log=P.pretrain("{setting}", "{arch}") + "/log.csv",
        live=P.pretrain("{setting}", "{arch}") + "/live/metrics.json",
    params:
        arch=arch_arg,
        out=lambda w, output: os.path.dirname(output.weights),
        data=config["datasets"]["imagenet"]["raw"],
        param_keys=pretrain_keys,
        values=lambda w: values(pretrain_keys(w)),
    threads: THREADS
    resources:
        gpu=GPU * PRETRAIN_PROCESSES,
        **size("pretrain"),
    log:
        log_path("pretrain", "{setting}", "{arch}"),
    benchmark:
        benchmark_path("pretrain", "{setting}", "{arch}")
    shell:
        PRETRAIN + " --data {params.data} --arch {params.arch} --name {wildcards.arch} "
        "--setting {wildcards.setting} --params {PARAMS} --out-dir {params.out} " + RUNTIME +
        " > {log} 2>&1"


rule train:
    input:
        unpack(genotype_input),
        unpack(store_input),
        unpack(init_input),
        manifest=P.manifest("{benchmark}"),
    output:
        model=P.train("{benchmark}", "{setting}", "{arch}") + "/model.pt",
        log=P.train("{benchmark}", "{setting}", "{arch}") + "/log.csv",
        summary=P.train("{benchmark}", "{setting}", "{arch}") + "/summary.json",
        live=P.train("{benchmark}", "{setting}", "{arch}") + "/live/metrics.json",
    params:
        arch=arch_arg,
        out=lambda w, output: os.path.dirname(output.model),
        store=store_arg,
        init=lambda w, input: f"--init {input.init}" if "init" in input.keys() else "",
        param_keys=lambda w: ["amp", "train", f"train_settings.{w.setting}", "evaluate.feature"],
        values=lambda w: values(["amp", "train", f"train_settings.{w.setting}", "evaluate.feature"]),
    threads: THREADS
    resources:
        gpu=GPU,
        **size("train"),
    log:
        log_path("train", "{benchmark}", "{setting}", "{arch}"),
    benchmark:
        benchmark_path("train", "{benchmark}", "{setting}", "{arch}")
    shell:
        PLACE + "autoreid train --manifest {input.manifest} --arch {params.arch} --name {wildcards.arch} "
        "--out-dir {params.out} --params {PARAMS} --setting {wildcards.setting} {params.store} "
        "{params.init} " +
        RUNTIME + " > {log} 2>&1"


rule extract:
    input:
        unpack(store_input),
        model=P.train("{benchmark}", "{setting}", "{arch}") + "/model.pt",
        manifest=P.manifest("{benchmark}"),
    output:
        P.extract("{benchmark}", "{setting}", "{arch}") + "/features.h5",
    params:
        store=store_arg,
        param_keys=["amp", "evaluate.feature", "evaluate.batch_size"],
        values=values(["amp", "evaluate.feature", "evaluate.batch_size"]),
    threads: THREADS
    resources:
        gpu=GPU,
        **size("extract"),
    log:
        log_path("extract", "{benchmark}", "{setting}", "{arch}"),
    benchmark:
        benchmark_path("extract", "{benchmark}", "{setting}", "{arch}")
    shell:
        PLACE + "autoreid extract --manifest {input.manifest} --checkpoint {input.model} --out {output} "
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
    resources:
        **size("extract_pixels"),
    log:
        log_path("extract", "{benchmark}", "pixels"),
    benchmark:
        benchmark_path("extract", "{benchmark}", "pixels")
    shell:
        "autoreid extract --manifest {input.manifest} --pixels {params.size} {params.store} "
        "--params {PARAMS} --out {output} > {log} 2>&1"


# evaluate scores the features of extract/<path> into evaluate/<path>: <path> is
# <benchmark>/<setting>/<arch> (Paths.extract, Paths.evaluate) or <benchmark>/pixels (Paths.pixels).
rule evaluate:
    input:
        R + "/extract/{path}/features.h5",
    output:
        metrics=R + "/evaluate/{path}/metrics.json",
        details=R + "/evaluate/{path}/metrics.details.json",
    params:
        param_keys=["evaluate.metric"],
        values=values(["evaluate.metric"]),
    resources:
        **size("evaluate"),
    log:
        R + "/evaluate/{path}/evaluate.log",
    benchmark:
        R + "/benchmarks/evaluate/{path}.tsv"
    shell:
        "autoreid evaluate --features {input} --out {output.metrics} --params {PARAMS} > {log} 2>&1"


rule evaluate_rerank:
    input:
        R + "/extract/{path}/features.h5",
    output:
        metrics=R + "/evaluate/{path}/metrics_rerank.json",
        details=R + "/evaluate/{path}/metrics_rerank.details.json",
    params:
        param_keys=["evaluate.metric", "rerank"],
        values=values(["evaluate.metric", "rerank"]),
    resources:
        **size("evaluate_rerank"),
    log:
        R + "/evaluate/{path}/evaluate_rerank.log",
    benchmark:
        R + "/benchmarks/evaluate_rerank/{path}.tsv"
    shell:
        "autoreid evaluate --features {input} --out {output.metrics} --params {PARAMS} --rerank "
        "> {log} 2>&1"


def profile_command(head, names):
    """One `autoreid profile` for every architecture of `head`: genotype files for searched and
    selected cells, names for published ones."""
    archs = [genotype_of(a).get("genotype", a) for a in names]
    return (f"autoreid profile --arch {' '.join(archs)} --name {' '.join(names)} --head {head} "
            f"--params {PARAMS} --out-dir {R}/profile")


# The sizes the tables print, in two jobs: the searched runs' (after their searches) and the rest
# (ResNets, published and selected cells: Tables 3-6 on the released cells need no search).
for job, searched in (("profile", False), ("profile_searched", True)):
    group = {head: [a for a in names if bool(parse_searched(a)) == searched]
             for head, names in tables.profiles(config).items()}
    group = {head: names for head, names in group.items() if names}
    if not group:
        continue

    rule:
        name:
            job
        input:
            [f for names in group.values() for a in names for f in genotype_of(a).values()],
        output:
            [P.profile(a, head) for head, names in group.items() for a in names],
        params:
            command=" && ".join(profile_command(h, n) for h, n in group.items()),
            param_keys=["profile"],
            values=values(["profile"]),
        resources:
            **size("profile"),
        log:
            log_path("profile", job),
        shell:  # Snakemake reads a shell string when the job runs: this loop's values go by params
            "({params.command}) > {log} 2>&1"
