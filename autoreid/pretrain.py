"""ImageNet pre-training (§4.4): a derived network (or a ResNet) with a classification head on an
ImageNet-layout folder; its backbone weights initialise `autoreid train --init`. The recipe is
DARTS' for ImageNet: SGD with momentum, lr x `lr_decay` per epoch, label smoothing, and a
random-resized crop, flip and colour jitter (autoreid/data/resized_crop.py).

One process or many: under `torchrun` (WORLD_SIZE > 1) the model is wrapped in
DistributedDataParallel (gloo on CPU, NCCL on GPU), a DistributedSampler shards each epoch, rank 0
logs and writes checkpoints, and every rank resumes from the last one. After each epoch the ranks
compare a digest of their weights; they must agree (DDP keeps them in sync), and rank 0 logs them.
"""
from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from autoreid import optim
from autoreid.amp import Precision
from autoreid.config import as_dict
from autoreid.data.dataset import ImageSet, gpu
from autoreid.data.imagefolder import load_imagefolder
from autoreid.data.resized_crop import ResizedCrop
from autoreid.devices import describe
from autoreid.errors import UserError
from autoreid.io import atomic_path, save_config
from autoreid.loop import Loop, Ranks
from autoreid.models.build import arch_spec, build_backbone
from autoreid.runtime import Placement, Progress, log


@dataclass(frozen=True)
class PretrainConfig:
    epochs: int
    batch_size: int  # in all, over every rank
    lr: float
    lr_decay: float  # lr x this after every epoch
    warmup_epochs: int  # the lr ramps up linearly over these (a large batch's warm-up)
    momentum: float
    weight_decay: float
    label_smoothing: float
    height: int
    width: int
    scale: tuple[float, float]  # random-resized crop: fraction of the image's area
    jitter: float  # brightness, contrast, saturation x U[1 - jitter, 1 + jitter]
    hue: float  # hue turned by U[-hue, hue] of a full turn
    seed: int


class Classifier(nn.Module):
    def __init__(self, backbone: nn.Module, num_classes: int):
        super().__init__()
        self.backbone = backbone
        self.fc = nn.Linear(backbone.out_channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.backbone(x).mean(dim=(2, 3)))


def augmentation(cfg: PretrainConfig) -> ResizedCrop:
    """The training transform: random-resized crop to height x width, flip, colour jitter."""
    return ResizedCrop(tuple(cfg.scale), jitter=cfg.jitter, hue=cfg.hue)


def digest(model: nn.Module) -> float:
    """A fingerprint of the weights: equal on every rank when DDP keeps them in sync."""
    with torch.no_grad():
        return float(sum((p.double() * (i + 1)).sum() for i, p in enumerate(model.parameters())))


def _distributed(device: torch.device) -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not dist.is_initialized():
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return (dist.get_rank(), world) if world > 1 else (0, 1)


def pretrain(data_dir: str, arch: str, C: int, layers, out_dir: str, cfg: PretrainConfig,
             where: Placement, name: str | None = None) -> Path:
    """Pre-training's one entry: `arch`'s backbone (width C, stage depths `layers`) as an
    ImageNet classifier on `data_dir` -> `out_dir`/weights.pt; one rank of several under torchrun."""
    device, workers, amp = where.device, where.workers, where.amp
    records, classes = load_imagefolder(data_dir)
    spec = arch_spec(arch, len(classes), C, layers, name=name)
    rank, world = _distributed(device)  # `setup` put each rank on GPU LOCAL_RANK
    precision = Precision(amp, device, log if rank == 0 else None)
    if cfg.batch_size % world:
        raise UserError(f"pretrain: batch_size {cfg.batch_size} is not divisible by {world} ranks")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data = ImageSet(records, cfg.height, cfg.width, workers=workers, augmentation=augmentation(cfg))
    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    model = Classifier(build_backbone(spec), len(classes)).to(device,
                                                              memory_format=torch.channels_last)
    opt = optim.SGD(model.parameters(), cfg.lr, momentum=cfg.momentum,
                    weight_decay=cfg.weight_decay)
    sched = optim.schedule(opt, "exponential", cfg.epochs, gamma=cfg.lr_decay,
                           warmup_epochs=cfg.warmup_epochs)
    config = {"arch": arch, "genotype": spec.genotype, "C": C, "layers": list(layers),
              "classes": len(classes), "images": len(records), **as_dict(cfg),
              "amp": precision.mode}  # any world size resumes
    loop = Loop("pretrain", out, config, cfg.epochs,
                {"model": model, "opt": opt, "sched": sched, "scaler": precision},
                fresh=lambda: {"loss": 0.0, "correct": 0, "seen": 0}, extra={"world": world},
                rng=False, ranks=Ranks(rank, world, device), reports=(precision.report,))
    state = loop.resume()
    if state is not None and loop.skip and state.get("world") != world:
        log(f"[pretrain] the checkpoint is from {state['world']} ranks, this run has {world}: "
            f"the rest of epoch {loop.start + 1} is drawn for {world} ranks")
    if rank == 0:
        save_config(out, {"data": str(data_dir), "world_size": world, **config,
                          "devices": describe(device)}, cfg.seed)
    net = nn.parallel.DistributedDataParallel(model) if world > 1 else model

    sampler, batches = _shards(data_dir, len(data), cfg, rank, world)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    progress = Progress(f"pretrain {spec.name}", cfg.epochs, loop.start, len(batches))
    with loop:
        for epoch in loop.epochs_left():
            t0 = time.time()
            net.train()
            sampler.set_epoch(epoch)
            aug = torch.Generator().manual_seed(cfg.seed * 1000 + epoch * world + rank)
            first, sums = loop.begin(epoch)
            for step, (x, y) in enumerate(data.batches(batches, aug, first, gpu(device)), first):
                x = x.to(device, memory_format=torch.channels_last, non_blocking=True)
                y = y.to(device, non_blocking=True)
                optim.warm_up(opt, sched, cfg.warmup_epochs, epoch, step, len(batches))
                loss, logits = _step(net, opt, precision, loss_fn, x, y)
                sums.add(step, loss=loss, correct=(logits.argmax(1) == y).sum(), seen=len(y))
                if rank == 0:
                    progress.step(epoch, step, len(y) * world, loss=sums.recent.get("loss", math.nan))
                loop.after_step(epoch, step, len(batches), sums)
            digests = _digests(model, epoch, world)
            seconds = time.time() - t0
            loop.rows.append({"epoch": epoch + 1, "loss": sums["loss"] / len(batches),
                              "train_acc": sums["correct"] / sums["seen"],
                              "lr": sched.get_last_lr()[0], "seconds": round(seconds, 3),
                              "images_per_s": round(sums["seen"] * world / max(seconds, 1e-9), 1),
                              "ranks": world, "digests": " ".join(f"{d:.10g}" for d in digests)})
            sched.step()
            loop.end_epoch(epoch)
    if rank == 0:
        with atomic_path(out / "weights.pt") as tmp:
            torch.save({"spec": {**spec.to_dict(), "num_classes": 0}, "classes": classes,
                        "backbone": model.backbone.state_dict(), "config": config}, tmp)
    loop.finish()
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return out / "weights.pt"


def _shards(data_dir: str, images: int, cfg: PretrainConfig, rank: int, world: int):
    """This rank's share of each epoch (reshuffled every epoch), and its batches of it."""
    sampler = torch.utils.data.DistributedSampler(range(images), num_replicas=world, rank=rank,
                                                  shuffle=True, seed=cfg.seed, drop_last=True)
    batches = torch.utils.data.BatchSampler(sampler, cfg.batch_size // world, drop_last=True)
    if len(batches) == 0:
        raise UserError(f"{data_dir}: {images} images, fewer than one batch of {cfg.batch_size}")
    return sampler, batches


def _step(net: nn.Module, opt, precision: Precision, loss_fn, x: torch.Tensor,
          y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """One update of the weights on a batch of this rank's: the loss and the logits, on the device."""
    with precision.autocast():
        logits = net(x)
    loss = loss_fn(logits.float(), y)
    opt.zero_grad(set_to_none=True)
    precision.backward(loss)
    precision.step(opt)
    precision.update()
    return loss.detach(), logits


def _digests(model: nn.Module, epoch: int, world: int) -> list[float]:
    """Every rank's weight digest after `epoch` (gathered from all ranks): they must agree."""
    digests = [digest(model)]
    if world > 1:
        gathered = [None] * world
        dist.all_gather_object(gathered, digests[0])
        digests = gathered
    if max(digests) - min(digests) > 1e-6 * max(1.0, abs(digests[0])):
        raise RuntimeError(f"pretrain: ranks out of sync after epoch {epoch + 1}: {digests}")
    return digests
