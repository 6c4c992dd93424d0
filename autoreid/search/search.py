"""Retrieval-based differentiable search (Alg. 1).

Alternate: a P x K batch of D_train updates the op weights omega (SGD, cosine lr); a P x K batch of
D_val updates the architecture weights alpha (Adam, step decay). Both steps use the chosen
objective: `softmax` (Ls: the "Baseline" search) or `retrieval` (Lret = λ Ls + (1-λ) Lt).
The step itself is `autoreid.search.step`. First-order by default; `order: second` uses the DARTS
unrolled gradient (finite-difference Hessian-vector product, virtual step with the current omega
learning rate).
A checkpoint is written after every epoch (and mid-epoch on SIGTERM/SIGUSR1); rerunning the same
command resumes from it, to the same architecture weights as an uninterrupted run on CPU.
"""
from __future__ import annotations

import math
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
from autoreid.models.build import ArchSpec, ReIDNet, build
from autoreid.runtime import (Progress, StopRequest, config_hash, file_digest, load_resumable,
                              log, save_checkpoint)
from autoreid.search.derive import derive, normalised_entropy, structure
from autoreid.search.step import search_step


@dataclass(frozen=True)
class SearchConfig:
    space: str
    objective: str
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
    seed: int

    def check(self) -> None:
        if self.space not in ("standard", "reid"):
            raise UserError(f"search: space must be standard or reid, got {self.space!r}")
        if self.objective not in ("softmax", "retrieval"):
            raise UserError(f"search: objective must be softmax or retrieval, got {self.objective!r}")
        if self.order not in ("first", "second"):
            raise UserError(f"search: order must be first or second, got {self.order!r}")


def _to(batch, device: torch.device):
    """(images, labels) on `device`; images channels-last, which the convs run faster on."""
    x, y = batch
    return x.to(device, memory_format=torch.channels_last), y.to(device)


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


def search(split_file: str, out_dir: str, cfg: SearchConfig, device: torch.device,
           store: str | None = None, workers: int = 0, amp: str = "off") -> dict:
    cfg.check()
    precision = Precision(amp, device, log)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    records = read_manifest(split_file, splits=("train", "val"))
    data = ImageSet(records, cfg.height, cfg.width, cfg.pad, store, workers)
    halves = {s: data.subset([i for i, r in enumerate(records) if r.split == s])
              for s in ("train", "val")}
    for s, half in halves.items():
        if len(set(half.labels)) < cfg.P:
            raise UserError(f"{split_file}: D_{s} has fewer identities than P={cfg.P}")

    spec = ArchSpec("supernet", data.num_classes, cfg.C, tuple(cfg.layers), space=cfg.space,
                    embedding=cfg.embedding, dropout=cfg.dropout)
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
    ckpt_path = out / "checkpoint.pt"
    start, skip, sums, history, rows = 0, 0, None, [], []
    state = load_resumable(ckpt_path, config)
    if state is not None:
        model.load_state_dict(state["model"])
        w_opt.load_state_dict(state["w_opt"]), a_opt.load_state_dict(state["a_opt"])
        w_sched.load_state_dict(state["w_sched"]), a_sched.load_state_dict(state["a_sched"])
        precision.load_state_dict(state.get("scaler", {}))
        torch.set_rng_state(state["rng"])
        start, skip, sums = state["epoch"], state.get("step", 0), state.get("sums")
        history, rows = state["history"], state["rows"]
        log(f"[search] resuming from {ckpt_path} at epoch {start + 1} step {skip + 1}")
    save_config(out, {"split": str(split_file), **config, "devices": describe(device)}, cfg.seed)

    def checkpoint(epoch: int, step: int, sums: dict | None) -> None:
        """`epoch` epochs and `step` steps of the next one done; `sums`: its losses so far."""
        save_checkpoint(ckpt_path, {
            "config_hash": config_hash(config), "epoch": epoch, "step": step, "sums": sums,
            "model": model.state_dict(), "w_opt": w_opt.state_dict(), "a_opt": a_opt.state_dict(),
            "w_sched": w_sched.state_dict(), "a_sched": a_sched.state_dict(),
            "scaler": precision.state_dict(), "rng": torch.get_rng_state(), "history": history,
            "rows": rows})

    samplers = {s: PKSampler(half.labels, cfg.P, cfg.K, torch.Generator())
                for s, half in halves.items()}
    steps = min(len(samplers["train"]), len(samplers["val"]))
    progress = Progress("search", cfg.epochs, start, steps)
    last = history[-1] if history else alpha_weights(model)  # the previous epoch's genotype
    _, derived = convergence(last, sn.op_names, cfg.nodes, None)
    started = time.time()
    with StopRequest("search") as stop:
        for epoch in range(start, cfg.epochs):
            t0 = time.time()
            model.train()
            gens = {s: torch.Generator().manual_seed(cfg.seed * 1000 + epoch * 2 + k)
                    for k, s in enumerate(("train", "val"))}
            for s in samplers:
                samplers[s].generator = gens[s]
            aug = {s: torch.Generator().manual_seed(cfg.seed * 1000 + epoch * 2 + k + 7919)
                   for k, s in enumerate(("train", "val"))}
            first = skip if epoch == start else 0
            if epoch != start or sums is None:
                sums = {"loss_w": 0.0, "loss_alpha": 0.0}
            batches = zip(halves["train"].batches(samplers["train"], aug["train"], first),
                          halves["val"].batches(samplers["val"], aug["val"], first))
            for step, (tb, vb) in enumerate(batches, first):
                tb, vb = _to(tb, device), _to(vb, device)
                loss_w, loss_a = search_step(model, cfg, w_params, w_opt, a_opt, tb, vb,
                                             w_sched.get_last_lr()[0], precision)
                if not (math.isfinite(loss_w) and math.isfinite(loss_a)):
                    raise UserError(f"search: loss became {loss_w}/{loss_a} at epoch {epoch + 1} "
                                    f"step {step + 1}; last good checkpoint: "
                                    f"{ckpt_path if ckpt_path.exists() else 'none'}")
                sums["loss_w"] += loss_w
                sums["loss_alpha"] += loss_a
                progress.step(epoch, step, len(tb[1]) + len(vb[1]), loss_w=loss_w,
                              loss_alpha=loss_a)
                if stop.requested and step + 1 < steps:
                    checkpoint(epoch, step + 1, sums)
                    stop.stop(ckpt_path, f"at epoch {epoch + 1} step {step + 1}")
            seconds = time.time() - t0
            rows.append({"epoch": epoch + 1, "loss_w": sums["loss_w"] / steps,
                         "loss_alpha": sums["loss_alpha"] / steps, "lr": w_sched.get_last_lr()[0],
                         "alpha_lr": a_sched.get_last_lr()[0], "seconds": round(seconds, 3),
                         "images_per_s": round(steps * 2 * cfg.P * cfg.K / max(seconds, 1e-9), 1)})
            w_sched.step()
            a_sched.step()
            history.append({"epoch": epoch + 1, **alpha_weights(model)})
            changes, derived = convergence(history[-1], sn.op_names, cfg.nodes, derived)
            rows[-1].update(changes)
            checkpoint(epoch + 1, 0, None)
            epoch_end(out, "search", rows, cfg.epochs, started, start)
            if stop.requested and epoch + 1 < cfg.epochs:
                stop.stop(ckpt_path, f"after epoch {epoch + 1}")

    result = {"space": cfg.space, "objective": cfg.objective, "nodes": cfg.nodes,
              "ops": list(sn.op_names), "epochs": cfg.epochs,
              "alpha_entropy": rows[-1]["alpha_entropy"], "genotype_stable_since": stable_since(rows),
              **alpha_weights(model),
              "alpha_normal": sn.alpha_normal.detach().cpu().tolist(),
              "alpha_reduce": sn.alpha_reduce.detach().cpu().tolist()}
    write_json(out / "alpha_history.json", {"ops": list(sn.op_names), "epochs": history})
    save_epochs(out, rows)
    write_json(out / "alphas.json", result)
    ckpt_path.unlink(missing_ok=True)  # done: nothing to resume
    return result

