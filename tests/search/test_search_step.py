"""The search step (Alg. 1, lines 2-5) against independent computations, on a tiny supernet in
float64: omega steps on D_train, alpha on D_val at the updated omega, the second-order alpha-gradient
equals autograd through an explicit unrolled step, and the objective is the one asked for."""
import copy

import pytest
import torch
from torch.func import functional_call

from autoreid.config import resolve
from autoreid.models.build import ArchSpec, build
from autoreid.search.search import SearchConfig
from autoreid.search import step
from autoreid.search.step import search_step
from autoreid.losses import batch_hard_triplet

CLASSES = 3


def tiny_supernet(seed: int = 0, space: str = "reid"):
    torch.manual_seed(seed)
    model = build(ArchSpec("supernet", CLASSES, 4, (1, 1, 1, 1), space=space, embedding=8,
                           dropout=0.0)).double().train()
    with torch.no_grad():  # alphas far from uniform, so their gradients are not degenerate
        for a in model.backbone.arch_parameters():
            a.normal_(0, 0.5)
    return model


def batch(seed: int, labels=(0, 0, 1, 1, 2, 2)):
    g = torch.Generator().manual_seed(seed)
    return (torch.randn(len(labels), 3, 32, 16, generator=g, dtype=torch.float64),
            torch.tensor(labels))


def cfg(**kw) -> SearchConfig:
    return resolve("search", overrides={"grad_clip": 0.0, "loss": "retrieval", "lam": 0.3, "margin": 0.3,
                           **kw})


def split_params(model):
    named = dict(model.named_parameters())
    alphas = {n: p for n, p in named.items() if n.startswith("backbone.alpha_")}
    weights = {n: p for n, p in named.items() if n not in alphas}
    return weights, alphas


def loss_of(model, params: dict, x, y, c: SearchConfig):
    """The objective written out here: Ls, or λ Ls + (1 - λ) Lt on feature f."""
    out = functional_call(model, params, (x,))
    ls = torch.nn.functional.cross_entropy(out["logits"], y)
    if c.loss == "softmax":
        return ls
    return c.lam * ls + (1 - c.lam) * batch_hard_triplet(out[c.triplet_feature], y, c.margin)


def grads(loss, tensors: dict) -> dict:
    g = torch.autograd.grad(loss, list(tensors.values()), allow_unused=True)
    return {n: torch.zeros_like(t) if gi is None else gi for (n, t), gi in zip(tensors.items(), g)}


def optimizers(model, lr: float, alpha_lr: float | None = None):
    """Plain SGD on omega (lr) and on alpha (alpha_lr, default lr): (omega, its optimizer, alpha's)."""
    weights, alphas = split_params(model)
    w_params = list(weights.values())
    return (w_params, torch.optim.SGD(w_params, lr),
            torch.optim.SGD(list(alphas.values()), lr if alpha_lr is None else alpha_lr))


@pytest.mark.smoke
@pytest.mark.parametrize("objective,feature", [("softmax", "f"), ("retrieval", "f"), ("retrieval", "g")])
def test_omega_steps_on_d_train_and_alpha_on_d_val_after_it(objective, feature):
    c, lr = cfg(loss=objective, triplet_feature=feature), 0.05
    model = tiny_supernet()
    reference = copy.deepcopy(model)
    train_batch, val_batch = batch(1), batch(2)
    w_params, w_opt, a_opt = optimizers(model, lr)
    loss_w, loss_a = search_step(model, c, w_params, w_opt, a_opt, train_batch, val_batch, lr)

    weights, alphas = split_params(reference)
    params = {**weights, **alphas}
    lw = loss_of(reference, params, *train_batch, c)
    omega1 = {n: w - lr * g for (n, w), g in zip(weights.items(), grads(lw, weights).values())}
    la = loss_of(reference, {**omega1, **alphas}, *val_batch, c)
    alpha1 = {n: a - lr * g for (n, a), g in zip(alphas.items(), grads(la, alphas).values())}

    got_w, got_a = split_params(model)
    for n in weights:
        torch.testing.assert_close(got_w[n], omega1[n], rtol=1e-9, atol=1e-11)
    for n in alphas:
        torch.testing.assert_close(got_a[n], alpha1[n], rtol=1e-9, atol=1e-11)
        assert not torch.equal(got_a[n], alphas[n])  # alpha moved
    assert loss_w == pytest.approx(lw.item(), rel=1e-9)
    assert loss_a == pytest.approx(la.item(), rel=1e-9)


def test_the_omega_step_clips_the_gradient_norm():
    c, lr = cfg(grad_clip=1e-3), 0.05
    model = tiny_supernet()
    before = [p.detach().clone() for p in split_params(model)[0].values()]
    w_params, w_opt, a_opt = optimizers(model, lr)
    search_step(model, c, w_params, w_opt, a_opt, batch(1), batch(2), lr)
    moved = torch.sqrt(sum(((p - b) ** 2).sum() for p, b in zip(w_params, before)))
    assert moved.item() == pytest.approx(lr * 1e-3, rel=1e-4)


def exact_unrolled_alpha_grad(model, c: SearchConfig, train_batch, val_batch, xi: float) -> dict:
    """d/dalpha L_val(omega - xi dL_train/domega (omega, alpha), alpha), by autograd through the
    explicit virtual step (second derivatives, no finite differences)."""
    weights, alphas = split_params(model)
    w = {n: p.detach().clone().requires_grad_() for n, p in weights.items()}
    a = {n: p.detach().clone().requires_grad_() for n, p in alphas.items()}
    lt = loss_of(model, {**w, **a}, *train_batch, c)
    g = torch.autograd.grad(lt, list(w.values()), create_graph=True, allow_unused=True)
    w1 = {n: t - xi * gi if gi is not None else t for (n, t), gi in zip(w.items(), g)}
    return grads(loss_of(model, {**w1, **a}, *val_batch, c), a)


def test_the_finite_difference_radius_is_darts():
    assert step.FD_RADIUS == 0.01  # epsilon = 0.01 / |dL_val/domega'| (Liu et al., 2019)


def test_second_order_alpha_gradient_equals_the_exact_one(monkeypatch):
    """DARTS' radius 0.01 is far too coarse for a float64 check on a network this small (the
    finite differences cross ReLU and max kinks); 1e-6 is not, and the formula is the same."""
    monkeypatch.setattr(step, "FD_RADIUS", 1e-6)
    c, xi = cfg(loss="retrieval", order="second"), 0.5  # Lret: both Ls and Lt
    model = tiny_supernet(seed=3)
    train_batch, val_batch = batch(4), batch(5)
    exact = exact_unrolled_alpha_grad(copy.deepcopy(model), c, train_batch, val_batch, xi)
    first = exact_unrolled_alpha_grad(copy.deepcopy(model), c, train_batch, val_batch, 0.0)

    # an alpha step of plain SGD with lr 1 reveals the gradient the step used; omega's lr is 0,
    # so the unrolled gradient is taken at the starting omega, as `exact` is
    weights, alphas = split_params(model)
    start = {n: a.detach().clone() for n, a in alphas.items()}
    w_opt = torch.optim.SGD(list(weights.values()), 0.0)
    a_opt = torch.optim.SGD(list(alphas.values()), 1.0)
    search_step(model, c, list(weights.values()), w_opt, a_opt, train_batch, val_batch, xi)
    for n, a in alphas.items():
        used = start[n] - a.detach()
        correction = (exact[n] - first[n]).abs().max()
        assert correction > 1e-4  # the second-order term is there to be seen ...
        torch.testing.assert_close(used, exact[n], rtol=1e-6, atol=1e-7)  # ... and right
    fresh = split_params(tiny_supernet(seed=3))[0]
    for n, w in weights.items():  # the virtual step leaves omega where it was
        assert torch.equal(w.detach(), fresh[n].detach())


def test_lambda_one_is_the_softmax_search_and_lambda_zero_the_triplet_search():
    model = tiny_supernet()
    x, y = batch(7)
    params = {**split_params(model)[0], **split_params(model)[1]}
    out = functional_call(model, params, (x,))
    ls = torch.nn.functional.cross_entropy(out["logits"], y)
    lt = batch_hard_triplet(out["f"], y, 0.3)
    for lam, expected in ((1.0, ls), (0.0, lt)):
        m = copy.deepcopy(model)
        w_params, w_opt, a_opt = optimizers(m, 0.0)
        _, loss_a = search_step(m, cfg(lam=lam), w_params, w_opt, a_opt, batch(8), (x, y), 0.0)
        assert loss_a == pytest.approx(expected.item(), rel=1e-9)
    assert abs(ls.item() - lt.item()) > 0.1  # the two objectives differ here


def test_the_unrolled_step_and_the_finite_differences_move_omega_as_darts_does(monkeypatch):
    """Each loss the second-order step evaluates, and at which omega: L_train at omega, L_val at
    omega' = omega - xi dL_train/domega, then L_train at omega +- eps v with v = dL_val/domega'
    and eps = 0.01 / |v|; omega is restored afterwards."""
    c, xi = cfg(order="second"), 0.3
    model = tiny_supernet(seed=5)
    train_batch, val_batch = batch(6), batch(7)
    weights, alphas = split_params(model)
    omega = torch.cat([w.detach().flatten() for w in weights.values()])
    reference = copy.deepcopy(model)
    seen, real = [], step._loss

    def spy(m, cfg_, x, y, *amp):
        seen.append((torch.cat([w.detach().flatten() for w in split_params(m)[0].values()]), x))
        return real(m, cfg_, x, y, *amp)

    monkeypatch.setattr(step, "_loss", spy)
    step._unrolled_alpha_grad(model, c, train_batch, val_batch, xi)
    assert [x is train_batch[0] for _, x in seen] == [True, False, True, True]
    assert seen[1][1] is val_batch[0]

    rw, ra = split_params(reference)
    g_train = grads(loss_of(reference, {**rw, **ra}, *train_batch, c), rw)
    omega1 = omega - xi * torch.cat([g.flatten() for g in g_train.values()])
    torch.testing.assert_close(seen[0][0], omega)
    torch.testing.assert_close(seen[1][0], omega1, rtol=1e-9, atol=1e-12)
    w1 = {n: w - xi * g for (n, w), g in zip(rw.items(), g_train.values())}
    v = torch.cat([g.flatten() for g in grads(loss_of(reference, {**w1, **ra}, *val_batch, c), rw).values()])
    plus, minus = seen[2][0] - omega, seen[3][0] - omega
    torch.testing.assert_close(plus, step.FD_RADIUS * v / v.norm(), rtol=1e-6, atol=1e-12)
    torch.testing.assert_close(minus, -plus)
    torch.testing.assert_close(torch.cat([w.detach().flatten() for w in weights.values()]), omega,
                               rtol=0, atol=0)


def dropout_masks(model, record: list):
    """Record, on every forward pass, which entries each of the head's dropouts zeroed."""
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.register_forward_hook(lambda mod, inp, out: record.append((out == 0) & (inp[0] != 0)))


def test_the_unrolled_passes_on_d_train_share_their_dropout_masks():
    """The finite differences subtract two D_train losses 2 eps apart: under different dropout
    masks that difference is mask noise (the paper profile's dropout is 0.5)."""
    c, xi = cfg(order="second"), 0.3
    model = tiny_supernet(seed=5)
    for m in model.modules():
        if isinstance(m, torch.nn.Dropout):
            m.p = 0.5
    train_batch, val_batch = batch(6), batch(7)
    masks = []
    dropout_masks(model, masks)
    step._unrolled_alpha_grad(model, c, train_batch, val_batch, xi)
    per_pass = [masks[i:i + 2] for i in range(0, len(masks), 2)]  # drop_f, drop_g per pass
    assert len(per_pass) == 4  # L_train, L_val, L_train at omega + eps v and omega - eps v
    train_passes = [per_pass[0], per_pass[2], per_pass[3]]
    assert any(m.any() for m in per_pass[0])  # dropout is at work
    for other in train_passes[1:]:
        for a, b in zip(train_passes[0], other):
            assert torch.equal(a, b)


def test_the_unrolled_gradient_runs_in_fp32_whatever_amp_says():
    """Under bf16 autocast a finite-difference step of radius 0.01 is below the weights'
    resolution; the unrolled passes ignore amp, so the alpha gradient is the fp32 one exactly
    (omega's lr is 0: the omega step, the only pass in bf16, moves nothing)."""
    from autoreid.amp import Precision

    c, xi = cfg(order="second"), 0.3
    got = {}
    for mode in ("off", "bf16"):
        model = tiny_supernet(seed=5).float()
        w_params, w_opt, a_opt = optimizers(model, 0.0, 1.0)
        x, y = batch(6)
        xv, yv = batch(7)
        torch.manual_seed(0)
        search_step(model, c, w_params, w_opt, a_opt, (x.float(), y), (xv.float(), yv),
                    xi, Precision(mode, torch.device("cpu")))
        got[mode] = [a.grad.clone() for a in model.backbone.arch_parameters()]
    for off, bf16 in zip(got["off"], got["bf16"]):
        torch.testing.assert_close(bf16, off, rtol=0, atol=0)


def test_a_weight_the_loss_does_not_reach_neither_breaks_the_unrolled_step_nor_moves():
    """A head may hold a weight the search's loss does not use: the second-order step takes it
    as a zero gradient (it neither fails nor moves it) and the alpha gradient is the one without it."""
    c, xi = cfg(order="second"), 0.3
    used = {}
    for spare in (False, True):
        model = tiny_supernet(seed=5)
        if spare:
            model.head.spare = torch.nn.Parameter(torch.ones(3, dtype=torch.float64))
        w_params, w_opt, a_opt = optimizers(model, 0.1, 1.0)
        search_step(model, c, w_params, w_opt, a_opt, batch(6), batch(7), xi)
        used[spare] = [a.grad.clone() for a in model.backbone.arch_parameters()]
    assert torch.equal(model.head.spare.detach(), torch.ones(3, dtype=torch.float64))
    for without, with_spare in zip(used[False], used[True]):
        torch.testing.assert_close(with_spare, without, rtol=1e-12, atol=0)


def test_the_first_order_passes_run_in_amps_precision():
    """First order: the omega and the alpha steps' forward passes both run under amp's autocast
    (their losses are the bf16 ones, not the fp32 ones)."""
    from autoreid.amp import Precision

    c = cfg(order="first")
    losses = {}
    for mode in ("off", "bf16"):
        model = tiny_supernet(seed=5).float()
        w_params, w_opt, a_opt = optimizers(model, 0.0)
        (x, y), (xv, yv) = batch(6), batch(7)
        precision = Precision(mode, torch.device("cpu"))
        losses[mode] = search_step(model, c, w_params, w_opt, a_opt, (x.float(), y),
                                   (xv.float(), yv), 0.0, precision)
        with torch.no_grad():
            expected = [step._loss(model, c, b.float(), t, precision).item()
                        for b, t in ((x, y), (xv, yv))]
        assert list(losses[mode]) == pytest.approx(expected, rel=1e-6), mode
    for off, bf16 in zip(losses["off"], losses["bf16"]):
        assert abs(off - bf16) > 1e-4


def test_on_a_gpu_the_replay_restores_the_cuda_generator_too(monkeypatch):
    """Dropout on a GPU draws from the CUDA generator: the replay saves that device's state at its
    creation and restores it before each pass (on this CPU-only machine the two CUDA state calls
    are recorded rather than run; test_the_replay_on_a_real_gpu runs them where a GPU is)."""
    calls, state = [], torch.tensor([7, 8], dtype=torch.uint8)

    def get_rng_state(device):
        calls.append(("get", device))
        return state

    monkeypatch.setattr(torch.cuda, "get_rng_state", get_rng_state)
    monkeypatch.setattr(torch.cuda, "set_rng_state", lambda s, d: calls.append(("set", s, d)))
    gpu = torch.device("cuda", 1)
    replay = step._Replay(gpu)
    assert calls == [("get", gpu)]
    assert replay(lambda v: calls.append(("pass", v)) or v, 5) == 5
    assert calls[1:] == [("set", state, gpu), ("pass", 5)]
    calls.clear()
    step._Replay(torch.device("cpu"))(lambda: None)
    assert calls == []  # on the CPU only the CPU generator is saved and restored


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_the_replay_on_a_real_gpu():
    gpu = torch.device("cuda")
    replay = step._Replay(gpu)
    first = replay(lambda: torch.nn.functional.dropout(torch.ones(1000, device=gpu), 0.5))
    again = replay(lambda: torch.nn.functional.dropout(torch.ones(1000, device=gpu), 0.5))
    assert torch.equal(first, again)
