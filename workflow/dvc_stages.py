"""dvc.yaml from the Snakemake DAG: the Snakefile is the one source of truth for the pipeline.

Every Snakemake job becomes one DVC stage with the same command, the same inputs (deps) and the
same outputs; the params keys a stage reads come from its rule's `params.param_keys`. Small outputs
(metrics, tables, genotypes, figures, logs) are `cache: false` (kept in git, so `dvc metrics diff`
and `dvc exp` see them); models, features, image stores and data go to the DVC cache. Metrics
files are declared as `metrics`, per-epoch logs as `plots`.

    python workflow/dvc_stages.py > dvc.yaml                  # the default (tiny) profile
    python workflow/dvc_stages.py --configfile params/x.yaml  # another profile
    python workflow/dvc_stages.py --check                     # exit 1 if dvc.yaml is stale
"""
from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CACHED = (".pt", ".h5", "manifest.csv", "split.csv")  # big or binary: into the DVC cache
METRICS = re.compile(r"(^|/)metrics(_rerank)?\.json$")
PLOTS = {"train": ("epoch", "loss"), "search": ("epoch", "loss_w"), "pretrain": ("epoch", "loss")}


def snakemake_jobs(configfile: str | None = None, target: str = "tables") -> list:
    """All jobs of the DAG for `target` (as if nothing had been run yet)."""
    from snakemake.api import SnakemakeApi
    from snakemake.settings.types import (ConfigSettings, DAGSettings, OutputSettings,
                                          ResourceSettings)

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        with SnakemakeApi(OutputSettings()) as api:
            wf_api = api.workflow(
                resource_settings=ResourceSettings(cores=1),
                config_settings=ConfigSettings(configfiles=[Path(configfile)] if configfile else []),
                snakefile=ROOT / "Snakefile", workdir=Path.cwd())
            wf_api.dag(dag_settings=DAGSettings(targets={target}, forceall=True))
            workflow = wf_api._workflow
            workflow._prepare_dag(forceall=True, ignore_incomplete=True, lock_warn_only=True,
                                  nolock=True)
            workflow._build_dag()
            produced = {str(f) for j in workflow.dag.jobs for f in j.output}
            missing = sorted({str(f) for j in workflow.dag.jobs for f in j.input} - produced)
            if missing or not (target in produced
                               or any(j.rule.name == target for j in workflow.dag.jobs)):
                raise SystemExit(f"the Snakemake DAG for {target!r} is incomplete (first input no "
                                 f"job makes: {missing[:1]}); run `snakemake -n {target}` to see why")
            jobs = [j for j in workflow.dag.jobs if j.rule.shellcmd]
            return [{"rule": j.rule.name, "wildcards": dict(j.wildcards_dict),
                     "cmd": j.shellcmd.strip(), "deps": sorted(map(str, j.input)),
                     "outs": sorted(map(str, j.output)), "log": [str(x) for x in j.log],
                     "keys": list(j.params.get("param_keys", []) or [])} for j in jobs]


def stage_name(job: dict) -> str:
    """rule-wildcard-wildcard... (a `/` of a path wildcard, like any other punctuation, is `_`)."""
    parts = [job["rule"]]
    for value in job["wildcards"].values():
        parts.append(re.sub(r"[^A-Za-z0-9_]+", "_", str(value)))
    return "-".join(parts)


def stage(job: dict, params_file: str) -> dict:
    cmd = " ".join(job["cmd"].split())
    log_dirs = sorted({os.path.dirname(p) for p in job["log"]})
    if log_dirs:  # Snakemake makes the log folders; under DVC the command does
        cmd = f"mkdir -p {' '.join(log_dirs)} && {cmd}"
    out: dict = {"cmd": cmd}
    if job["deps"]:
        out["deps"] = job["deps"]
    if job["keys"]:
        out["params"] = [{params_file: job["keys"]}]
    outs, metrics, plots = [], [], []
    for path in job["outs"]:
        if METRICS.search(path):
            metrics.append({path: {"cache": False}})
        elif path.endswith("log.csv") and job["rule"] in PLOTS:
            x, y = PLOTS[job["rule"]]
            plots.append({path: {"cache": False, "x": x, "y": y}})
        elif path.endswith(CACHED) or job["rule"] in ("synth", "prepare_images"):
            outs.append(path)
        else:
            outs.append({path: {"cache": False}})
    for key, value in (("outs", outs), ("metrics", metrics), ("plots", plots)):
        if value:
            out[key] = value
    return out


def dvc_yaml(configfile: str | None = None, target: str = "tables") -> str:
    from autoreid.config import load_params

    params_file = os.path.relpath(configfile, Path.cwd()) if configfile else "params/default.yaml"
    load_params(params_file)  # checked here first, as before Snakemake reads it
    named = sorted(((stage_name(j), j) for j in snakemake_jobs(configfile, target)),
                   key=lambda pair: pair[0])
    stages = {name: stage(j, params_file) for name, j in named}
    header = ("# GENERATED from the Snakefile by `python workflow/dvc_stages.py` — do not edit.\n"
              "# One stage per Snakemake job: same command, inputs and outputs.\n")
    return header + yaml.safe_dump({"stages": stages}, sort_keys=False, width=1000)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configfile", help="params file (default: params/default.yaml)")
    ap.add_argument("--check", action="store_true", help="compare with the committed dvc.yaml")
    ap.add_argument("--out", help="write here instead of standard output")
    ap.add_argument("--target", default="tables", help="Snakemake target (default: tables)")
    a = ap.parse_args()
    from autoreid.errors import UserError

    try:
        text = dvc_yaml(a.configfile, a.target)
    except UserError as e:
        print(f"dvc_stages: error: {e}", file=sys.stderr)
        return 1
    if a.check:
        current = Path("dvc.yaml").read_text() if Path("dvc.yaml").exists() else ""
        if current != text:
            print("dvc.yaml is stale: regenerate it with `python workflow/dvc_stages.py > dvc.yaml`",
                  file=sys.stderr)
            return 1
        return 0
    if a.out:
        Path(a.out).write_text(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
