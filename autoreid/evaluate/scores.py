"""A features file scored: `metrics.json` (what DVC compares: the metrics and their 95% intervals)
and `metrics.details.json` beside it (the CMC curve, the counts, and every query's own result, in the
order of the `query` group of the features file: `path`, `pid`, `ap`, `first_hit`, `inp`; null
where the query has no true match). `autoreid compare` and the tables read the details back."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from autoreid.errors import UserError
from autoreid.evaluate.bootstrap import BootstrapConfig, intervals, per_query, settings

METRICS = ("mAP", "mINP", "rank1", "rank5", "rank10")  # metrics.json; the rest goes beside it
PER_QUERY = ("ap", "first_hit", "inp")


def details_path(out: str | Path) -> Path:
    """Beside metrics.json: its CMC curve, counts, per-query results, distance and features file."""
    out = Path(out)
    return out.with_name(f"{out.stem}.details.json")


def _listed(values: np.ndarray, kind=float) -> list:
    return [None if math.isnan(v) else kind(v) for v in values.tolist()]


def score(features_path: str | Path, out: str | Path, metric: str, boot: BootstrapConfig,
          rerank=None) -> dict:
    """Score the features file (k-reciprocal re-ranked with `rerank`'s k1, k2, original_weight when given),
    write `out` and its details file; returns the metrics."""
    from autoreid.evaluate.metrics import evaluate
    from autoreid.extract import read_features
    from autoreid.io import write_json

    f = read_features(features_path)
    q, g = f["query"], f["gallery"]
    distance = None
    if rerank is not None:
        from autoreid.evaluate.rerank import k_reciprocal

        qf, gf = q.features, g.features
        if metric == "cosine":
            qf = qf / np.linalg.norm(qf, axis=1, keepdims=True).clip(1e-12)
            gf = gf / np.linalg.norm(gf, axis=1, keepdims=True).clip(1e-12)
        distance = k_reciprocal(qf, gf, rerank.k1, rerank.k2, rerank.original_weight)
    m = evaluate(q.features, q.pids, q.camids, g.features, g.pids, g.camids, metric,
                 distance=distance)
    each = m.pop("per_query")
    metrics = {k: m[k] for k in METRICS}
    metrics.update(intervals(per_query(**each), q.pids, boot))
    metrics["bootstrap"] = settings(boot)
    details = {**m, "features": str(features_path)}
    if rerank is not None:
        details["rerank"] = {"k1": rerank.k1, "k2": rerank.k2,
                             "original_weight": rerank.original_weight}
    details.update({"path": [str(p) for p in q.paths], "pid": q.pids.tolist(),
                    "ap": _listed(each["ap"]), "first_hit": _listed(each["first_hit"], int),
                    "inp": _listed(each["inp"])})
    write_json(details_path(out), details)  # what DVC compares is metrics alone
    write_json(out, metrics)
    return metrics


def read_scores(path: str | Path) -> dict:
    """An evaluation's per-query results: {"path", "pid", "ap", "first_hit", "inp"} as arrays
    (NaN: no true match), from a metrics file, its details file, or the folder that holds them."""
    from autoreid.io import read_json

    path = Path(path)
    if not path.exists():
        raise UserError(f"{path}: no such file or folder")
    metrics = path / "metrics.json" if path.is_dir() else path
    if metrics.name.endswith(".details.json"):
        metrics = metrics.with_name(metrics.name.replace(".details.json", ".json"))
    details = details_path(metrics)
    for p in (metrics, details):
        if not p.is_file():
            raise UserError(f"{p.parent}: no {p.name} (not a scored evaluation: `autoreid "
                            "evaluate` writes metrics.json and metrics.details.json)")
    d = read_json(details)
    missing = [k for k in ("path", "pid") + PER_QUERY if k not in d]
    if missing:
        raise UserError(f"{details}: no per-query {', '.join(missing)} (written by an older "
                        "autoreid: evaluate again)")
    n = len(d["path"])
    if any(len(d[k]) != n for k in ("pid",) + PER_QUERY):
        raise UserError(f"{details}: its per-query lists differ in length")
    out = {"path": np.asarray(d["path"], dtype=object), "pid": np.asarray(d["pid"], np.int64)}
    for k in PER_QUERY:
        out[k] = np.asarray([np.nan if v is None else v for v in d[k]], np.float64)
    out["metrics"] = read_json(metrics)
    out["source"] = str(metrics)
    return out
