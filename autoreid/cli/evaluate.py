"""`autoreid extract|evaluate`: a manifest's query and gallery embedded into a features file, and
features scored (CMC, mAP, mINP with 95% intervals; k-reciprocal re-ranking)."""
from __future__ import annotations

from pathlib import Path

from autoreid.cli.options import add_params, add_runtime, beside, config, record, setup
from autoreid.errors import UserError


def job(a):
    """What the evaluation reads from the params (autoreid.evaluate.stage.Evaluation)."""
    from autoreid.evaluate.stage import Evaluation

    net = config(a, "train")
    return Evaluation(config(a, "evaluate"), config(a, "bootstrap"), config(a, "rerank"),
                      (net.height, net.width))


def _line(m: dict, out) -> str:
    lo, hi = m["mAP_ci95"]
    return (f"mAP {100 * m['mAP']:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]  R1 {100 * m['rank1']:.1f}  "
            f"R5 {100 * m['rank5']:.1f}  R10 {100 * m['rank10']:.1f}  mINP {100 * m['mINP']:.1f}  "
            f"-> {out}")


def extract(a) -> None:
    from autoreid.evaluate.stage import embed_manifest

    if not (a.checkpoint or a.pixels):
        raise UserError("give --checkpoint MODEL.pt (or --pixels)")
    n = embed_manifest(a.manifest, a.out, job(a), setup(a), None if a.pixels else a.checkpoint)
    print(f"features ({n['query']} query, {n['gallery']} gallery) -> {a.out}")
    record(a, beside(a.out))


def evaluate(a) -> None:
    """Given features (--features, --out), or a model's or raw pixels' own (--out-dir): extracted
    there first, then scored beside them (and re-ranked there too with --rerank)."""
    from autoreid.evaluate.stage import evaluate as run, score

    if a.features:
        if not a.out:
            raise UserError("--features is scored into one file: give --out METRICS.json")
        print(_line(score(a.features, a.out, job(a), a.rerank), a.out))
        record(a, beside(a.out))
        return
    if not (a.out_dir and a.manifest):
        raise UserError("--checkpoint and --pixels embed a manifest's query and gallery into a "
                        "folder: give --manifest and --out-dir")
    if a.card and not a.checkpoint:
        raise UserError("--card writes the model card beside --checkpoint: give --checkpoint")
    checkpoint = None if a.pixels else a.checkpoint
    scored = run(a.out_dir, job(a), setup(a), a.manifest, checkpoint, a.rerank)
    for out, m in scored.items():
        print(_line(m, out))
    record(a, Path(a.out_dir) / "config.yaml")
    if a.card:
        from autoreid.use.card import evaluation_of, write_card

        (plain, m), *reranked = scored.items()
        card = write_card(a.checkpoint, evaluation_of(m, plain, reranked[0][1] if reranked else None))
        print(f"model card -> {card}")


def add_parser(sub) -> None:
    s = sub.add_parser("extract", help="features of the query and gallery -> features.h5")
    s.add_argument("--manifest", required=True, help="manifest.csv (its query and gallery)")
    s.add_argument("--out", required=True, help="features .h5 to write")
    s.add_argument("--checkpoint", help="model.pt from `autoreid train` (default: none; required "
                   "without --pixels)")
    s.add_argument("--pixels", action="store_true", help="raw pixels at the `train` section's "
                   "height and width instead of a network")
    add_params(s, "evaluate", "`evaluate` section")
    add_runtime(s)
    s.set_defaults(func=extract)

    s = sub.add_parser("evaluate", help="query and gallery -> metrics.json (CMC, mAP, mINP): of "
                       "given features, or of a model (or raw pixels) in one process")
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--features", help="features .h5 to score (from `autoreid extract` or any "
                        "model) (default: none; one of --features, --checkpoint, --pixels)")
    source.add_argument("--checkpoint", help="model.pt from `autoreid train`: extract its features "
                        "into --out-dir, then score them (default: none)")
    source.add_argument("--pixels", action="store_true", help="raw pixels at the `train` "
                        "section's height and width instead of a network")
    s.add_argument("--manifest", help="manifest.csv whose query and gallery --checkpoint or "
                   "--pixels embeds (default: none)")
    out = s.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", help="metrics .json to write (with --features; --rerank: the "
                     "re-ranked metrics) (default: none; one of --out, --out-dir)")
    out.add_argument("--out-dir", help="folder to write features.h5 (from --checkpoint or "
                     "--pixels), metrics.json and, with --rerank, metrics_rerank.json in "
                     "(default: none)")
    s.add_argument("--rerank", action="store_true", help="k-reciprocal re-ranking (Zhong et al. "
                   "2017) with the params' `rerank` section")
    s.add_argument("--card", action="store_true", help="write the model card (model.yaml beside "
                   "--checkpoint) again, with these metrics")
    add_params(s, "evaluate", "`evaluate`, `rerank` and `bootstrap` sections")
    add_runtime(s)
    s.set_defaults(func=evaluate)
