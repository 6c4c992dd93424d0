"""Retrieval-based differentiable search (Alg. 1).

Alternate: a P x K batch of D_train updates the op weights omega (SGD, cosine lr); a P x K batch of
D_val updates the architecture weights alpha (Adam, step decay). Both steps use the chosen
loss: `softmax` (Ls: the "Baseline" search) or `retrieval` (Lret = λ Ls + (1-λ) Lt).
The step itself is `autoreid.search.step`. First-order by default; `order: second` uses the DARTS
unrolled gradient (finite-difference Hessian-vector product, virtual step with the current omega
learning rate).
A checkpoint is written after every epoch (and mid-epoch on SIGTERM/SIGUSR1); rerunning the same
command resumes from it, to the same architecture weights as an uninterrupted run on CPU.
"""
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
from autoreid.data.manifest import read_manifest
from autoreid.data.sampler import PKSampler
from autoreid.devices import describe
from autoreid.errors import UserError
from autoreid.io import save_config, write_json
from autoreid.loop import Loop, Ranks
from autoreid.models.build import ArchSpec, ReIDNet, build
from autoreid.runtime import Placement, Progress, file_digest, log
from autoreid.search.derive import derive, normalised_entropy, structure
from autoreid.search.regularizers import skip_weight
from autoreid.search.step import search_step


@dataclass(frozen=True)
class SearchConfig:
    space: str
    loss: str
    C: int
    layers: tuple[int, ...]
    nodes: int
    height: int
    width: int
    pad: int
    P: int
    K: int
    epochs: int
    lr: float
    lr_min: float
    momentum: float
    weight_decay: float
    grad_clip: float
    alpha_lr: float
    alpha_milestones: tuple[int, ...]
    alpha_gamma: float
    alpha_weight_decay: float
    alpha_betas: tuple[float, float]
    margin: float
    lam: float
    embedding: int
    dropout: float
    triplet_feature: str
    order: str
    regularizer: str  # none | beta | dartsminus (autoreid.search.regularizers)
    beta_weight: float  # β-DARTS' λ (regularizer beta)
    seed: int



def _to(batch, device: torch.device):
    """(images, labels) on `device`, copied without waiting; images channels-last, which the convs
    run faster on."""
    x, y = batch
    return x.to(device, memory_format=torch.channels_last, non_blocking=True), y.to(device, non_blocking=True)


def alpha_weights(model: ReIDNet) -> dict:
    sn = model.backbone
    return {"normal": torch.softmax(sn.alpha_normal.detach(), -1).cpu().tolist(),
            "reduce": torch.softmax(sn.alpha_reduce.detach(), -1).cpu().tolist()}


def convergence(weights: dict, op_names, nodes: int, previous: tuple | None) -> tuple[dict, tuple]:
    """The epoch's `alpha_entropy` (mean normalised entropy of the op weights over the edges; 1:
    uniform) and `genotype_changed` (1 when the cells derived now differ from `previous`'s)."""
    now = structure(derive(weights["normal"], weights["reduce"], op_names, nodes))
    return {"alpha_entropy": round(normalised_entropy(weights["normal"], weights["reduce"]), 5),
            "genotype_changed": int(now != previous)}, now


def stable_since(rows: list[dict]) -> int:
    """The first epoch from which the derived genotype no longer changed (to the last epoch)."""
    since = len(rows)
    while since > 1 and not rows[since - 1]["genotype_changed"]:
        since -= 1
    return rows[since - 1]["epoch"] if rows else 0


def search(split_file: str, out_dir: str, cfg: SearchConfig, where: Placement) -> dict:
    """Search's one entry (Alg. 1) on the split's D_train and D_val -> `out_dir`/alphas.json."""
    device = where.device
    precision = Precision(where.amp, device, log)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    data, halves = _halves(split_file, cfg, where.store, where.workers)
    spec = ArchSpec("supernet", data.num_classes, cfg.C, tuple(cfg.layers), space=cfg.space,
                    embedding=cfg.embedding, dropout=cfg.dropout,
                    aux_skip=cfg.regularizer == "dartsminus")
    torch.manual_seed(cfg.seed)
    model = build(spec).to(device, memory_format=torch.channels_last)
    sn = model.backbone
    w_params = sn.weight_parameters() + list(model.head.parameters())
    w_opt = optim.SGD(w_params, cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    w_sched = torch.optim.lr_scheduler.CosineAnnealingLR(w_opt, cfg.epochs, eta_min=cfg.lr_min)
    a_opt = optim.Adam(sn.arch_parameters(), cfg.alpha_lr, betas=tuple(cfg.alpha_betas),
                       weight_decay=cfg.alpha_weight_decay)
    a_sched = torch.optim.lr_scheduler.MultiStepLR(a_opt, list(cfg.alpha_milestones), cfg.alpha_gamma)

    config = {**as_dict(cfg), "amp": precision.mode,
              "input_digests": {"split": file_digest(split_file)}}
    loop = Loop("search", out, config, cfg.epochs,
                {"model": model, "w_opt": w_opt, "a_opt": a_opt, "w_sched": w_sched,
                 "a_sched": a_sched, "scaler": precision},
                fresh=lambda: {"loss_w": 0.0, "loss_alpha": 0.0}, kept=("history", "rows"),
                ranks=Ranks(device=device), reports=(precision.report,))
    loop.resume()
    save_config(out, {"split": str(split_file), **config, "compile": where.compile,
                      "devices": describe(device)}, cfg.seed)
    net = compiled(model, device, where.compile)  # the step's network: `model` or its compiled twin

    samplers = {s: PKSampler(half.labels, cfg.P, cfg.K, torch.Generator())
                for s, half in halves.items()}
    steps = min(len(samplers["train"]), len(samplers["val"]))
    progress = Progress("search", cfg.epochs, loop.start, steps)
    history, rows = loop.kept["history"], loop.rows
    last = history[-1] if history else alpha_weights(model)  # the previous epoch's genotype
    _, derived = convergence(last, sn.op_names, cfg.nodes, None)
    with loop:
        for epoch in loop.epochs_left():
            t0 = time.time()
            model.train()
            if spec.aux_skip:
                sn.skip_weight.fill_(skip_weight(epoch, cfg.epochs))
            first, sums = loop.begin(epoch)
            for step, (tb, vb) in enumerate(_batches(halves, samplers, cfg.seed, epoch, first, device),
                                            first):
                tb, vb = _to(tb, device), _to(vb, device)
                loss_w, loss_a = search_step(net, cfg, w_params, w_opt, a_opt, tb, vb,
                                             w_sched.get_last_lr()[0], precision)
                sums.add(step, loss_w=loss_w, loss_alpha=loss_a)
                progress.step(epoch, step, len(tb[1]) + len(vb[1]), **sums.recent)
                loop.after_step(epoch, step, steps, sums)
            seconds = time.time() - t0
            rows.append({"epoch": epoch + 1, "loss_w": sums["loss_w"] / steps,
                         "loss_alpha": sums["loss_alpha"] / steps, "lr": w_sched.get_last_lr()[0],
                         "alpha_lr": a_sched.get_last_lr()[0], "seconds": round(seconds, 3),
                         "images_per_s": round(steps * 2 * cfg.P * cfg.K / max(seconds, 1e-9), 1)})
            if spec.aux_skip:
                rows[-1]["skip_weight"] = round(float(sn.skip_weight), 6)
            w_sched.step()
            a_sched.step()
            history.append({"epoch": epoch + 1, **alpha_weights(model)})
            changes, derived = convergence(history[-1], sn.op_names, cfg.nodes, derived)
            rows[-1].update(changes)
            loop.end_epoch(epoch)

    result = _result(cfg, model, rows)
    write_json(out / "alpha_history.json", {"ops": list(sn.op_names), "epochs": history})
    write_json(out / "alphas.json", result)
    loop.finish()
    return result


def _halves(split_file: str, cfg: SearchConfig, store: str | None,
            workers: int) -> tuple[ImageSet, dict[str, ImageSet]]:
    """The split's images, and its halves D_train and D_val (each with at least P identities)."""
    records = read_manifest(split_file, splits=("train", "val"))
    data = ImageSet(records, cfg.height, cfg.width, cfg.pad, store, workers)
    halves = {s: data.subset([i for i, r in enumerate(records) if r.split == s])
              for s in ("train", "val")}
    for s, half in halves.items():
        if len(set(half.labels)) < cfg.P:
            raise UserError(f"{split_file}: D_{s} has fewer identities than P={cfg.P}")
    return data, halves


def _result(cfg: SearchConfig, model: ReIDNet, rows: list[dict]) -> dict:
    """alphas.json: the architecture weights at the end (raw and softmaxed) and how settled they are."""
    sn = model.backbone
    return {"space": cfg.space, "loss": cfg.loss, "regularizer": cfg.regularizer, "nodes": cfg.nodes,
            "ops": list(sn.op_names), "epochs": cfg.epochs,
            "alpha_entropy": rows[-1]["alpha_entropy"], "genotype_stable_since": stable_since(rows),
            **alpha_weights(model),
            "alpha_normal": sn.alpha_normal.detach().cpu().tolist(),
            "alpha_reduce": sn.alpha_reduce.detach().cpu().tolist()}


def _batches(halves: dict, samplers: dict, seed: int, epoch: int, first: int, device: torch.device):
    """The epoch's pairs of P x K batches, a D_train one and a D_val one, from step `first` on: each
    half has its own sampling and augmentation streams, seeded by the seed and the epoch (on a GPU,
    made there)."""
    for k, s in enumerate(("train", "val")):
        samplers[s].generator = torch.Generator().manual_seed(seed * 1000 + epoch * 2 + k)
    aug = {s: torch.Generator().manual_seed(seed * 1000 + epoch * 2 + k + 7919)
           for k, s in enumerate(("train", "val"))}
    return zip(halves["train"].batches(samplers["train"], aug["train"], first, gpu(device)),
               halves["val"].batches(samplers["val"], aug["val"], first, gpu(device)))
