"""The params keys each pipeline job reads, in one place: the Snakefile reruns a job when their
values change (`values`), and `workflow/dvc_stages.py` declares them as the DVC stage's `params`.
A rule is named as in the Snakefile; `w` holds the job's wildcards."""
from __future__ import annotations

from typing import Mapping

# rule -> its keys, from the params and the job's wildcards
_KEYS = {
    "synth": lambda p, w: [f"synth.{w['dataset']}"],
    "prepare": lambda p, w: ["prepare"] + (["datasets.msmt17.train_only"]
                                           if w.get("benchmark") == "msmt17" else []),
    "prepare_cuhk03": lambda p, w: ["prepare"],
    "pack": lambda p, w: ["store.format", "train.height", "train.width"],
    "split": lambda p, w: ["split"],
    "search": lambda p, w: ["amp", "tf32", "compile", "search", f"search_variants.{w['variant']}"],
    "random": lambda p, w: ["search.seed", "search.nodes"],
    "pretrain": lambda p, w: _pretrain(p, w["setting"]),
    "train": lambda p, w: ["amp", "tf32", "compile", "train", f"train_settings.{w['setting']}",
                           "evaluate.feature"],
    "evaluate": lambda p, w: ["amp", "tf32", "evaluate", "bootstrap"],
    "evaluate_rerank": lambda p, w: ["amp", "tf32", "evaluate", "bootstrap", "rerank"],
    "evaluate_pixels": lambda p, w: ["train.height", "train.width", "evaluate.metric", "bootstrap"],
    "complexity": lambda p, w: ["complexity"],
    "complexity_searched": lambda p, w: ["complexity"],
    "select": lambda p, w: _select(p),
    "table": lambda p, w: _table(w["number"]),
    "claims": lambda p, w: _table("claims"),
    "beyond": lambda p, w: _table("beyond"),
    "figures_ranked": lambda p, w: ["figures"],
}


def rule_keys(params: dict, rule: str, wildcards: Mapping[str, str]) -> list[str]:
    """The dotted params keys that job `rule` with `wildcards` reads ([]: none)."""
    keys = _KEYS.get(rule)
    return keys(params, dict(wildcards)) if keys else []


def values(params: dict, keys: list[str]) -> dict:
    """{key: its value in `params`} for dotted keys."""
    out = {}
    for key in keys:
        value = params
        for part in key.split("."):
            value = value[part]
        out[key] = value
    return out


def _pretrain(params: dict, setting: str) -> list[str]:
    """Pre-training's own section, and the network's width and depth (train's C and layers, or
    the setting's)."""
    entry = params["train_settings"][setting]
    return ["amp", "tf32", "pretrain", "train.C", "train.layers"] + [
        f"train_settings.{setting}.{k}" for k in ("C", "layers") if k in entry]


def _select(params: dict) -> list[str]:
    """Its rule and, unless it takes the released cells, the Table 1 runs it chooses from and each
    variant's search space."""
    if params["select"]["rule"] == "published":
        return ["select.rule"]
    variants = params["table1"]["variants"]
    return ["select.rule", "table1.setting", "table1.runs", "table1.variants", "search.space",
            "seeds.count"] + [f"search_variants.{v}.space" for v in variants
                              if "space" in params["search_variants"][v]]


def _table(name: str) -> list[str]:
    from autoreid import tables

    return tables.keys(name)
