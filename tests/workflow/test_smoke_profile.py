"""params/smoke.yaml is the paper profile with only the amount of work cut: the same keys and
values but for the declared work-size keys below, and the same DAG (CI runs it end to end)."""
from __future__ import annotations

from autoreid.config import load_params
from helpers import ROOT, jobs, snakemake

# What smoke.yaml may change, and why. Everything else -- the shapes (C, layers, image sizes), the
# variants, settings, tables, selection rule, amp, losses and schedules -- is the paper's.
WORK_KEYS = {
    "name", "results",                      # its own name and results folder
    "threads", "workers", "resources",      # sized to a 2-core CPU, not to the experiment
    "amp",                                  # fp32 on a CPU (bf16 there is emulated: ~4x slower)
    "datasets", "synth",                    # synthetic stand-ins for the real datasets
    "pretrain.epochs", "pretrain.batch_size",
    "search.epochs", "search.P", "search.K",
    "train.epochs", "train.P", "train.K", "train_settings.imagenet.P",
}


def flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        out.update(flat(v, key + ".") if isinstance(v, dict) else {key: v})
    return out


def declared(key: str) -> bool:
    return any(key == w or key.startswith(w + ".") for w in WORK_KEYS)


def test_smoke_differs_from_paper_only_in_work_size_keys():
    paper = flat(load_params(ROOT / "params" / "paper.yaml"))
    smoke = flat(load_params(ROOT / "params" / "smoke.yaml"))
    assert smoke.keys() == paper.keys()
    undeclared = sorted(k for k in paper if paper[k] != smoke[k] and not declared(k))
    assert not undeclared, f"smoke.yaml changes {undeclared}: not work-size keys"


def test_smoke_keeps_the_paper_shapes_on_stand_ins_at_the_paper_image_size():
    smoke = load_params(ROOT / "params" / "smoke.yaml")
    assert (smoke["search"]["C"], smoke["train"]["C"]) == (32, 64)
    assert smoke["search"]["layers"] == smoke["train"]["layers"] == [2, 2, 2, 2]
    assert (smoke["train"]["height"], smoke["train"]["width"]) == (384, 128)
    assert (smoke["pretrain"]["height"], smoke["pretrain"]["width"]) == (224, 224)
    assert all(d["synthetic"] for d in smoke["datasets"].values())
    for name in ("market1501", "cuhk03", "msmt17"):
        assert (smoke["synth"][name]["height"], smoke["synth"][name]["width"]) == (384, 128)
    assert smoke["synth"]["imagenet"]["size"] == 224
    assert smoke["search"]["epochs"] == smoke["train"]["epochs"] == smoke["pretrain"]["epochs"] == 1


def test_smoke_plans_the_paper_dag(tmp_path):
    plans = {}
    for name in ("paper", "smoke"):
        proc = snakemake("-n", "tables", "--configfile", ROOT / "params" / f"{name}.yaml",
                         cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        plans[name] = jobs(proc.stdout)
    assert plans["smoke"].pop("synth") == 4  # the stand-ins are made, the real data prepared
    plans["smoke"]["total"] -= 4
    assert plans["smoke"] == plans["paper"]
