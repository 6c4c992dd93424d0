"""Evaluation's one entry: a manifest's query and gallery embedded by a trained network (or taken
as raw pixels) into `features.h5`, then scored into `metrics.json` (and, re-ranked,
`metrics_rerank.json`), each with its details file beside it; or a given features file scored."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from autoreid.evaluate.bootstrap import BootstrapConfig
from autoreid.evaluate.metrics import EvaluateConfig
from autoreid.evaluate.rerank import RerankConfig
from autoreid.errors import UserError
from autoreid.runtime import Placement


@dataclass(frozen=True)
class Evaluation:
    """What an evaluation reads from the params besides its files."""
    evaluate: EvaluateConfig
    bootstrap: BootstrapConfig
    rerank: RerankConfig
    pixels: tuple[int, int]  # the raw-pixel baseline's input (train's height and width)


def embed_manifest(manifest: str, out: str | Path, job: Evaluation, where: Placement,
                   checkpoint: str | None) -> dict[str, int]:
    """The query and gallery features of `checkpoint` (None: raw pixels) on `manifest` -> `out`;
    the images are resized to the checkpoint's own input size."""
    from autoreid import extract as features

    if checkpoint is None:
        h, w = job.pixels
        return features.extract(manifest, features.pixels, out, {"model": "pixels", "input": [h, w]},
                                h, w, where.store, where.workers)
    from autoreid.amp import Precision
    from autoreid.models.build import load_checkpoint, model_from
    from autoreid.models.head import evaluation_feature

    ckpt = load_checkpoint(checkpoint)  # read once: the network and its input size
    model, spec = model_from(ckpt, checkpoint)
    cfg = ckpt.get("config", {})
    h, w = cfg.get("height"), cfg.get("width")
    if not (h and w):
        raise UserError(f"{checkpoint}: no input size stored (not written by `autoreid train`?)")
    model.to(where.device, memory_format=torch.channels_last)
    precision = Precision(where.amp, where.device)
    ev = job.evaluate
    feature = evaluation_feature(spec.neck, ev.feature)  # BNNeck's is its BN output, whatever ev says
    return features.extract(
        manifest, lambda images: features.embed(model, images, feature, where.device,
                                                ev.batch_size, precision),
        out, {"model": spec.name, "checkpoint": str(checkpoint), "feature": feature,
              "amp": precision.mode}, h, w, where.store, where.workers)


def score(features: str | Path, out: str | Path, job: Evaluation, reranked: bool) -> dict:
    """`features` scored (k-reciprocal re-ranked with `reranked`) -> `out` and its details file."""
    from autoreid.evaluate.scores import score as score_file

    return score_file(features, out, job.evaluate.metric, job.bootstrap,
                      job.rerank if reranked else None)


def evaluate(out_dir: str | Path, job: Evaluation, where: Placement, manifest: str,
             checkpoint: str | None, reranked: bool) -> dict[Path, dict]:
    """`checkpoint`'s (None: raw pixels') features into `out_dir`, scored there: metrics.json and,
    with `reranked`, metrics_rerank.json too (one job for both). Returns each file's metrics."""
    out_dir = Path(out_dir)
    features = out_dir / "features.h5"
    embed_manifest(manifest, features, job, where, checkpoint)
    scored = {out_dir / "metrics.json": score(features, out_dir / "metrics.json", job, False)}
    if reranked:
        out = out_dir / "metrics_rerank.json"
        scored[out] = score(features, out, job, True)
    return scored
