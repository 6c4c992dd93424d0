"""`autoreid compare A B`: is B better than A, and by how much, beyond noise?

A side is one evaluation (a folder with metrics.json and metrics.details.json) or several: the same
configuration trained with different seeds (`compare`), or the units of a method, such as its
searched runs, each with its seeds (`compare_units`, the claims table). The difference is B - A in
mAP, R1 and mINP, each side its mean over its units, with a 95% interval that accounts for
- the queries: both sides are scored on the same queries, so the comparison is paired query by
  query; the identity bootstrap (autoreid.evaluate.bootstrap) of the per-query differences (each
  side's per-query results averaged over its evaluations);
- the units, where a side has several: their spread as a standard error (paired seed by seed
  where both sides hold the same seed<k> folders; pooled otherwise), added to the query variance,
  with Student's t at the Welch-Satterthwaite degrees of freedom;
- with one training a side, the seed noise that one training cannot show: the profile's measured
  `seeds.sd` (left out, and said so, where it is not measured).
Where both sides are the same trainings (an evaluation against itself, or re-ranked against
plain scores of one network) no seed noise enters, and with one evaluation a side the interval is
the bootstrap's percentile interval: an evaluation compared with itself gives 0 with a zero-width
interval. The verdict is B (the interval lies above 0), A (below 0) or `not resolved`.
`estimate` gives one configuration's metrics with their interval the same way (a table row).
"""
from __future__ import annotations

import glob
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autoreid.errors import UserError
from autoreid.evaluate.bootstrap import (INTERVALS, BootstrapConfig, draw_counts, group_sums,
                                         percentile_interval, per_query, settings)

SEED = re.compile(r"^seed(\d+)$")
LABELS = {"mAP": "mAP", "rank1": "R1", "mINP": "mINP"}
OTHERS = ("rank5", "rank10")  # metrics a table prints without an interval


def expand(side: str, metrics: str = "metrics.json") -> list[Path]:
    """A side as given: folders (or metrics files) separated by commas, each may be a glob; a
    folder without `metrics` but with seed<k>/ folders that have it stands for those seeds."""
    out: list[Path] = []
    for item in filter(None, side.split(",")):
        matches = sorted(glob.glob(item)) if glob.has_magic(item) else [item]
        if not matches:
            raise UserError(f"{item}: matches no folder")
        for m in map(Path, matches):
            if not m.exists():
                raise UserError(f"{m}: no such folder")
            if m.is_dir() and not (m / metrics).exists():
                seeds = sorted((p for p in m.iterdir() if SEED.match(p.name) and (p / metrics).exists()),
                               key=lambda p: int(SEED.match(p.name)[1]))
                out += [p / metrics for p in seeds] or [m / metrics]  # none: read_scores says so
            else:
                out.append(m / metrics if m.is_dir() else m)
    if not out:
        raise UserError(f"{side!r}: no evaluation given")
    return out


def _seed_of(path: Path) -> int | None:
    m = SEED.match(path.parent.name)
    return int(m[1]) if m else None


def _keys(paths: np.ndarray) -> np.ndarray:
    """Query paths relative to the folder they all sit in: the same benchmark read from two
    checkouts (or machines) gives the same keys."""
    if not len(paths):
        return paths
    root = os.path.commonpath([os.path.dirname(p) for p in paths.tolist()])
    return np.array([os.path.relpath(p, root) for p in paths.tolist()])


def _aligned(side: list[dict], reference: dict, what: str) -> np.ndarray:
    """(seeds, metrics, queries): each evaluation's per-query values in `reference`'s query order.
    Refused where the query sets differ, or where a query has a true match in one and not the other
    (the galleries differ)."""
    ref_paths, ref_pids = _keys(reference["path"]), reference["pid"]
    unique = len(set(ref_paths.tolist())) == len(ref_paths)
    out = []
    for s in side:
        paths = _keys(s["path"])
        if len(paths) == len(ref_paths) and (paths == ref_paths).all():
            order = np.arange(len(paths))
        elif unique and len(paths) == len(ref_paths) and set(paths.tolist()) == set(ref_paths.tolist()):
            index = {p: i for i, p in enumerate(paths.tolist())}
            order = np.array([index[p] for p in ref_paths.tolist()])
        else:
            common = len(set(paths.tolist()) & set(ref_paths.tolist()))
            raise UserError(f"{s['source']} and {reference['source']}: different query sets "
                            f"({len(paths)} and {len(ref_paths)} queries, {common} in common); "
                            f"{what} needs evaluations of the same queries")
        if not (s["pid"][order] == ref_pids).all():
            raise UserError(f"{s['source']} and {reference['source']}: the same query paths carry "
                            "different identities")
        v = per_query(s["ap"][order], s["first_hit"][order], s["inp"][order])
        out.append(np.stack([v[k] for k in INTERVALS]))
    values = np.stack(out)
    valid = ~np.isnan(values[:, 0])
    if not (valid == valid[0]).all():
        raise UserError(f"{reference['source']}: the evaluations differ in which queries have a true "
                        f"match (different galleries?); {what} needs the same query and gallery")
    return values


@dataclass(frozen=True)
class SeedsConfig:
    count: int  # training seeds per table row: 0..count-1
    networks: int | None  # seeds of each single network the claims compare (None: count)
    sd: dict  # {metric: sd} of one training's result from its seed alone (fractions); None: unknown


def _assumed_sd(seeds: SeedsConfig | None) -> np.ndarray | None:
    """The profile's sd of one training from its seed, per metric; None where not measured."""
    if seeds is None or any(seeds.sd[k] is None for k in INTERVALS):
        return None
    return np.array([seeds.sd[k] for k in INTERVALS], np.float64)


def _seed_errors(a: np.ndarray, b: np.ndarray, labels_a: list, labels_b: list, same: bool,
                 assumed: np.ndarray | None):
    """The part of the interval of mean(b) - mean(a) that the units (training seeds, or runs) add,
    per metric: (squared standard error, degrees of freedom, how), or None where it is left out.
    a, b: (units, metrics). Units with the same distinct labels on both sides (seed<k> folders, or
    the same folders) are paired; `same`: both sides are the same trainings."""
    paired = (len(a) > 1 and labels_a == labels_b and None not in labels_a
              and len(set(labels_a)) == len(labels_a))
    if paired:
        d = b - a
        by = "seed by seed" if isinstance(labels_a[0], int) else "training by training"
        return d.var(0, ddof=1) / len(d), np.full(d.shape[1], len(d) - 1.0), f"paired {by}; Student's t"
    if same:  # one training on both sides (re-ranked against plain, say): no seed noise between
        return None
    spread = [x for x in (a, b) if len(x) > 1]
    if spread:  # the spread of the sides that have one, pooled, for both sides
        df = float(sum(len(x) - 1 for x in spread))
        pooled = sum(x.var(0, ddof=1) * (len(x) - 1) for x in spread) / df
        return pooled * (1 / len(a) + 1 / len(b)), np.full(a.shape[1], df), "their pooled spread; Student's t"
    if assumed is None:
        return None
    return 2 * assumed ** 2, np.full(a.shape[1], np.inf), "one training a side: the profile's seeds.sd"


def _interval(point: np.ndarray, resampled: np.ndarray, seed) -> np.ndarray:
    """(2, metrics): the 95% interval of `point` from the query resamples' spread and the seeds'
    part (squared standard error, degrees of freedom, how) or None: then the resamples' own
    percentile interval; else point +- t * sqrt(their variance + the seeds' part), t at the
    Welch-Satterthwaite degrees of freedom (the query part counted as exact)."""
    if seed is None:
        return percentile_interval(resampled)
    from scipy import stats

    se2_seed, df_seed, _ = seed
    se2 = se2_seed + resampled.var(0, ddof=1)
    df = np.where(se2_seed > 0, se2 ** 2 / np.maximum(se2_seed ** 2 / df_seed, 1e-300), np.inf)
    half = stats.t.ppf(0.975, np.minimum(df, 1e9)) * np.sqrt(se2)
    return np.stack([point - half, point + half])


def _resampled(per_query: np.ndarray, pids: np.ndarray, boot: BootstrapConfig):
    """(identities, (resamples, metrics)): the identity bootstrap of the per-query means."""
    ids, sums, counts = group_sums(per_query, pids)
    w = draw_counts(len(ids), boot.resamples, boot.seed)
    return ids, (w @ sums.T) / (w @ counts)[:, None]


def _read(paths: list[Path], reference: dict | None = None, what: str = "compare"):
    from autoreid.evaluate.scores import read_scores

    scores = [read_scores(p) for p in paths]
    return _aligned(scores, reference or scores[0], what), scores


def estimate(paths: list[Path], boot: BootstrapConfig, seeds: SeedsConfig | None = None) -> dict:
    """One configuration's metrics: each the mean over its evaluations (one per training seed) of
    their metrics.json; mAP, R1 and mINP with a 95% interval over the queries (identity bootstrap)
    and the seeds (their spread with several, the profile's seeds.sd with one).
    {metric: {"mean", "ci95"}, other metric: {"mean"}, "n", "interval"}"""
    values, scores = _read(paths, what="a table row")
    valid = ~np.isnan(values[0, 0])
    values, pids = values[:, :, valid], scores[0]["pid"][valid]
    per_seed = np.array([[s["metrics"][k] for k in INTERVALS] for s in scores])  # (seeds, metrics)
    point = per_seed.mean(0)
    _, resampled = _resampled(values.mean(0), pids, boot)
    n = len(paths)
    if n > 1:
        seed = (per_seed.var(0, ddof=1) / n, np.full(point.shape, n - 1.0), "their spread")
    elif _assumed_sd(seeds) is not None:
        seed = (_assumed_sd(seeds) ** 2, np.full(point.shape, np.inf), "seeds.sd")
    else:
        seed = None
    lo, hi = _interval(point, resampled, seed).clip(0, 1)  # a metric is a fraction
    out = {name: {"mean": float(np.mean([s["metrics"][name] for s in scores]))} for name in OTHERS}
    out.update({name: {"mean": float(point[i]), "ci95": [float(lo[i]), float(hi[i])]}
                for i, name in enumerate(INTERVALS)})
    how = ("queries" if seed is None else "queries and seeds") + (
        "" if seed or len(paths) > 1 else " (seed noise not included: one training, no seeds.sd)")
    return {**out, "n": len(paths), "interval": how}


def compare(a_paths: list[Path], b_paths: list[Path], boot: BootstrapConfig,
            seeds: SeedsConfig | None = None) -> dict:
    """The difference B - A with its interval and verdict, per metric (see the module's text):
    each evaluation a unit of its side (a training seed)."""
    return compare_units([[Path(p)] for p in a_paths], [[Path(p)] for p in b_paths], boot, seeds)


def difference(unit_a: np.ndarray, unit_b: np.ndarray, pids: np.ndarray, labels_a: list,
               labels_b: list, same: bool, boot: BootstrapConfig, assumed: np.ndarray | None = None):
    """B - A of two sides' per-query values (units, metrics, queries), paired over the queries of
    identities `pids`: (the difference, its 95% interval (2, metrics), the units' part of it (see
    _seed_errors) or None, the identities)."""
    per_unit_a, per_unit_b = unit_a.mean(2), unit_b.mean(2)
    diff = per_unit_b.mean(0) - per_unit_a.mean(0)
    ids, resampled = _resampled(unit_b.mean(0) - unit_a.mean(0), pids, boot)
    seed = _seed_errors(per_unit_a, per_unit_b, labels_a, labels_b, same, assumed)
    return diff, _interval(diff, resampled, seed), seed, ids


def compare_units(a_units: list[list[Path]], b_units: list[list[Path]], boot: BootstrapConfig,
                  seeds: SeedsConfig | None = None) -> dict:
    """B - A where each side is a list of units, each unit one configuration's evaluations (its
    training seeds): a side's value is the mean over its units of each unit's mean. The units'
    spread enters the interval (several searched runs of one method, say); with one unit a side,
    the seeds' (the profile's seeds.sd where a unit has one evaluation)."""
    a_flat, b_flat = [p for u in a_units for p in u], [p for u in b_units for p in u]
    a, scores = _read(a_flat)
    b, _ = _read(b_flat, scores[0])
    reference = scores[0]
    valid = ~np.isnan(a[0, 0])
    if not (valid == ~np.isnan(b[0, 0])).all():
        raise UserError(f"{a_flat[0]} and {b_flat[0]}: they differ in which queries have a true "
                        "match (different galleries?); compare needs the same query and gallery")
    a, b, pids = a[:, :, valid], b[:, :, valid], reference["pid"][valid]
    folders_a, folders_b = [str(p.parent) for p in a_flat], [str(p.parent) for p in b_flat]
    same = sorted(folders_a) == sorted(folders_b) and len(a_units) == len(b_units)
    if len(a_units) == 1 and len(b_units) == 1 and len(a_flat) > 1:  # one unit a side: its seeds
        a_units, b_units = [[p] for p in a_flat], [[p] for p in b_flat]
    unit_a, unit_b = _unit_means(a, a_units), _unit_means(b, b_units)  # (units, metrics, queries)
    per_unit_a, per_unit_b = unit_a.mean(2), unit_b.mean(2)  # (units, metrics)
    diff, (lo, hi), seed, ids = difference(unit_a, unit_b, pids, _labels(a_units, same),
                                           _labels(b_units, same), same, boot, _assumed_sd(seeds))
    how = "queries (paired; identity bootstrap)"
    if seed is not None:
        how += f" and {'runs' if max(map(len, a_units + b_units)) > 1 else 'seeds'} ({seed[2]})"
    elif not same:
        how += "; seed noise not included (one training a side, no seeds.sd)"
    metrics = {}
    for i, name in enumerate(INTERVALS):
        verdict = "B" if lo[i] > 0 else "A" if hi[i] < 0 else "not resolved"
        metrics[name] = {"A": float(per_unit_a[:, i].mean()), "B": float(per_unit_b[:, i].mean()),
                         "difference": float(diff[i]), "ci95": [float(lo[i]), float(hi[i])],
                         "verdict": verdict}
    return {"A": {"evaluations": [str(p) for p in a_flat], "units": len(a_units),
                  "seeds": len(a_flat)},
            "B": {"evaluations": [str(p) for p in b_flat], "units": len(b_units),
                  "seeds": len(b_flat)},
            "queries": int(valid.sum()), "identities": int(len(ids)), "interval": how,
            "bootstrap": settings(boot), "metrics": metrics}


def _unit_means(values: np.ndarray, units: list[list[Path]]) -> np.ndarray:
    """(units, metrics, queries): each unit's mean over its evaluations (rows of `values`, in
    the units' order)."""
    out, start = [], 0
    for unit in units:
        out.append(values[start:start + len(unit)].mean(0))
        start += len(unit)
    return np.stack(out)


def _labels(units: list[list[Path]], same: bool) -> list:
    """What pairs a unit with the other side's: its folder where both sides hold the same
    trainings, its seed<k> where it is one evaluation in such a folder, else nothing."""
    if any(len(u) != 1 for u in units):
        return [None] * len(units)
    return [str(u[0].parent) if same else _seed_of(u[0]) for u in units]


def report(result: dict) -> str:
    """The comparison as a few lines of text, in %."""
    lines = []
    for name in ("A", "B"):
        s = result[name]
        more = f" and {s['seeds'] - 1} more ({s['seeds']} evaluations)" if s["seeds"] > 1 else ""
        lines.append(f"{name}: {s['evaluations'][0]}{more}")
    lines += [f"{result['queries']} queries of {result['identities']} identities; 95% interval of "
              f"B - A over {result['interval']}",
              f"{'':<6}{'A':>7}{'B':>7}{'B - A':>8}  {'95% interval':<17}verdict"]
    for name, m in result["metrics"].items():
        interval = "[{:+.1f}, {:+.1f}]".format(*(100 * v for v in m["ci95"]))
        lines.append(f"{LABELS[name]:<6}{100 * m['A']:>7.1f}{100 * m['B']:>7.1f}"
                     f"{100 * m['difference']:>+8.1f}  {interval:<17}{m['verdict']}")
    return "\n".join(lines)
