"""Retraining a network (searched, published or ResNet) on the full training set (§4.2):
retrieval loss, P x K class-balance batches, Adam with step decay. Each ingredient of a modern
recipe is a key of its own (BNNeck `neck`, GeM `pool`, random `erasing`, a linear `warmup_epochs`,
`label_smoothing`, a cosine `schedule`), all off in the paper's settings (docs/beyond.md).
A checkpoint after every epoch (and mid-epoch on SIGTERM/SIGUSR1) is resumed by rerunning the
same command, to the same weights as an uninterrupted run on CPU; the per-epoch log (loss, lr,
time) is a CSV."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from autoreid import optim
from autoreid.amp import Precision
from autoreid.compiled import compiled
from autoreid.config import as_dict
from autoreid.data.dataset import ImageSet, gpu
from autoreid.data.images import PadCrop, input_spec
from autoreid.data.manifest import read_manifest
from autoreid.data.sampler import PKSampler
from autoreid.devices import describe
from autoreid.errors import UserError
from autoreid.io import save_config, write_json
from autoreid.loop import Loop, Ranks
from autoreid.losses import objective_loss
from autoreid.models.build import arch_spec, build, save_model
from autoreid.models.head import evaluation_feature
from autoreid.optim import schedule, warm_up
from autoreid.models.weights import load_pretrained
from autoreid.runtime import Placement, Progress, file_digest, log
from autoreid.use.card import write_card


@dataclass(frozen=True)
class TrainConfig:
    C: int
    layers: tuple[int, ...]
    height: int
    width: int
    pad: int
    P: int
    K: int
    epochs: int
    lr: float
    milestones: tuple[int, ...]
    gamma: float
    weight_decay: float
    betas: tuple[float, float]
    margin: float
    lam: float
    embedding: int
    dropout: float
    triplet_feature: str
    head: str
    loss: str  # retrieval: λ Ls + (1-λ) Lt; softmax: Ls (per stripe under PCB)
    init: str  # none | imagenet: the backbone starts from `--init` weights
    eval_every: int  # score the query/gallery every n epochs (and at the end) for the curves
    neck: str  # none | bnneck: triplet before a BN, softmax after it, the BN output tested
    pool: str  # avg | gem (generalised mean, p learnt)
    erasing: float  # probability of random erasing an image (autoreid.data.images.Erasing)
    warmup_epochs: int  # the lr ramps linearly, step by step, over these first epochs
    label_smoothing: float  # the softmax loss's target: (1 - ε) one-hot + ε / classes
    schedule: str  # step (milestones x gamma) | cosine (to 0 over the epochs, after the warm-up)
    seed: int


def train(manifest: str, arch: str, out_dir: str, cfg: TrainConfig, where: Placement,
          name: str | None = None, init: str | None = None, eval_feature: str = "f") -> Path:
    """Training's one entry: `arch` on the manifest's training split -> `out_dir`/model.pt;
    `init`: the weights the backbone starts from, `eval_feature`: the feature its curves score."""
    device, store, workers = where.device, where.store, where.workers
    precision = Precision(where.amp, device, log)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    _check(arch, cfg, init)
    records = [r for r in read_manifest(manifest) if r.split == "train"]
    if not records:
        raise UserError(f"{manifest}: no training images (split 'train')")
    data = ImageSet(records, cfg.height, cfg.width, cfg.pad, store, workers,
                    augmentation=PadCrop(cfg.pad, cfg.erasing, cfg.height, cfg.width))
    if data.num_classes < cfg.P:
        raise UserError(f"{manifest}: {data.num_classes} training identities, fewer than P={cfg.P}")
    spec = arch_spec(arch, data.num_classes, cfg.C, cfg.layers, cfg.embedding, cfg.dropout, name,
                     cfg.head, cfg.neck, cfg.pool)
    eval_feature = evaluation_feature(cfg.neck, eval_feature)
    torch.manual_seed(cfg.seed)
    model = build(spec)
    if init:
        load_pretrained(model, spec, init)
    model.to(device, memory_format=torch.channels_last)  # faster convs on CPU and GPU
    opt = optim.Adam(model.parameters(), cfg.lr, betas=tuple(cfg.betas),
                     weight_decay=cfg.weight_decay)
    sched = schedule(opt, cfg.schedule, cfg.epochs, cfg.milestones, cfg.gamma, cfg.warmup_epochs)

    config = {"arch": arch, "genotype": spec.genotype, "init_weights": init, **as_dict(cfg),
              "amp": precision.mode,
              "input_digests": {"manifest": file_digest(manifest), "init": file_digest(init)}}
    loop = Loop("train", out, config, cfg.epochs,
                {"model": model, "opt": opt, "sched": sched, "scaler": precision},
                label=f"train {spec.name}", fresh=lambda: {"loss": 0.0}, ranks=Ranks(device=device),
                reports=(precision.report,))
    loop.resume()
    save_config(out, {"manifest": str(manifest), **config, "compile": where.compile,
                      "devices": describe(device)}, cfg.seed)
    net = compiled(model, device, where.compile)  # the step's network: `model` or its compiled twin

    sampler = PKSampler(data.labels, cfg.P, cfg.K, torch.Generator())
    progress = Progress(f"train {spec.name}", cfg.epochs, loop.start, len(sampler))
    with loop:
        for epoch in loop.epochs_left():
            t0 = time.time()
            model.train()
            sampler.generator = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
            aug = torch.Generator().manual_seed(cfg.seed * 1000 + epoch + 7919)
            first, sums = loop.begin(epoch)
            for step, (x, y) in enumerate(data.batches(sampler, aug, first, gpu(device)), first):
                warm_up(opt, sched, cfg.warmup_epochs, epoch, step, len(sampler))
                sums.add(step, loss=_step(net, opt, precision, cfg, x, y, device))
                progress.step(epoch, step, len(y), **sums.recent)
                loop.after_step(epoch, step, len(sampler), sums)
            seconds = time.time() - t0
            row = {"epoch": epoch + 1, "loss": sums["loss"] / len(sampler), "lr": sched.get_last_lr()[0],
                   "seconds": round(seconds, 3),
                   "images_per_s": round(len(sampler) * cfg.P * cfg.K / max(seconds, 1e-9), 1),
                   "mAP": "", "rank1": ""}
            if cfg.eval_every and ((epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs):
                row.update(_validate(model, manifest, cfg, device, store, workers, eval_feature,
                                     precision))
                model.train()
            loop.rows.append(row)
            sched.step()
            loop.end_epoch(epoch)
    save_model(out / "model.pt", model.cpu(), spec,
               {"config": config, "input": input_spec(cfg.height, cfg.width), "feature": eval_feature})
    write_card(out / "model.pt", _validated(loop.rows))
    write_json(out / "summary.json", {
        "name": spec.name, "params_M": round(sum(p.numel() for p in model.parameters()) / 1e6, 4),
        "epochs": cfg.epochs, "final_loss": loop.rows[-1]["loss"] if loop.rows else None,
        "seconds": round(sum(r["seconds"] for r in loop.rows), 1)})
    loop.finish()
    return out / "model.pt"


def _validated(rows: list[dict]) -> dict | None:
    """The last validation of the training log (eval_every), for the model card."""
    scored = [r for r in rows if r.get("mAP") not in ("", None)]
    if not scored:
        return None
    last = scored[-1]
    return {"source": "training's validation (eval_every), last scored epoch",
            "epoch": int(last["epoch"]), "mAP": float(last["mAP"]), "rank1": float(last["rank1"])}


def _check(arch: str, cfg: TrainConfig, init: str | None) -> None:
    """Refuse a setting that cannot train before any data is read."""
    arch_spec(arch, 0, cfg.C, cfg.layers, cfg.embedding, cfg.dropout, head=cfg.head, neck=cfg.neck,
              pool=cfg.pool)
    if cfg.init == "imagenet" and not init:
        raise UserError("train: this setting starts from ImageNet weights: give --weights FILE "
                        "(from `autoreid pretrain`, or `torchvision` for cached ResNet weights)")


def _step(model, opt, precision: Precision, cfg: TrainConfig, x: torch.Tensor, y: torch.Tensor,
          device: torch.device) -> torch.Tensor:
    """One update of the weights on a P x K batch: the training loss (§4.2), on the device."""
    x = x.to(device, memory_format=torch.channels_last, non_blocking=True)
    y = y.to(device, non_blocking=True)
    with precision.autocast():
        outputs = model(x)
    loss = objective_loss(outputs, y, cfg.loss, cfg.lam, cfg.margin, cfg.triplet_feature,
                          cfg.label_smoothing)
    opt.zero_grad(set_to_none=True)
    precision.backward(loss)
    precision.step(opt)
    precision.update()
    return loss.detach()


def _validate(model, manifest: str, cfg: TrainConfig, device, store, workers, feature,
              precision) -> dict:
    """mAP and rank-1 on the query/gallery split, for the training curves."""
    from autoreid.extract import embed
    from autoreid.evaluate.metrics import evaluate

    records = read_manifest(manifest)
    sets = {}
    for split in ("query", "gallery"):
        rs = [r for r in records if r.split == split]
        images = ImageSet(rs, cfg.height, cfg.width, store=store, workers=workers)
        sets[split] = (embed(model, images, feature, device, precision=precision), rs)
    (qf, q), (gf, g) = sets["query"], sets["gallery"]
    m = evaluate(qf, [r.pid for r in q], [r.camid for r in q], gf, [r.pid for r in g],
                 [r.camid for r in g])
    return {"mAP": round(m["mAP"], 5), "rank1": round(m["rank1"], 5)}
