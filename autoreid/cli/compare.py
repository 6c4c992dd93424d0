"""`autoreid compare|noise`: the difference between two configurations with its 95% interval and a
verdict, and where a study's noise comes from (the seeds a paired comparison needs)."""
from __future__ import annotations

from pathlib import Path

from autoreid.cli.options import add_params, config


def compare(a) -> None:
    from autoreid.compare import compare as run, expand, report
    from autoreid.io import write_json

    name = "metrics_rerank.json" if a.rerank else "metrics.json"
    result = run(expand(a.A, name), expand(a.B, name), config(a, "bootstrap"), config(a, "seeds"))
    if a.out:
        write_json(a.out, result)
    print(report(result))


def noise(a) -> None:
    from autoreid.io import write_json
    from autoreid.noise import report, study

    result = study(Path(a.folder), config(a, "bootstrap"), a.half / 100)
    if a.out:
        write_json(a.out, result)
    print(report(result))


def add_parser(sub) -> None:
    s = sub.add_parser("compare", help="B - A in mAP, R1 and mINP with a 95%% interval and a "
                       "verdict: two evaluations, or two sets of them (seeds)")
    for side in ("A", "B"):
        s.add_argument(side, help="an evaluation folder (metrics.json and metrics.details.json), "
                       "several separated by commas, a quoted glob, or a folder of seed<k>/ "
                       "evaluations: the seeds of one configuration")
    s.add_argument("--rerank", action="store_true",
                   help="compare the re-ranked metrics (metrics_rerank.json) (default: plain)")
    s.add_argument("--out", help="JSON file to write the comparison to (default: print only)")
    add_params(s, "seeds", "`bootstrap` and `seeds` sections (seeds.sd: the seed noise assumed "
               "when each side has one training)")
    s.set_defaults(func=compare)

    s = sub.add_parser("noise", help="where a study's noise comes from (seeds, queries) and how "
                       "many seeds a paired comparison needs for a given interval")
    s.add_argument("folder", help="configurations of one benchmark and setting, each a folder of "
                   "seed<k>/ evaluations (e.g. results/study/evaluate/market1501/scratch)")
    s.add_argument("--half", type=float, required=True,
                   help="the 95%% half-width to size for, in mAP points (1.5: a 3-point "
                   "difference resolved)")
    s.add_argument("--out", help="JSON file to write the study to (default: print only)")
    add_params(s, "bootstrap", "`bootstrap` section")
    s.set_defaults(func=noise)
