"""What a table prints for one trained network: each metric the mean over its training seeds
(`experiments.seeds`: seeds.count evaluations, or seeds.networks), mAP and R1 with their 95% interval (over the test queries' identities
and over the seeds: autoreid.compare.estimate), and n, the number of seeds."""
from __future__ import annotations

from autoreid.experiments import Paths

CI = " 95% CI"  # the interval column of a metric column: "mAP 95% CI"
WITH_INTERVAL = ("mAP", "rank1", "mINP")


def files(params: dict, benchmark: str, setting: str, arch: str, name: str = "metrics") -> list[str]:
    """The files a row reads: each seed's metrics and their per-query details."""
    folders = Paths(params["results"]).evaluations(params, benchmark, setting, arch)
    return [f"{folder}/{name}{ext}" for folder in folders for ext in (".json", ".details.json")]


def interval(lo: float, hi: float) -> str:
    return f"[{100 * lo:.1f}, {100 * hi:.1f}]"


def scores(params: dict, folders: list[str], columns: dict[str, str], name: str = "metrics",
           seeds: bool = True) -> dict:
    """{column: value in %, "<column> 95% CI": "[lo, hi]" for mAP, R1 and mINP} of the evaluations
    in `folders`; `columns`: metric key -> column name. seeds=False: no training behind them (the
    raw-pixel reference), so no seed noise."""
    from autoreid.compare import estimate
    from autoreid.config import stage_config

    boot = stage_config(params, "bootstrap")
    noise = stage_config(params, "seeds") if seeds else None
    e = estimate([f"{f}/{name}.json" for f in folders], boot, noise)
    out = {}
    for key, column in columns.items():
        out[column] = 100 * e[key]["mean"]
        if key in WITH_INTERVAL:
            out[column + CI] = interval(*e[key]["ci95"])
    return out


def row(params: dict, benchmark: str, setting: str, arch: str, columns: dict[str, str],
        name: str = "metrics") -> dict:
    """`scores` of every seed of `arch` trained under `setting` on `benchmark`, and n."""
    folders = Paths(params["results"]).evaluations(params, benchmark, setting, arch)
    return {**scores(params, folders, columns, name), "n": len(folders)}
