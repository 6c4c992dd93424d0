"""Retraining a network (searched, published or ResNet) on the full training set (§4.2):
retrieval loss, P x K class-balance batches, Adam with step decay. A checkpoint after every epoch
(and mid-epoch on SIGTERM/SIGUSR1) is resumed by rerunning the same command, to the same weights as
an uninterrupted run on CPU; the per-epoch log (loss, lr, time) is a CSV."""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import torch

from autoreid import optim
from autoreid.amp import Precision
from autoreid.config import as_dict
from autoreid.data.dataset import ImageSet
from autoreid.data.manifest import read_manifest
from autoreid.data.sampler import PKSampler
from autoreid.devices import describe
from autoreid.errors import UserError
from autoreid.io import save_config, write_json
from autoreid.live import epoch_end
from autoreid.live import save as save_epochs
from autoreid.losses import objective_loss
from autoreid.models.build import arch_spec, build, save_model
from autoreid.models.weights import load_pretrained
from autoreid.runtime import (
    Progress,
    StopRequest,
    check_finite,
    config_hash,
    file_digest,
    load_resumable,
    log,
    save_checkpoint,
)


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
    seed: int


def train(manifest: str, arch: str, out_dir: str, cfg: TrainConfig, device: torch.device,
          name: str | None = None, store: str | None = None, workers: int = 0,
          init: str | None = None, eval_feature: str = "f", amp: str = "off") -> Path:
    precision = Precision(amp, device, log)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    arch_spec(arch, 0, cfg.C, cfg.layers, cfg.embedding, cfg.dropout, head=cfg.head)  # fail early
    if cfg.loss not in ("retrieval", "softmax"):
        raise UserError(f"train: loss must be retrieval or softmax, got {cfg.loss!r}")
    if cfg.init not in ("none", "imagenet"):
        raise UserError(f"train: init must be none or imagenet, got {cfg.init!r}")
    if cfg.init == "imagenet" and not init:
        raise UserError("train: this setting starts from ImageNet weights: give --init WEIGHTS "
                        "(from `autoreid pretrain`, or `torchvision` for cached ResNet weights)")
    records = [r for r in read_manifest(manifest) if r.split == "train"]
    if not records:
        raise UserError(f"{manifest}: no training images (split 'train')")
    data = ImageSet(records, cfg.height, cfg.width, cfg.pad, store, workers)
    if data.num_classes < cfg.P:
        raise UserError(f"{manifest}: {data.num_classes} training identities, fewer than P={cfg.P}")
    spec = arch_spec(arch, data.num_classes, cfg.C, cfg.layers, cfg.embedding, cfg.dropout, name,
                     cfg.head)
    torch.manual_seed(cfg.seed)
    model = build(spec)
    if init:
        load_pretrained(model, spec, init)
    model.to(device, memory_format=torch.channels_last)  # faster convs on CPU and GPU
    opt = optim.Adam(model.parameters(), cfg.lr, betas=tuple(cfg.betas),
                           weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, list(cfg.milestones), cfg.gamma)

    config = {"arch": arch, "genotype": spec.genotype, "init_weights": init, **as_dict(cfg),
              "amp": precision.mode,
              "input_digests": {"manifest": file_digest(manifest), "init": file_digest(init)}}
    ckpt_path = out / "checkpoint.pt"
    start, skip, total, rows = 0, 0, 0.0, []
    state = load_resumable(ckpt_path, config)
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        sched.load_state_dict(state["sched"])
        precision.load_state_dict(state.get("scaler", {}))
        torch.set_rng_state(state["rng"])
        start, skip, rows = state["epoch"], state.get("step", 0), state["rows"]
        total = state.get("total", 0.0)
        log(f"[train] resuming from {ckpt_path} at epoch {start + 1} step {skip + 1}")
    save_config(out, {"manifest": str(manifest), **config, "devices": describe(device)}, cfg.seed)

    def checkpoint(epoch: int, step: int, total: float) -> None:
        """`epoch` epochs and `step` steps of the next one done; `total`: its loss so far."""
        save_checkpoint(ckpt_path, {"config_hash": config_hash(config), "epoch": epoch,
                                    "step": step, "total": total, "model": model.state_dict(),
                                    "opt": opt.state_dict(), "sched": sched.state_dict(),
                                    "scaler": precision.state_dict(),
                                    "rng": torch.get_rng_state(), "rows": rows})

    sampler = PKSampler(data.labels, cfg.P, cfg.K, torch.Generator())
    progress = Progress(f"train {spec.name}", cfg.epochs, start, len(sampler))
    started = time.time()
    with StopRequest("train") as stop:
        for epoch in range(start, cfg.epochs):
            t0 = time.time()
            model.train()
            sampler.generator = torch.Generator().manual_seed(cfg.seed * 1000 + epoch)
            aug = torch.Generator().manual_seed(cfg.seed * 1000 + epoch + 7919)
            first = skip if epoch == start else 0
            total = total if epoch == start else 0.0
            for step, (x, y) in enumerate(data.batches(sampler, aug, first), first):
                x, y = x.to(device, memory_format=torch.channels_last), y.to(device)
                with precision.autocast():
                    outputs = model(x)
                loss = objective_loss(outputs, y, cfg.loss, cfg.lam, cfg.margin, cfg.triplet_feature)
                opt.zero_grad(set_to_none=True)
                precision.backward(loss)
                precision.step(opt)
                precision.update()
                value = loss.item()
                check_finite("train", value, epoch, step, ckpt_path)
                total += value
                progress.step(epoch, step, len(y), loss=value)
                if stop.requested and step + 1 < len(sampler):
                    checkpoint(epoch, step + 1, total)
                    stop.stop(ckpt_path, f"at epoch {epoch + 1} step {step + 1}")
            seconds = time.time() - t0
            row = {"epoch": epoch + 1, "loss": total / len(sampler), "lr": sched.get_last_lr()[0],
                   "seconds": round(seconds, 3),
                   "images_per_s": round(len(sampler) * cfg.P * cfg.K / max(seconds, 1e-9), 1),
                   "mAP": "", "rank1": ""}
            if cfg.eval_every and ((epoch + 1) % cfg.eval_every == 0 or epoch + 1 == cfg.epochs):
                row.update(_validate(model, manifest, cfg, device, store, workers, eval_feature,
                                     precision))
                model.train()
            rows.append(row)
            sched.step()
            checkpoint(epoch + 1, 0, 0.0)
            epoch_end(out, f"train {spec.name}", rows, cfg.epochs, started, start)
            if stop.requested and epoch + 1 < cfg.epochs:
                stop.stop(ckpt_path, f"after epoch {epoch + 1}")
    save_epochs(out, rows)
    save_model(out / "model.pt", model.cpu(), spec, {"config": config})
    write_json(out / "summary.json", {
        "name": spec.name, "params_M": round(sum(p.numel() for p in model.parameters()) / 1e6, 4),
        "epochs": cfg.epochs, "final_loss": rows[-1]["loss"] if rows else None,
        "seconds": round(sum(r["seconds"] for r in rows), 1)})
    ckpt_path.unlink(missing_ok=True)  # done: nothing to resume
    return out / "model.pt"


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
