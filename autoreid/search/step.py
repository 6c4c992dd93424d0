"""One step of the search (Alg. 1, lines 2-5): an omega step on a batch of D_train, then an alpha
step on a batch of D_val, both with the search's loss.

First order: alpha's gradient at the current omega. Second order (DARTS' unrolled gradient):
d/dalpha L_val(omega - xi * dL_train/domega, alpha)
  = dL_val/dalpha (at omega') - xi * d2L_train/(dalpha domega) . dL_val/domega' (at omega'),
the Hessian-vector product by central finite differences around omega (step eps along
dL_val/domega'), as in DARTS. Two things make those differences mean something: every pass on the
D_train batch replays the same random stream, so dropout draws the same masks in all of them (a
difference of two losses with different masks is mostly mask noise), and the unrolled passes run in
fp32 whatever `amp` says (a step of radius 0.01 over millions of weights is below bf16's resolution).
"""
from __future__ import annotations

import torch

from autoreid.amp import OFF, Precision
from autoreid.models.build import ReIDNet
from autoreid.losses import objective_loss
from autoreid.search.regularizers import beta_penalty

FD_RADIUS = 0.01  # DARTS: epsilon = 0.01 / |dL_val/domega'|


def _loss(model: ReIDNet, cfg, x, y, amp: Precision = OFF) -> torch.Tensor:
    with amp.autocast():
        out = model(x)
    return objective_loss(out, y, cfg.loss, cfg.lam, cfg.margin, cfg.triplet_feature)


class _Replay:
    """The random state (CPU, and the CUDA device's) as it was at creation, restored before each
    pass run through it: dropout draws the same masks in all of them."""

    def __init__(self, device: torch.device):
        self.cuda = device if device.type == "cuda" else None
        self.cpu_state = torch.get_rng_state()
        self.cuda_state = torch.cuda.get_rng_state(self.cuda) if self.cuda else None

    def __call__(self, fn, *args):
        torch.set_rng_state(self.cpu_state)
        if self.cuda:
            torch.cuda.set_rng_state(self.cuda_state, self.cuda)
        return fn(*args)


def _unrolled_alpha_grad(model: ReIDNet, cfg, train_batch, val_batch, xi: float) -> torch.Tensor:
    """DARTS second-order gradient of the val loss w.r.t. alpha; sets alpha.grad; returns the loss.
    The finite differences step omega by FD_RADIUS (in norm) along dL_val/domega'. In fp32 (no
    autocast, no loss scaling); the three D_train passes share their dropout masks."""
    weights = model.backbone.weight_parameters() + list(model.head.parameters())
    alphas = model.backbone.arch_parameters()
    backup = [w.detach().clone() for w in weights]
    same_masks = _Replay(alphas[0].device)

    def train_loss() -> torch.Tensor:
        return same_masks(_loss, model, cfg, *train_batch)

    grads = torch.autograd.grad(train_loss(), weights, allow_unused=True)
    with torch.no_grad():  # virtual step w' = w - xi * dL_train/dw
        for w, g in zip(weights, grads):
            if g is not None:
                w.sub_(xi * g)
    val_loss = _loss(model, cfg, *val_batch)
    g_all = torch.autograd.grad(val_loss, alphas + weights, allow_unused=True)
    d_alpha, d_w = g_all[: len(alphas)], g_all[len(alphas):]
    d_w = [torch.zeros_like(w) if g is None else g for w, g in zip(weights, d_w)]
    eps = FD_RADIUS / (torch.sqrt(sum((g * g).sum() for g in d_w)) + 1e-12)

    def alpha_grad_at(sign: float):
        with torch.no_grad():
            for w, b, g in zip(weights, backup, d_w):
                w.copy_(b + sign * eps * g)
        return torch.autograd.grad(train_loss(), alphas)

    g_plus, g_minus = alpha_grad_at(1.0), alpha_grad_at(-1.0)
    with torch.no_grad():
        for w, b in zip(weights, backup):
            w.copy_(b)
    for a, da, gp, gm in zip(alphas, d_alpha, g_plus, g_minus):
        a.grad = da - xi * (gp - gm) / (2 * eps)
    return val_loss.detach()


def search_step(model: ReIDNet, cfg, w_params: list, w_opt, a_opt, train_batch,
                val_batch, xi: float, amp: Precision = OFF) -> tuple[torch.Tensor, torch.Tensor]:
    """Alg. 1, lines 2-5: an omega step on a batch of D_train, then an alpha step on a batch of
    D_val (first order: the gradient at the current omega; second order: DARTS' unrolled one,
    with the virtual step `xi`, in fp32), the other forward passes in `amp`'s precision. Returns
    both losses, on the device (nothing in the step waits for it); the alpha step's loss returned
    is L_val's alone, without a regulariser's term (`search.regularizer`: beta adds its term to the
    alpha step; autoreid.search.regularizers)."""
    w_opt.zero_grad()
    lw = _loss(model, cfg, *train_batch, amp)
    amp.backward(lw, inputs=w_params)
    amp.step(w_opt, w_params, cfg.grad_clip)
    a_opt.zero_grad()
    alphas = model.backbone.arch_parameters()
    if cfg.order == "second":
        loss_a = _unrolled_alpha_grad(model, cfg, train_batch, val_batch, xi)
        if cfg.regularizer == "beta":
            for a, g in zip(alphas, torch.autograd.grad(beta_penalty(alphas, cfg.beta_weight), alphas)):
                a.grad += g
        a_opt.step()
    else:
        la = _loss(model, cfg, *val_batch, amp)
        objective = la + beta_penalty(alphas, cfg.beta_weight) if cfg.regularizer == "beta" else la
        amp.backward(objective, inputs=alphas)
        amp.step(a_opt)
        loss_a = la.detach()
    amp.update()
    return lw.detach(), loss_a
