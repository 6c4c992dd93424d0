"""The model card: `model.yaml` beside every `model.pt` — what the network is (architecture and
genotype, parameters and FLOPs at its input), what it takes (input size, channels, range,
normalisation) and gives (feature, dimension), how it was trained (the training config) and how
it scored (its evaluation). `autoreid train` writes it; `autoreid evaluate --card` (the
pipeline's evaluate job) writes it again with the evaluation's metrics."""
from __future__ import annotations

from pathlib import Path

from autoreid.io import write_yaml
from autoreid.models.build import load_checkpoint, model_from

METRICS = ("mAP", "mAP_ci95", "rank1", "rank1_ci95", "rank5", "rank10", "mINP", "mINP_ci95",
           "num_query", "num_gallery", "metric")


def card(model_path: str | Path, evaluation: dict | None = None) -> dict:
    from autoreid.complexity import multiply_adds
    from autoreid.use.model import Model

    ckpt = load_checkpoint(model_path)
    model = Model(*model_from(ckpt, model_path), ckpt, model_path)
    net, spec, given = model.net, model.spec, model.input
    # counted on the CPU, not the meta device: its decompositions import torch._dynamo (~1 s)
    macs = multiply_adds(net, given["height"], given["width"])
    config = {k: v for k, v in ckpt.get("config", {}).items() if k != "input_digests"}
    return {
        "name": spec.name, "checkpoint": Path(model_path).name,
        "architecture": {"arch": spec.arch, "genotype": spec.genotype, "C": spec.C,
                         "layers": list(spec.layers), "head": spec.head, "neck": spec.neck,
                         "pool": spec.pool, "embedding": spec.embedding, "classes": spec.num_classes},
        "input": given,
        "output": {"feature": model.feature, "dim": model.dim, "normalised": False},
        "params_M": round(sum(p.numel() for p in net.parameters()) / 1e6, 6),
        "flops_G": round(macs / 1e9, 6),
        "training": config,
        "evaluation": evaluation or {"source": "none yet: `autoreid evaluate --checkpoint "
                                                "model.pt --manifest M --out-dir D --card` adds it"},
        "use": "autoreid.load_model(path).embed(images); autoreid export; autoreid query",
    }


def write_card(model_path: str | Path, evaluation: dict | None = None) -> Path:
    """`model.yaml` beside `model_path` (written whole, then renamed into place)."""
    out = Path(model_path).with_name("model.yaml")
    write_yaml(out, card(model_path, evaluation))
    return out


def evaluation_of(metrics: dict, metrics_path: str | Path, reranked: dict | None = None) -> dict:
    """The card's `evaluation`: an evaluation's headline metrics and where they are."""
    out = {"source": str(metrics_path), **{k: _plain(metrics[k]) for k in METRICS if k in metrics}}
    if reranked:
        out["reranked"] = {k: _plain(reranked[k]) for k in METRICS if k in reranked}
    return out


def _plain(v):
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if hasattr(v, "item"):
        return v.item()
    return round(v, 6) if isinstance(v, float) else v
