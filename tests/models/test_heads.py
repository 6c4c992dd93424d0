import pytest
import torch

from autoreid.errors import UserError
from autoreid.models.build import arch_spec, build
from autoreid.models.head import HEADS
from autoreid.losses import objective_loss, softmax_loss


@pytest.mark.parametrize("arch", ["resnet18", "DARTS_V2", "BASELINE"])
@pytest.mark.parametrize("height", [64, 96])
def test_pcb_head_on_any_backbone(arch, height):
    model = build(arch_spec(arch, 7, 8, (1, 1, 1, 1), head="pcb"))
    out = model(torch.randn(4, 3, height, 32))
    assert out["logits"].shape == (6, 4, 7) and out["g"].shape == (4, 6 * 256)
    assert out["f"].shape[1] == 6 * model.backbone.out_channels
    loss = objective_loss(out, torch.tensor([0, 0, 1, 1]), "retrieval")
    loss.backward()
    assert all(c.weight.grad is not None for c in model.head.classifiers)


def test_part_losses_average():
    logits = torch.randn(6, 4, 3)
    y = torch.tensor([0, 1, 2, 0])
    assert torch.isclose(softmax_loss(logits, y), torch.stack([softmax_loss(p, y) for p in logits]).mean())


def test_unknown_head():
    with pytest.raises(UserError, match="unknown head 'mgn'"):
        arch_spec("resnet18", 5, 8, (1, 1, 1, 1), head="mgn")


@pytest.mark.parametrize("arch", ["resnet18", "BASELINE_REID_SEARCH_SPACE"])
def test_pcb_as_published_on_a_384x128_input(arch):
    """Last stride 1: the six stripes are cut from a 24x8 map (12x4 with the reID head); each
    stripe is reduced to 256-d by its own 1x1 conv-BN-ReLU and classified on its own."""
    pcb = build(arch_spec(arch, 5, 8, (1, 1, 1, 1), head="pcb")).eval()
    reid = build(arch_spec(arch, 5, 8, (1, 1, 1, 1))).eval()
    x = torch.randn(2, 3, 384, 128)
    with torch.no_grad():
        fmap = pcb.backbone(x)
        assert tuple(fmap.shape[2:]) == (24, 8) and tuple(reid.backbone(x).shape[2:]) == (12, 4)
        out = pcb.head(fmap)
    c = pcb.backbone.out_channels
    assert out["f"].shape == (2, 6 * c) and out["g"].shape == (2, 6 * 256)
    assert out["logits"].shape == (6, 2, 5)
    for embed in pcb.head.embed:
        assert [type(m) for m in embed] == [torch.nn.Linear, torch.nn.BatchNorm1d, torch.nn.ReLU]
    stripes = fmap.reshape(2, c, 6, 4, 8).mean(dim=(3, 4))  # 24 rows: 6 stripes of 4
    torch.testing.assert_close(out["f"].reshape(2, 6, c), stripes.transpose(1, 2))


def test_the_pcb_setting_trains_with_softmax_on_each_stripe():
    import yaml

    from helpers import ROOT

    for profile in ("default", "paper", "smoke"):
        settings = yaml.safe_load((ROOT / "params" / f"{profile}.yaml").read_text())["train_settings"]
        assert settings["pcb"] == {"head": "pcb", "loss": "softmax"}
    logits = torch.randn(6, 4, 3)
    y = torch.tensor([0, 1, 2, 0])
    out = {"logits": logits, "f": torch.randn(4, 8)}
    assert torch.equal(objective_loss(out, y, "softmax"), softmax_loss(logits, y))


@pytest.mark.parametrize("head", ["reid", "pcb"])
def test_a_head_by_default_is_the_papers_and_names_what_it_does_not_know(head):
    cls = HEADS[head]
    plain = cls(16, 5)
    drops = [m.p for m in plain.modules() if isinstance(m, torch.nn.Dropout)]
    assert plain.gem is None and drops and set(drops) == {0.5}
    assert plain.eval()(torch.randn(2, 16, 12, 4))["g"].shape == (2, {"reid": 512, "pcb": 6 * 256}[head])
    with pytest.raises(ValueError, match=r"^unknown neck 'foo' \(known: none, bnneck\)$"):
        cls(16, 5, neck="foo")
    with pytest.raises(ValueError, match=r"^unknown pool 'max' \(known: avg, gem\)$"):
        cls(16, 5, pool="max")
