"""dvc.yaml from the Snakemake DAG: the Snakefile is the one source of truth for the pipeline.

Every Snakemake job becomes one DVC stage, named rule-wildcard-wildcard... (a path wildcard's
folders are wildcards too), with the same command, the same inputs (deps) and the same outputs;
the params keys a stage reads come from autoreid.keys, as its rule's reruns do. Where each output is kept
(`cache: false`, in git, or the DVC cache) is decided by autoreid/storage.py, which also writes
.gitignore's exceptions. Metrics files are declared as `metrics`, per-epoch logs as `plots`.
Each profile has its own pipeline: params/default.yaml (tiny) the root dvc.yaml, every other
params/<name>.yaml pipelines/<name>/dvc.yaml (`dvc repro pipelines/paper/dvc.yaml`).

    python workflow/dvc_stages.py --write                     # every pipeline and .gitignore
    python workflow/dvc_stages.py --check                     # exit 1 if any of them is stale
    python workflow/dvc_stages.py --configfile params/x.yaml  # one profile's, on standard output
"""
from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from autoreid.storage import kept_in, with_block  # noqa: E402

PROFILES = ("default", "paper", "smoke", "study")  # params/<name>.yaml, each with a pipeline of its own
METRICS = re.compile(r"(^|/)(metrics(_rerank)?|tables/table\d)\.json$")  # declared `metrics`
PLOTS = {"train": ("epoch", "loss"), "search": ("epoch", "loss_w"), "pretrain": ("epoch", "loss")}


def snakemake_jobs(configfile: str | None = None, target: str = "tables") -> list:
    """All jobs of the DAG for `target`, as if nothing had been run yet: a dry run through
    Snakemake's API, each job read from the record Snakemake logs for it (the events its logger
    plugins receive); the params keys of each come from autoreid.keys, as the rule's do."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (ConfigSettings, DAGSettings, OutputSettings,
                                          ResourceSettings)
    from snakemake_interface_logger_plugins.common import LogEvent

    from autoreid.config import load_params
    from autoreid.keys import rule_keys

    jobs = []

    class Jobs(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if getattr(record, "event", None) == LogEvent.JOB_INFO and record.shellcmd:
                jobs.append({"rule": record.rule_name, "wildcards": dict(record.wildcards),
                             "cmd": record.shellcmd.strip(), "deps": sorted(record.input),
                             "outs": sorted(record.output), "log": list(record.log)})

    handler, root = Jobs(), logging.getLogger()
    root.addHandler(handler)
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            with SnakemakeApi(OutputSettings(dryrun=True, printshellcmds=True)) as api:
                workflow = api.workflow(
                    resource_settings=ResourceSettings(cores=1),
                    config_settings=ConfigSettings(configfiles=[Path(configfile)] if configfile
                                                   else []),
                    snakefile=ROOT / "Snakefile", workdir=Path.cwd())
                workflow.dag(dag_settings=DAGSettings(targets={target}, forceall=True)
                             ).execute_workflow(executor="dryrun")
    except Exception as e:  # noqa: BLE001 — Snakemake's own error, in one line
        raise SystemExit(f"the Snakemake DAG for {target!r} could not be planned ({e}); run "
                         f"`snakemake -n {target}` to see why") from None
    finally:
        root.removeHandler(handler)
    params = load_params(configfile)
    for job in jobs:
        job["keys"] = rule_keys(params, job["rule"], job["wildcards"])
    return jobs


def stage_name(job: dict) -> str:
    """rule-wildcard-wildcard...: a path wildcard's folders are wildcards of their own, other
    punctuation becomes `_`; a seed reads seed<k>, as its folder does."""
    parts = [job["rule"]]
    for key, value in job["wildcards"].items():
        value = f"seed{value}" if key == "seed" else str(value)
        parts += [re.sub(r"[^A-Za-z0-9_]+", "_", part) for part in value.split("/")]
    return "-".join(parts)


def pipeline_path(profile: str) -> str:
    return "dvc.yaml" if profile == "default" else f"pipelines/{profile}/dvc.yaml"


def stage(job: dict, params_file: str, results: str, wdir: str | None) -> dict:
    cmd = " ".join(job["cmd"].split())
    log_dirs = sorted({os.path.dirname(p) for p in job["log"]})
    if log_dirs:  # Snakemake makes the log folders; under DVC the command does
        cmd = f"mkdir -p {' '.join(log_dirs)} && {cmd}"
    out: dict = {"cmd": cmd}
    if wdir:  # a pipeline below the root runs, and names its paths, from the root
        out["wdir"] = wdir
    if job["deps"]:
        out["deps"] = job["deps"]
    if job["keys"]:
        out["params"] = [{params_file: job["keys"]}]
    outs, metrics, plots = [], [], []
    for path in job["outs"]:
        if METRICS.search(path) and kept_in(path, results) == "git":
            metrics.append({path: {"cache": False}})
        elif path.endswith("log.csv") and job["rule"] in PLOTS and kept_in(path, results) == "git":
            x, y = PLOTS[job["rule"]]
            plots.append({path: {"cache": False, "x": x, "y": y}})
        elif kept_in(path, results) == "cache":
            outs.append(path)
        else:
            outs.append({path: {"cache": False}})
    for key, value in (("outs", outs), ("metrics", metrics), ("plots", plots)):
        if value:
            out[key] = value
    return out


def dvc_yaml(configfile: str | None = None, target: str = "tables", wdir: str | None = None) -> str:
    from autoreid.config import load_params

    params_file = os.path.relpath(configfile, Path.cwd()) if configfile else "params/default.yaml"
    results = load_params(params_file)["results"]  # checked here first, as Snakemake would
    named = sorted(((stage_name(j), j) for j in snakemake_jobs(configfile, target)),
                   key=lambda pair: pair[0])
    if len(dict(named)) != len(named):
        raise SystemExit("two Snakemake jobs would make one DVC stage name")
    stages = {name: stage(j, params_file, results, wdir) for name, j in named}
    header = ("# GENERATED from the Snakefile by `python workflow/dvc_stages.py` — do not edit.\n"
              "# One stage per Snakemake job: same command, inputs and outputs.\n")
    return header + yaml.safe_dump({"stages": stages}, sort_keys=False, width=1000)


def expected(root: Path) -> dict[str, str]:
    """Every generated file under `root`: each profile's pipeline (read from this checkout's
    Snakefile and params), and root's .gitignore with its generated block."""
    os.chdir(ROOT)
    out = {pipeline_path(p): dvc_yaml(f"params/{p}.yaml" if p != "default" else None,
                                      wdir=None if p == "default" else "../..")
           for p in PROFILES}
    gitignore = root / ".gitignore"
    out[".gitignore"] = with_block(gitignore.read_text() if gitignore.exists() else "")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", help="params file (default: params/default.yaml)")
    ap.add_argument("--write", action="store_true", help="write every profile's pipeline and "
                    ".gitignore's generated block")
    ap.add_argument("--check", action="store_true", help="exit 1 if any of those is stale")
    ap.add_argument("--out", help="write here instead of standard output (one profile)")
    ap.add_argument("--target", default="tables", help="Snakemake target (default: tables)")
    ap.add_argument("--root", default=str(ROOT), help="where --write and --check find the "
                    "generated files (default: this checkout)")
    a = ap.parse_args()
    root = Path(a.root).resolve()
    from autoreid.errors import UserError

    try:
        if a.write or a.check:
            files = expected(root)
        else:
            text = dvc_yaml(a.configfile, a.target)
    except UserError as e:
        print(f"dvc_stages: error: {e}", file=sys.stderr)
        return 1
    if a.check:
        stale = [p for p, text in files.items()
                 if not (root / p).exists() or (root / p).read_text() != text]
        if stale:
            print(f"stale: {', '.join(stale)}: regenerate with `python workflow/dvc_stages.py "
                  "--write`", file=sys.stderr)
            return 1
        return 0
    if a.write:
        for path, text in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text)
        print(f"wrote {', '.join(files)}")
    elif a.out:
        Path(a.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
