# Validate the params, fix the params file every job reads, and build target lists.
import os
import sys

from autoreid.config import load_params
from autoreid.devices import plan_gpus, share_note
from autoreid.errors import UserError
from autoreid.data.benchmarks import BENCHMARKS
from autoreid.experiments import (RANDOM, SEARCH_BENCHMARK, SELECTED, Paths, parse_searched,
                                  searched_rows, setting_config, table1_rows)
from autoreid.keys import rule_keys, values as key_values
from autoreid import tables


def _params_file():
    """The one params file every job reads: the last --configfile, else params/default.yaml.
    Each profile is complete, so it replaces the default instead of merging into it."""
    given = [str(f) for f in workflow.config_settings.configfiles]
    default = os.path.join(workflow.basedir, "params", "default.yaml")
    path = os.path.relpath(given[-1] if given else default)
    try:
        if workflow.config_settings.config:
            raise UserError("--config overrides are not passed to the jobs; copy a params file, "
                            "edit it and pass it with --configfile")
        params = load_params(path)
    except UserError as e:
        raise WorkflowError(str(e)) from None
    config.clear()
    config.update(params)
    return path


PARAMS = _params_file()
P = Paths(config["results"])
R = config["results"]
THREADS = max(1, config["threads"])
DEVICE = config["device"]
STORE = config["store"]["format"]
RUNTIME = "--threads {threads}"  # every other value of a job comes from the params file
PRETRAIN_PROCESSES = config["pretrain_processes"]


def _gpus_per_job():
    """gpus_per_job, checked against --resources gpu and this machine's GPUs: a GPU job that
    cannot start here fails the plan, not hours into the run (autoreid.devices.plan_gpus)."""
    limit = workflow.resource_settings.resources.get("gpu")  # a Resource, a number or None
    limit = getattr(limit, "value", limit)
    try:
        gpus = plan_gpus(config["gpus_per_job"], PRETRAIN_PROCESSES, limit, DEVICE,
                         config["pretrain_nodes"])
    except UserError as e:
        raise WorkflowError(f"{PARAMS}: {e}") from None
    if gpus != config["gpus_per_job"]:
        print("note: no GPU on this machine: the GPU jobs run on the CPU", file=sys.stderr)
    note = gpus and share_note(config["jobs_per_gpu"], limit)
    if note:
        print(note, file=sys.stderr)
    return gpus


GPU = _gpus_per_job()
SHARE = config["jobs_per_gpu"]
# GPU jobs run on devices of their own, or on a slot of one shared by `jobs_per_gpu` jobs:
# `autoreid place` takes free ones (file locks) or, in a SLURM job, uses its allocation. Jobs that
# declare no GPU run as they are. The `gpu` resource counts GPU jobs running at once.
PLACE = ("autoreid place --gpus {resources.gpu}" + (f" --jobs-per-gpu {SHARE}" if SHARE > 1 else "")
         + " -- ") if GPU else ""
PRETRAIN_NODES = config["pretrain_nodes"]
PER_NODE = PRETRAIN_PROCESSES // PRETRAIN_NODES
# Pre-training: one process; torchrun's processes on one node; or, on SLURM, `autoreid spread`:
# srun starts a torchrun agent on each node of the job and they meet at a c10d rendezvous.
if PRETRAIN_NODES > 1:
    PRETRAIN = (f"autoreid spread --hosts {{resources.nodes}} --tasks {{resources.tasks}} "
                f"--per-host {PER_NODE} --threads {{threads}} -- pretrain")
elif PRETRAIN_PROCESSES > 1:
    PRETRAIN = PLACE + f"torchrun --standalone --nproc_per_node {PRETRAIN_PROCESSES} -m autoreid.cli pretrain"
else:
    PRETRAIN = PLACE + "autoreid pretrain"


def pretrain_resources():
    """On SLURM: pre-training on one node (`--nodes=1`, its GPUs on that node), or on
    pretrain_nodes nodes, a task each, PER_NODE GPUs each (`--gres=gpu:G` counts a node's GPUs);
    `mpi` keeps the job step's own `srun -n1` out, as `autoreid spread` runs srun itself."""
    if PRETRAIN_NODES == 1:
        return {"gpu": GPU * PRETRAIN_PROCESSES, "nodes": 1}
    many = {"nodes": PRETRAIN_NODES, "tasks": PRETRAIN_NODES, "tasks_per_gpu": 0, "mpi": "srun"}
    return {**many, "gres": f"gpu:{GPU * PER_NODE}"} if GPU else many


wildcard_constraints:
    benchmark="[a-z0-9-]+",
    dataset="[a-z0-9]+",
    variant="[A-Za-z0-9_]+",
    run="[0-9]+",
    setting="[A-Za-z0-9_]+",
    arch="[A-Za-z0-9_]+(-run[0-9]+)?",
    number="[1-6]",
    seed="[0-9]+",


def rerun_on(rule):
    """A rule's `params.values`: the values of the params keys its job reads (autoreid.keys, which
    also gives the DVC stage its `params`); Snakemake reruns the job when they change."""
    return {"values": lambda w: key_values(config, rule_keys(config, rule, dict(w.items())))}


def size(rule):
    """A job's memory (MB) and run time (minutes) on a cluster: the params' `resources`."""
    return config["resources"].get(rule, config["resources"]["default"])


def log_path(stage, *parts):
    return os.path.join(R, "logs", stage, *parts) + ".log"


def timing_path(stage, *parts):
    """Snakemake's record of a job's time and memory (its `benchmark:` directive; docs/slurm.md:
    sizing `resources`), under results/<profile>/timings/."""
    return os.path.join(R, "timings", stage, *parts) + ".tsv"


TABLE1_ROWS = table1_rows(config)
TABLES = tables.NAMES  # the paper's six, the claims table and the beyond-the-paper table
TABLE_FILES = [P.table(n, ext) for n in TABLES for ext in ("md", "tex", "csv", "json")]
FIGURES = [P.figure("curves.png"), P.figure("ranked.png")] + [
    P.selected(name).replace(".yaml", ".png") for name in SELECTED]

for name, dataset in config["datasets"].items():
    if not dataset["synthetic"] and not os.path.exists(dataset["raw"]):
        print(f"note: {name} not found at {dataset['raw']}: `autoreid data prepare` will fail until "
              f"you put it there (`autoreid data fetch`, docs/data.md 'Real data')", file=sys.stderr)
