"""`autoreid figures curves|ranked|sweep`: training curves from logs, ranked lists from features, a
sweep from DVC experiments."""
from __future__ import annotations

from pathlib import Path

from autoreid.cli.options import add_params, config
from autoreid.errors import UserError


def curves(a) -> None:
    from autoreid import figures

    labels = a.labels or [Path(p).parent.name for p in a.logs]
    if len(labels) != len(a.logs):
        raise UserError("figures curves: --labels must name every --logs file")
    figures.curves(a.logs, labels, a.out)
    print(f"figure -> {a.out}")


def ranked(a) -> None:
    from autoreid import figures

    cfg = config(a, "figures")
    figures.ranked(a.features, a.out, cfg.queries, cfg.top)
    print(f"figure -> {a.out}")


def sweep(a) -> None:
    from autoreid import sweep as experiments

    pts = experiments.points(experiments.experiments(), a.param, a.metric)
    print(experiments.draw(pts, a.param, a.metric, a.out))
    print(f"figure -> {a.out}")


def add_parser(sub) -> None:
    figures = sub.add_parser("figures", help="training curves from logs, ranked lists from features, "
                             "a sweep from DVC experiments")
    fsub = figures.add_subparsers(dest="kind", required=True, metavar="<figure>")
    s = fsub.add_parser("curves", help="loss and mAP per epoch of some runs")
    s.add_argument("--logs", nargs="+", required=True, help="per-epoch log.csv files")
    s.add_argument("--labels", nargs="+", help="one label per log (default: each log's folder)")
    s.add_argument("--out", required=True, help="image to write (.png/.pdf/.svg)")
    s.set_defaults(func=curves)
    s = fsub.add_parser("ranked", help="the top matches of some queries")
    s.add_argument("--features", required=True, help="features.h5 (image paths are read from it)")
    s.add_argument("--out", required=True, help="image to write (.png/.pdf/.svg)")
    add_params(s, "figures", "`figures` section (queries, top)")
    s.set_defaults(func=ranked)
    s = fsub.add_parser("sweep", help="a metric against a swept params key, over the DVC "
                        "experiments here (a table beside the figure)")
    s.add_argument("--param", required=True, metavar="[FILE:]KEY",
                   help="the swept key, e.g. params/default.yaml:search_variants.retrieval_reid.lam")
    s.add_argument("--metric", required=True, metavar="[FILE:]KEY",
                   help="e.g. results/tiny/tables/table1.json:Retrieval + ReID Search Space.best mAP")
    s.add_argument("--out", required=True, help="image to write (.png/.pdf/.svg); the table goes "
                   "beside it as .md")
    s.set_defaults(func=sweep)
