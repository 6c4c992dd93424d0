import torch

from autoreid.models.build import ArchSpec, build
from autoreid.space.supernet import Supernet


def test_alphas_are_registered_parameters():
    sn = Supernet("reid", C=4, layers=(1, 1, 1, 1))
    names = dict(sn.named_parameters())
    assert "alpha_normal" in names and "alpha_reduce" in names
    assert "alpha_normal" in sn.state_dict()
    assert sn.alpha_normal.shape == (14, 7)
    ids = {id(p) for p in sn.weight_parameters()}
    assert id(sn.alpha_normal) not in ids


def test_gradient_reaches_alphas_and_shapes():
    model = build(ArchSpec("supernet", 5, C=4, layers=(1, 1, 1, 1), space="standard",
                           embedding=16))
    out = model(torch.randn(2, 3, 32, 16))
    assert out["logits"].shape == (2, 5) and out["f"].shape == (2, 4 * 4 * 8)
    out["logits"].sum().backward()
    assert model.backbone.alpha_normal.grad.abs().sum() > 0
    assert model.backbone.alpha_reduce.grad.abs().sum() > 0


def test_macro_structure_reductions():
    sn = Supernet("standard", C=4, layers=(2, 1, 3, 1))
    assert [c.reduction for c in sn.cells] == [False, False, True, True, False, False, True]


def test_mixed_op_savings_change_nothing():
    """Skipping `none` and sharing the leading ReLU compute the straightforward supernet's function:
    same state_dict, same output, same gradients (benchmarks/darts_supernet.py is that supernet)."""
    import sys

    from helpers import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from darts_supernet import PlainSupernet

    from autoreid.space.supernet import Supernet

    torch.manual_seed(0)
    ours, plain = Supernet("reid", 8, (1, 1, 1, 1)), PlainSupernet("reid", 8, (1, 1, 1, 1))
    plain.load_state_dict(ours.state_dict())  # same keys and shapes
    x = torch.randn(2, 3, 32, 16)
    out_ours, out_plain = ours(x), plain(x)
    assert torch.allclose(out_ours, out_plain, atol=1e-5)
    out_ours.square().sum().backward()
    out_plain.square().sum().backward()
    for (name, a), b in zip(ours.named_parameters(), plain.parameters()):
        assert torch.allclose(a.grad, b.grad, rtol=1e-4, atol=1e-5 * b.grad.abs().max()), name
