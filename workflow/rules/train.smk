# Train each network, evaluate it (its query/gallery features and their scores); count the
# architectures' parameters and multiply-adds (complexity).


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
        **rerun_on("pretrain"),
    threads: THREADS
    resources:
        **pretrain_resources(),
        **size("pretrain"),
    log:
        log_path("pretrain", "{setting}", "{arch}"),
    benchmark:
        timing_path("pretrain", "{setting}", "{arch}")
    shell:
        PRETRAIN + " --raw {params.data} --arch {params.arch} --name {wildcards.arch} "
        "--setting {wildcards.setting} --params {PARAMS} --out-dir {params.out} " + RUNTIME +
        " > {log} 2>&1"


rule train:
    input:
        unpack(genotype_input),
        unpack(store_input),
        unpack(init_input),
        manifest=P.manifest("{benchmark}"),
    output:
        model=P.train("{benchmark}", "{setting}", "{arch}", "{seed}") + "/model.pt",
        log=P.train("{benchmark}", "{setting}", "{arch}", "{seed}") + "/log.csv",
        summary=P.train("{benchmark}", "{setting}", "{arch}", "{seed}") + "/summary.json",
        live=P.train("{benchmark}", "{setting}", "{arch}", "{seed}") + "/live/metrics.json",
    params:
        arch=arch_arg,
        out=lambda w, output: os.path.dirname(output.model),
        store=store_arg,
        init=lambda w, input: f"--weights {input.init}" if "init" in input.keys() else "",
        **rerun_on("train"),
    threads: THREADS
    resources:
        gpu=GPU,
        **size("train"),
    log:
        log_path("train", "{benchmark}", "{setting}", "{arch}", "seed{seed}"),
    benchmark:
        timing_path("train", "{benchmark}", "{setting}", "{arch}", "seed{seed}")
    shell:
        PLACE + "autoreid train --manifest {input.manifest} --arch {params.arch} --name {wildcards.arch} "
        "--out-dir {params.out} --params {PARAMS} --setting {wildcards.setting} "
        "--seed {wildcards.seed} {params.store} {params.init} " +
        RUNTIME + " > {log} 2>&1"


# evaluate: a trained network's query and gallery features and their scores in one job, at
# evaluate/<benchmark>/<setting>/<arch>/seed<k>/ (features.h5, metrics.json); where a table reads
# re-ranked scores too (metrics_rerank.json), rule evaluate_rerank writes all of them in that job.
# The raw-pixel baseline's are at evaluate/<benchmark>/pixels/.
RERANKED = sorted({os.path.dirname(f)[len(R + "/evaluate/"):] for n in TABLES
                   for f in tables.inputs(config, n) if f.endswith("/metrics_rerank.json")})


def evaluate_input(w):
    benchmark, setting, arch, seed = w.path.split("/")
    store = {"store": P.store(benchmark)} if STORE != "none" else {}
    return {**store, "model": P.train(benchmark, setting, arch, seed.removeprefix("seed")) + "/model.pt",
            "manifest": P.manifest(benchmark)}


# the job also writes the model card beside model.pt again, with the metrics (autoreid.use.card)
EVALUATE = (PLACE + "autoreid evaluate --checkpoint {input.model} --manifest {input.manifest} "
            "--out-dir {params.out} --card --params {PARAMS} {params.store} " + RUNTIME)
EVALUATED = {**{name: R + "/evaluate/{path}/" + file for name, file in (
    ("features", "features.h5"), ("metrics", "metrics.json"), ("details", "metrics.details.json"))},
    "card": R + "/train/{path}/model.yaml"}


rule evaluate:
    input:
        unpack(evaluate_input),
    output:
        **EVALUATED,
    wildcard_constraints:
        path="[a-z0-9-]+/[A-Za-z0-9_]+/[A-Za-z0-9_]+(-run[0-9]+)?/seed[0-9]+",
    params:
        out=lambda w, output: os.path.dirname(output.metrics),
        store=store_arg,
        rerank="",
        **rerun_on("evaluate"),
    threads: THREADS
    resources:
        gpu=GPU,
        **size("evaluate"),
    log:
        log_path("evaluate", "{path}"),
    benchmark:
        timing_path("evaluate", "{path}")
    shell:
        EVALUATE + "{params.rerank} > {log} 2>&1"


use rule evaluate as evaluate_rerank with:
    output:
        **EVALUATED,
        rerank=R + "/evaluate/{path}/metrics_rerank.json",
        rerank_details=R + "/evaluate/{path}/metrics_rerank.details.json",
    wildcard_constraints:
        path="|".join(RERANKED) or "(?!)",
    params:
        rerank=" --rerank",
        **rerun_on("evaluate_rerank"),
    resources:
        gpu=GPU,
        **size("evaluate_rerank"),


ruleorder: evaluate_rerank > evaluate


rule evaluate_pixels:
    input:
        unpack(store_input),
        manifest=P.manifest("{benchmark}"),
    output:
        features=P.pixels("{benchmark}") + "/features.h5",
        metrics=P.pixels("{benchmark}") + "/metrics.json",
        details=P.pixels("{benchmark}") + "/metrics.details.json",
    params:
        out=lambda w, output: os.path.dirname(output.metrics),
        store=store_arg,
        **rerun_on("evaluate_pixels"),
    resources:
        **size("evaluate_pixels"),
    log:
        log_path("evaluate", "{benchmark}", "pixels"),
    benchmark:
        timing_path("evaluate", "{benchmark}", "pixels")
    shell:
        "autoreid evaluate --pixels --manifest {input.manifest} {params.store} "
        "--params {PARAMS} --out-dir {params.out} > {log} 2>&1"


def complexity_command(head, names):
    """One `autoreid complexity` for every architecture of `head`: genotype files for searched and
    selected cells, names for published ones."""
    archs = [genotype_of(a).get("genotype", a) for a in names]
    return (f"autoreid complexity --arch {' '.join(archs)} --name {' '.join(names)} --head {head} "
            f"--params {PARAMS} --out-dir {R}/complexity")


# The sizes the tables print, in two jobs: the searched runs' (after their searches) and the rest
# (ResNets, published and selected cells: Tables 3-6 on the released cells need no search).
for job, searched in (("complexity", False), ("complexity_searched", True)):
    group = {head: [a for a in names if bool(parse_searched(a)) == searched]
             for head, names in tables.complexities(config).items()}
    group = {head: names for head, names in group.items() if names}
    if not group:
        continue

    rule:
        name:
            job
        input:
            [f for names in group.values() for a in names for f in genotype_of(a).values()],
        output:
            [P.complexity(a, head) for head, names in group.items() for a in names],
        params:
            command=" && ".join(complexity_command(h, n) for h, n in group.items()),
            **rerun_on(job),
        resources:
            **size("complexity"),
        log:
            log_path("complexity", job),
        shell:  # Snakemake reads a shell string when the job runs: this loop's values go by params
            "({params.command}) > {log} 2>&1"
