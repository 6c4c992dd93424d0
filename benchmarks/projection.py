"""The GPU-hours of the whole paper DAG on one GPU, from benchmarks/gpu.py's measured rates.

The jobs are the ones Snakemake plans (`snakemake -n tables --configfile params/paper.yaml`), each
sized by the paper profile: a search runs its variant's epochs of (D_train images / P x K)
iterations at the measured seconds per iteration (first or second order); a retraining runs its
setting's epochs over the benchmark's training images at the measured retraining rate (the released
Auto-ReID cell's: ResNets and other widths are taken at the same rate, an approximation); an
evaluation extracts the query and gallery images; a pre-training runs its epochs over ImageNet's
1,281,167 images at the measured pre-training rate. Searches sharing the GPU (`jobs_per_gpu`) finish
together `concurrency` times faster, as measured.
"""
from __future__ import annotations

import functools
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPER = ROOT / "params" / "paper.yaml"
# training images and query + gallery images of the real benchmarks (CUHK03: the new protocol)
TRAIN_IMAGES = {"market1501": 12936, "cuhk03-labeled": 7368, "cuhk03-detected": 7365, "msmt17": 32621}
TEST_IMAGES = {"market1501": 3368 + 15913, "cuhk03-labeled": 1400 + 5328,
               "cuhk03-detected": 1400 + 5332, "msmt17": 11659 + 82161}
IMAGENET_IMAGES = 1281167


@functools.lru_cache(maxsize=4)
def planned_jobs(params: Path = PAPER) -> tuple[tuple[str, dict], ...]:
    """(rule, wildcards) of every job of the DAG's dry run (one dry run a params file)."""
    out = subprocess.run([sys.executable, "-m", "snakemake", "-n", "tables", "--configfile", str(params)],
                         cwd=ROOT, capture_output=True, text=True, check=True)
    jobs, rule = [], None
    for line in (out.stdout + out.stderr).splitlines():
        m = re.match(r"(?:local)?rule (\w+):", line.strip())
        if m:
            rule = m[1]
            jobs.append((rule, {}))
        elif rule and line.strip().startswith("wildcards:"):
            pairs = line.split("wildcards:", 1)[1].split(",")
            jobs[-1][1].update(p.strip().split("=", 1) for p in pairs if "=" in p)
    return tuple(jobs)


def project(rates: dict, concurrency: float = 1.0, params: Path = PAPER) -> dict:
    """{kind: (jobs, GPU-hours)} for search, train, evaluate, pretrain and the total. `rates`:
    search_s (first order), search2_s (second order), train_ips, extract_ips, pretrain_ips."""
    from autoreid.config import load_params, stage_config

    p = load_params(params)
    hours = {"search": [0, 0.0], "train": [0, 0.0], "evaluate": [0, 0.0], "pretrain": [0, 0.0]}
    for rule, w in planned_jobs(params):
        if rule == "search":
            cfg = stage_config(p, "search", w.get("variant"), str(params))
            half = TRAIN_IMAGES[w.get("benchmark", "market1501")] // 2
            seconds = rates["search2_s" if cfg.order == "second" else "search_s"]
            add = cfg.epochs * (half // (cfg.P * cfg.K)) * seconds / concurrency
        elif rule == "train":
            cfg = stage_config(p, "train", w.get("setting"), str(params))
            add = cfg.epochs * TRAIN_IMAGES[w["benchmark"]] / rates["train_ips"]
        elif rule in ("evaluate", "evaluate_rerank"):
            benchmark = w.get("benchmark") or w["path"].split("/")[0]
            rule, add = "evaluate", TEST_IMAGES[benchmark] / rates["extract_ips"]
        elif rule == "pretrain":
            cfg = stage_config(p, "pretrain", None, str(params))  # its own section for every setting
            add = cfg.epochs * IMAGENET_IMAGES / rates["pretrain_ips"]
        else:
            continue
        hours[rule][0] += 1
        hours[rule][1] += add / 3600
    hours["total"] = [sum(v[0] for v in hours.values()), sum(v[1] for v in hours.values())]
    return {k: tuple(v) for k, v in hours.items()}
