"""95% intervals for mAP, R1 and mINP by the bootstrap over query identities.

The test set's queries are not independent draws: an identity's queries share its gallery images,
so what varies from one test set to the next is which identities it holds. Each resample draws as
many identities as there are (with replacement) and takes all the queries of each drawn identity;
a metric is then the mean over the drawn queries (an identity drawn twice counts twice). The
interval is the 2.5 and 97.5 percentiles of the resampled metric. Vectorised: the resamples are a
(resamples x identities) matrix of draw counts, and every metric of every resample is one matrix
product of it with the identities' sums.

Per-query values: AP, 1 if the first true match is at rank 1 (R1), INP. Queries without a true
match (NaN) are left out, as the metrics leave them out.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

UNIT = "identity"  # what one draw takes: all the queries of one identity
INTERVALS = ("mAP", "rank1", "mINP")  # the metrics given a `<name>_ci95`


@dataclass(frozen=True)
class BootstrapConfig:
    resamples: int  # bootstrap resamples per interval
    seed: int  # of the resampling: the same seed, the same interval


def settings(cfg: BootstrapConfig) -> dict:
    """The `bootstrap` entry written beside the intervals."""
    return {"resamples": cfg.resamples, "unit": UNIT, "seed": cfg.seed}


def per_query(ap, first_hit, inp) -> dict[str, np.ndarray]:
    """{metric: per-query value} for the metrics with an interval (NaN: no true match)."""
    first_hit = np.asarray(first_hit, np.float64)
    hit = np.where(np.isnan(first_hit), np.nan, (first_hit == 1).astype(np.float64))
    return {"mAP": np.asarray(ap, np.float64), "rank1": hit, "mINP": np.asarray(inp, np.float64)}


def group_sums(values: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """values: (m, n) per-query values of m metrics (NaN: left out), groups: (n,) identities.
    Returns the identities kept, each one's sum per metric (m, G) and its query count (G,)."""
    values = np.atleast_2d(np.asarray(values, np.float64))
    keep = ~np.isnan(values).any(0)
    ids, index = np.unique(np.asarray(groups)[keep], return_inverse=True)
    sums = np.zeros((values.shape[0], len(ids)))
    np.add.at(sums, (slice(None), index), values[:, keep])
    return ids, sums, np.bincount(index, minlength=len(ids)).astype(np.float64)


def draw_counts(n: int, resamples: int, seed: int) -> np.ndarray:
    """(resamples, n): how often each of n units is drawn in each resample of size n."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n, size=(resamples, n)) + n * np.arange(resamples)[:, None]
    return np.bincount(picks.ravel(), minlength=resamples * n).reshape(resamples, n).astype(np.float64)


def resampled_means(sums: np.ndarray, counts: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """(resamples, m): each metric's mean over the queries of each resample of the identities."""
    w = draw_counts(counts.shape[0], resamples, seed)
    return (w @ sums.T) / (w @ counts)[:, None]


def percentile_interval(samples: np.ndarray) -> np.ndarray:
    """(2, ...): the 2.5 and 97.5 percentiles along the first axis."""
    return np.quantile(samples, [0.025, 0.975], axis=0)


def intervals(values: dict[str, np.ndarray], pids: np.ndarray, cfg: BootstrapConfig) -> dict:
    """{"<metric>_ci95": [lo, hi]} (fractions) for each metric of `values`, over the identities."""
    names = list(values)
    _, sums, counts = group_sums(np.stack([values[k] for k in names]), pids)
    lo, hi = percentile_interval(resampled_means(sums, counts, cfg.resamples, cfg.seed))
    return {f"{k}_ci95": [float(a), float(b)] for k, a, b in zip(names, lo, hi)}
