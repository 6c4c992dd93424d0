import math

import torch

from autoreid.train.losses import batch_hard_triplet, objective_loss, softmax_loss


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
