import pytest
import torch

from autoreid.errors import UserError
from autoreid.models.build import arch_spec, build
from autoreid.train.losses import objective_loss, softmax_loss


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
