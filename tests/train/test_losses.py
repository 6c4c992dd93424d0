import math

import pytest
import torch

from autoreid.losses import batch_hard_triplet, objective_loss, softmax_loss


def test_softmax_loss_by_hand():
    logits = torch.tensor([[2.0, 0.0], [0.0, 1.0]])
    labels = torch.tensor([0, 0])
    by_hand = (-math.log(math.e ** 2 / (math.e ** 2 + 1)) - math.log(1 / (1 + math.e))) / 2
    assert math.isclose(softmax_loss(logits, labels).item(), by_hand, rel_tol=1e-6)


def test_batch_hard_triplet_by_hand():
    # 1-D features: ids a = {0, 1}, b = {3, 7}
    f = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    y = torch.tensor([0, 0, 1, 1])
    # anchor 0: hardest pos 1, hardest neg 3 -> max(0, .3 + 1 - 3) = 0
    # anchor 1: pos 1, neg 2 -> 0;  anchor 3.0: pos 4, neg 2 -> 2.3;  anchor 7: pos 4, neg 6 -> 0
    assert math.isclose(batch_hard_triplet(f, y, 0.3).item(), 2.3 / 4, rel_tol=1e-5)


def test_retrieval_loss_mixes_both():
    f = torch.tensor([[0.0], [1.0], [3.0], [7.0]])
    y = torch.tensor([0, 0, 1, 1])
    logits = torch.zeros(4, 2)
    out = {"f": f, "g": f, "logits": logits}
    ls, lt = math.log(2), 2.3 / 4
    assert math.isclose(objective_loss(out, y, "retrieval", lam=0.5).item(), 0.5 * ls + 0.5 * lt,
                        rel_tol=1e-5)
    assert math.isclose(objective_loss(out, y, "softmax").item(), ls, rel_tol=1e-6)


# Worked by hand below: features, labels and logits of a batch of 2 identities x 3 images.
F = torch.tensor([[0.0], [1.0], [2.5], [3.0], [3.5], [6.0]])  # ids a = {0, 1, 2.5}, b = {3, 3.5, 6}
Y = torch.tensor([0, 0, 0, 1, 1, 1])
# margin 0.3, per anchor: max(0, 0.3 + hardest positive - hardest negative)
#   0: .3 + 2.5 - 3 < 0 -> 0      1: .3 + 1.5 - 2 < 0 -> 0      2.5: .3 + 2.5 - .5 = 2.3
#   3: .3 + 3 - .5 = 2.8          3.5: .3 + 2.5 - 1 = 1.8       6: .3 + 3 - 3.5 < 0 -> 0
LT_F = (2.3 + 2.8 + 1.8) / 6
G = torch.tensor([[0.0, 0.0], [0.0, 2.0], [2.0, 0.0], [3.0, 4.0], [3.0, 3.0], [4.0, 4.0]])
# Euclidean (not squared) distances; per anchor (hardest positive, hardest negative):
#   (0,0): (2, 4.2426) -> 0      (0,2): (2.8284, 3.1623) -> 0   (2,0): (2.8284, 3.1623) -> 0
#   (3,4): (1.0, 3.6056) -> 0    (3,3): (1.4142, 3.1623) -> 0   (4,4): (1.4142, 4.4721) -> 0
LOGITS = torch.tensor([[1.0, 0.0], [0.0, 0.0], [2.0, 0.0], [0.0, 2.0], [1.0, 1.0], [0.0, 3.0]])
LS = (math.log(1 + math.exp(-1)) + math.log(2) + math.log(1 + math.exp(-2))
      + math.log(1 + math.exp(-2)) + math.log(2) + math.log(1 + math.exp(-3))) / 6


def test_triplet_uses_the_hardest_positive_the_hardest_negative_and_the_margin():
    assert batch_hard_triplet(F, Y, 0.3).item() == pytest.approx(LT_F, rel=1e-6)
    # margin 0.5: 0, .5 + 1.5 - 2 = 0, 2.5, 3.0, 2.0, 0
    assert batch_hard_triplet(F, Y, 0.5).item() == pytest.approx(7.5 / 6, rel=1e-6)


def test_triplet_distances_are_euclidean_not_squared():
    # margin 2: (0,0): 2 + 2 - 4.2426 < 0; (0,2): 2 + 2.8284 - 3.1623 = 1.6661; (2,0): the same;
    # (3,4): 2 + 1 - 3.6056 < 0; (3,3): 2 + 1.4142 - 3.1623 = 0.2519; (4,4): 2 + 1.4142 - 4.4721 < 0
    expected = (2 * (2 + math.sqrt(8) - math.sqrt(10)) + (2 + math.sqrt(2) - math.sqrt(10))) / 6
    assert batch_hard_triplet(G, Y, 2.0).item() == pytest.approx(expected, rel=1e-5)


def test_triplet_skips_anchors_without_a_positive_but_uses_them_as_negatives():
    f = torch.tensor([[0.0], [1.0], [1.2]])  # identity 1 has one image
    y = torch.tensor([0, 0, 1])
    # anchor 0: .3 + 1 - 1.2 = .1; anchor 1: .3 + 1 - .2 = 1.1; anchor 1.2: no positive, skipped
    assert batch_hard_triplet(f, y, 0.3).item() == pytest.approx(1.2 / 2, rel=1e-5)


def test_softmax_loss_of_the_batch():
    assert softmax_loss(LOGITS, Y).item() == pytest.approx(LS, rel=1e-6)
    parts = torch.stack([LOGITS, torch.zeros(6, 2)])  # PCB: the parts' losses averaged
    assert softmax_loss(parts, Y).item() == pytest.approx((LS + math.log(2)) / 2, rel=1e-6)


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_retrieval_loss_weights_softmax_by_lambda_and_triplet_by_one_minus_lambda(lam):
    out = {"f": F, "g": G, "logits": LOGITS}
    lt_g = (2 * (2 + math.sqrt(8) - math.sqrt(10)) + (2 + math.sqrt(2) - math.sqrt(10))) / 6
    got_f = objective_loss(out, Y, "retrieval", lam=lam, margin=0.3, feature="f").item()
    got_g = objective_loss(out, Y, "retrieval", lam=lam, margin=2.0, feature="g").item()
    assert got_f == pytest.approx(lam * LS + (1 - lam) * LT_F, rel=1e-6)
    assert got_g == pytest.approx(lam * LS + (1 - lam) * lt_g, rel=1e-5)
    assert objective_loss(out, Y, "softmax", lam=lam).item() == pytest.approx(LS, rel=1e-6)


def test_unknown_loss():
    with pytest.raises(ValueError, match="unknown loss"):
        objective_loss({"f": F, "g": G, "logits": LOGITS}, Y, "contrastive")


def test_the_paper_defaults_margin_0_3_and_lambda_0_5():
    assert batch_hard_triplet(F, Y).item() == pytest.approx(LT_F, rel=1e-6)
    out = {"f": F, "g": G, "logits": LOGITS}
    assert objective_loss(out, Y, "retrieval").item() == pytest.approx(0.5 * LS + 0.5 * LT_F, rel=1e-6)


def test_a_batch_without_any_positive_pair_gives_zero_and_no_gradient():
    f = torch.tensor([[0.0], [1.0], [5.0]], requires_grad=True)
    loss = batch_hard_triplet(f, torch.tensor([0, 1, 2]), 0.3)
    loss.backward()
    assert loss.item() == 0.0 and torch.equal(f.grad, torch.zeros_like(f))


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_half_precision_outputs_give_an_fp32_loss_of_their_upcast_values(dtype):
    """Under autocast the network's outputs are bf16 or fp16: the losses upcast them first (a
    triplet margin of 0.3 against distances rounded to bf16's 8 bits would be mostly rounding)."""
    g = torch.Generator().manual_seed(0)
    out = {"logits": torch.randn(6, 3, generator=g).to(dtype), "f": torch.randn(6, 5, generator=g).to(dtype)}
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    loss = objective_loss(out, labels, "retrieval", 0.5, 0.3, "f")
    assert loss.dtype == torch.float32
    up = {k: v.float() for k, v in out.items()}
    assert loss.item() == objective_loss(up, labels, "retrieval", 0.5, 0.3, "f").item()
