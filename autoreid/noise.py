"""`autoreid noise FOLDER`: where the noise of a study's comparisons comes from, read from its
evaluations, and how many training seeds resolve a given difference.

FOLDER holds configurations (networks, at any depth), each a folder of seed<k>/ evaluations
(metrics.json and metrics.details.json) of the same queries: one benchmark and setting of a run,
say `results/study/evaluate/market1501/scratch`. With the seeds that all of them share:
- the seeds' own effect: each seed's mean over the configurations against the grand mean, which a
  comparison paired seed by seed cancels (the order of the batches is the seed's, whatever the
  network);
- a training's noise from its seed beyond that (the network-by-seed residual of a two-way
  decomposition), and as one training shows it (the spread within a configuration: what
  `seeds.sd` holds, for one training a side);
- the queries: the identity bootstrap's sd of one evaluation, and of the per-query difference of
  two configurations at one seed a side, with the part of it that averaging seeds leaves (the
  medians over the pairs);
- the seeds a side that `autoreid compare` of two configurations, paired seed by seed, needs for a
  95% interval of +-`half`, and its expected half-width at each count (`half_width`).
"""
from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from autoreid.errors import UserError
from autoreid.evaluate.bootstrap import INTERVALS, BootstrapConfig

SEEDS = (2, 3, 4, 6, 8, 12, 16, 24, 32)


def configurations(root: Path, metrics: str = "metrics.json") -> dict[str, dict[int, Path]]:
    """{configuration (relative folder): {seed: metrics file}} for folders with 2+ seeds."""
    from autoreid.compare import SEED

    root = Path(root)
    if not root.is_dir():
        raise UserError(f"{root}: no such folder")
    found: dict[str, dict[int, Path]] = {}
    for path in sorted(root.glob(f"**/seed*/{metrics}")):
        m = SEED.match(path.parent.name)
        if m:
            found.setdefault(str(path.parent.parent.relative_to(root)), {})[int(m[1])] = path
    found = {k: v for k, v in found.items() if len(v) > 1}
    if len(found) < 2:
        raise UserError(f"{root}: needs 2 or more configurations with 2 or more seed<k>/{metrics} "
                        f"each (found {len(found)})")
    return found


def decompose(values: np.ndarray) -> dict:
    """values: (configurations, seeds) of one metric. The seeds' effects, the residual sd of a
    training (network by seed) and the sd within a configuration, with degrees of freedom."""
    n, s = values.shape
    within = values - values.mean(1, keepdims=True)
    effects = values.mean(0) - values.mean()
    residual = within - effects
    return {"seed_effects": effects.tolist(),
            "residual_sd": float(np.sqrt((residual ** 2).sum() / ((n - 1) * (s - 1)))),
            "residual_df": (n - 1) * (s - 1),
            "within_sd": float(np.sqrt((within ** 2).sum() / (n * (s - 1)))),
            "within_df": n * (s - 1)}


def _query_variances(paths: list[list[Path]], boot: BootstrapConfig) -> dict:
    """Per metric, from configurations x seeds of evaluations: the median bootstrap variance of one
    evaluation's mean (`single`), and of a paired difference of two configurations split as
    `compare` sees it when each side's seeds are averaged first: a + b/n at n seeds, `b` the
    per-query noise of a training (it averages out over seeds), `a` what the two networks differ
    in query by query (it does not). Fitted per pair from one seed (the mean over the seeds of each
    seed's variance: a + b) and all seeds averaged (a + b/S); the median over the pairs."""
    from autoreid.compare import _read, _resampled

    flat = [p for config in paths for p in config]
    values, scores = _read(flat, what="noise")
    valid = ~np.isnan(values[0, 0])
    pids, s = scores[0]["pid"][valid], len(paths[0])
    values = values[:, :, valid].reshape(len(paths), s, values.shape[1], -1)  # (configs, seeds, m, q)

    def var(v):  # (m, q) -> (m,)
        return _resampled(v, pids, boot)[1].var(0, ddof=1)

    single = [var(c[0]) for c in values]
    a, b, one = [], [], []
    for i, j in itertools.combinations(range(len(values)), 2):
        d = values[j] - values[i]  # (seeds, m, q)
        v1, vs = np.mean([var(k) for k in d], 0), var(d.mean(0))
        shrinks = np.maximum(v1 - vs, 0) * s / (s - 1)
        a.append(np.maximum(v1 - shrinks, 0)), b.append(shrinks), one.append(v1)
    return {"single": np.median(single, 0), "one": np.median(one, 0), "a": np.median(a, 0),
            "b": np.median(b, 0)}


def half_width(pair_sd: float, a: float, b: float, seeds: int) -> float:
    """The expected 95% half-width of `compare` of two networks, `seeds` trainings a side paired
    seed by seed: the queries' variance a + b/seeds, the seeds' (pair_sd, a seed pair's spread:
    sqrt 2 x the residual) pair_sd^2/seeds, Student's t at the Welch-Satterthwaite degrees of
    freedom (the seeds' part estimated with seeds - 1), as autoreid.compare computes it."""
    from scipy import stats

    seed = pair_sd ** 2 / seeds
    se2 = a + b / seeds + seed
    df = (seeds - 1) * (se2 / seed) ** 2 if seed > 0 else np.inf
    return float(stats.t.ppf(0.975, min(df, 1e9)) * np.sqrt(se2))


def seeds_needed(pair_sd: float, a: float, b: float, half: float, most: int = 1000) -> int | None:
    """The fewest seeds a side (2..most) for a half-width of at most `half`; None: none will do."""
    return next((n for n in range(2, most + 1) if half_width(pair_sd, a, b, n) <= half), None)


def study(root: Path, boot: BootstrapConfig, half: float) -> dict:
    if half <= 0:
        raise UserError(f"--half {100 * half:g}: must be above 0 (mAP points)")
    configs = configurations(root)
    common = sorted(set.intersection(*(set(v) for v in configs.values())))
    if len(common) < 2:
        raise UserError(f"{root}: its configurations share fewer than 2 seeds ({common})")
    from autoreid.evaluate.scores import read_scores

    scores = {c: [read_scores(v[k])["metrics"] for k in common] for c, v in configs.items()}
    q = _query_variances([[v[k] for k in common] for v in configs.values()], boot)
    out = {"folder": str(root), "configurations": sorted(configs), "seeds": common,
           "half": half, "metrics": {}}
    for i, name in enumerate(INTERVALS):
        values = np.array([[m[name] for m in scores[c]] for c in configs])
        d = decompose(values)
        pair_sd = float(np.sqrt(2) * d["residual_sd"])
        a, b = float(q["a"][i]), float(q["b"][i])
        d.update(query_sd=float(np.sqrt(q["single"][i])), pair_query_sd=float(np.sqrt(q["one"][i])),
                 pair_query_fixed_sd=float(np.sqrt(a)), pair_sd=pair_sd,
                 half_width={n: half_width(pair_sd, a, b, n) for n in SEEDS},
                 seeds_needed=seeds_needed(pair_sd, a, b, half))
        out["metrics"][name] = d
    return out


def report(r: dict) -> str:
    from autoreid.compare import LABELS

    lines = [f"{r['folder']}: {len(r['configurations'])} configurations x seeds {r['seeds']} "
             "(values in % points)"]
    for name, d in r["metrics"].items():
        effects = " ".join(f"{100 * e:+.1f}" for e in d["seed_effects"])
        need = d["seeds_needed"]
        lines += [f"{LABELS[name]}:",
                  f"  each seed's effect on every network (cancels when paired): {effects}",
                  f"  one training's sd from its seed: {100 * d['within_sd']:.2f} "
                  f"(df {d['within_df']}; seeds.sd); beyond the seeds' effect "
                  f"{100 * d['residual_sd']:.2f} (df {d['residual_df']})",
                  f"  queries: one evaluation's sd {100 * d['query_sd']:.2f}; a paired "
                  f"difference's {100 * d['pair_query_sd']:.2f} at one seed a side, "
                  f"{100 * d['pair_query_fixed_sd']:.2f} of it not averaging out over seeds "
                  "(medians over the pairs)",
                  "  a paired comparison's 95% half-width, by seeds a side: " + "  ".join(
                      f"{n}: {100 * h:.1f}" for n, h in d["half_width"].items()),
                  f"  seeds a side for +-{100 * r['half']:.1f}: "
                  + (str(need) if need else "over 1000")]
    return "\n".join(lines)
