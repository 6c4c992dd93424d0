"""The robust searches (search.regularizer): β-DARTS' term and its gradient on alpha in the alpha
step, DARTS-'s auxiliary skip (what it adds, and its weight over the epochs), and a search of each."""
import pytest
import torch

from autoreid.models.build import ArchSpec, build
from autoreid.search.regularizers import beta_penalty, skip_weight
from autoreid.search.step import search_step
from test_search_step import CLASSES, batch, cfg, optimizers, tiny_supernet


def test_the_beta_terms_gradient_on_alpha_is_lambda_over_edges_times_the_softmax():
    alphas = [torch.randn(14, 8, requires_grad=True), torch.randn(14, 8, requires_grad=True)]
    grads = torch.autograd.grad(beta_penalty(alphas, 0.7), alphas)
    for a, g in zip(alphas, grads):
        assert torch.allclose(g, 0.7 / 14 * torch.softmax(a, -1), atol=1e-7)
    value = beta_penalty(alphas, 0.7).item()
    assert value == pytest.approx(0.7 * sum(torch.logsumexp(a, -1).mean().item() for a in alphas))


@pytest.mark.parametrize("order", ["first", "second"])
def test_the_alpha_step_adds_the_beta_terms_gradient_and_nothing_else(order):
    """The same step with regularizer none and beta: alpha's gradients differ by exactly the term's
    (omega's step is the same), on a tiny supernet in float64."""
    grads = {}
    for regularizer in ("none", "beta"):
        model = tiny_supernet()
        c = cfg(regularizer=regularizer, beta_weight=0.4, order=order)
        w_params, w_opt, a_opt = optimizers(model, 0.0, alpha_lr=0.0)  # record, do not move
        search_step(model, c, w_params, w_opt, a_opt, batch(1), batch(2), 0.01)
        grads[regularizer] = [a.grad.clone() for a in model.backbone.arch_parameters()]
    alphas = tiny_supernet().backbone.arch_parameters()
    for plain, beta, a in zip(grads["none"], grads["beta"], alphas):
        edges = a.shape[0]
        assert torch.allclose(beta - plain, 0.4 / edges * torch.softmax(a.detach(), -1), atol=1e-10)


def test_dartsminus_skip_weight_is_one_at_the_first_epoch_and_zero_at_the_last():
    assert skip_weight(0, 12) == 1.0 and skip_weight(11, 12) == 0.0
    assert [skip_weight(e, 5) for e in range(5)] == [1.0, 0.75, 0.5, 0.25, 0.0]
    assert skip_weight(0, 1) == 1.0


def test_the_auxiliary_skip_adds_its_weight_times_the_input_on_stride_one_edges():
    torch.manual_seed(0)
    plain = build(ArchSpec("supernet", CLASSES, 4, (1, 1, 1, 1), space="reid", embedding=8, dropout=0.0))
    minus = build(ArchSpec("supernet", CLASSES, 4, (1, 1, 1, 1), space="reid", embedding=8, dropout=0.0,
                           aux_skip=True))
    minus.load_state_dict(plain.state_dict(), strict=False)
    assert set(minus.state_dict()) - set(plain.state_dict()) == {"backbone.skip_weight"}
    x = torch.randn(2, 3, 32, 16)
    plain.eval(), minus.eval()
    minus.backbone.skip_weight.fill_(0.0)
    assert torch.allclose(plain(x)["f"], minus(x)["f"], atol=1e-6)  # β = 0: DARTS itself
    minus.backbone.skip_weight.fill_(1.0)
    assert not torch.allclose(plain(x)["f"], minus(x)["f"], atol=1e-3)
    cell = minus.backbone.cells[0]  # a normal cell: every edge stride 1
    h = torch.randn(1, 4, 8, 4)
    weights = torch.softmax(minus.backbone.alpha_normal, -1)
    edge = cell.edges[0](h, weights[0])
    assert torch.allclose(cell._edge(0, h, weights, torch.tensor(0.3)), edge + 0.3 * h)
    reduction = next(c for c in minus.backbone.cells if c.reduction)
    assert reduction.strides[:5] == [2, 2, 2, 2, 1]  # edges from the cell's inputs reduce


@pytest.mark.slow
def test_a_dartsminus_search_logs_its_skip_weight_each_epoch(market, tmp_path):
    """Two epochs on a few identities of the embedded Market-1501: the log holds β of each epoch
    (1, then 0); alphas.json names the regulariser."""
    import csv

    from autoreid.config import resolve
    from autoreid.data.manifest import read_manifest, write_manifest
    from autoreid.io import read_json
    from autoreid.runtime import Placement
    from autoreid.search.search import search

    records = read_manifest(market["split"], splits=("train", "val"))
    keep = {s: sorted({r.pid for r in records if r.split == s})[:3] for s in ("train", "val")}
    write_manifest([r for r in records if r.pid in keep[r.split]], tmp_path / "split.csv")
    c = resolve("search", overrides=dict(C=4, layers=(1, 1, 1, 1), height=32, width=16, P=2, K=2,
                                         epochs=2, embedding=16, regularizer="dartsminus"))
    search(str(tmp_path / "split.csv"), str(tmp_path / "s"), c, Placement.cpu())
    assert read_json(tmp_path / "s" / "alphas.json")["regularizer"] == "dartsminus"
    rows = list(csv.DictReader(open(tmp_path / "s" / "log.csv")))
    assert [float(r["skip_weight"]) for r in rows] == [1.0, 0.0]
