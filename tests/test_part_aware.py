import pytest
import torch

from autoreid.space.part_aware import PartAware, stripe_matrices


@pytest.mark.parametrize("height", [1, 2, 3, 4, 6, 7, 24, 25])
def test_stripe_matrices_cover_every_row(height):
    pool, expand = stripe_matrices(height, 4)
    assert pool.shape == (4, height) and expand.shape == (height, 4)
    assert torch.allclose(pool.sum(1), torch.ones(4))
    assert torch.allclose(expand.sum(1), torch.ones(height))
    if height >= 4:  # a partition: every row in exactly one stripe, heights differ by <= 1
        cover = (pool > 0).float()
        assert torch.equal(cover.sum(0), torch.ones(height))
        heights = cover.sum(1)
        assert heights.max() - heights.min() <= 1


def test_uneven_stripes_of_six_rows():
    pool, _ = stripe_matrices(6, 4)
    assert (pool > 0).sum(1).tolist() == [1, 2, 1, 2]


@pytest.mark.parametrize("hw", [(6, 4), (7, 3), (2, 2), (1, 5), (24, 8)])
@pytest.mark.parametrize("stride", [1, 2])
def test_part_aware_any_height(hw, stride):
    m = PartAware(8, stride=stride)
    y = m(torch.randn(2, 8, *hw))
    assert y.shape == (2, 8, *[(n + stride - 1) // stride for n in hw])
    y.pow(2).sum().backward()
    assert m.body.weight.grad.abs().sum() > 0
    if hw[0] >= 2 * stride:  # distinct stripes: attention weights depend on the input
        assert m.query.weight.grad.abs().sum() > 0


def test_body_vectors_carry_stripe_content():
    """A change confined to the top stripe changes the output in the bottom stripe too
    (self-attention spreads body-structure information across parts)."""
    torch.manual_seed(0)
    m = PartAware(4).eval()
    x = torch.randn(1, 4, 8, 4)
    x2 = x.clone()
    x2[:, :, :2] += 3.0
    y, y2 = m(x), m(x2)
    assert not torch.allclose(y[:, :, 6:], y2[:, :, 6:])


def test_part_aware_cost_is_of_the_order_of_a_sep_conv():
    from autoreid.space.ops import build_op

    def params(mod):
        return sum(p.numel() for p in mod.parameters())

    C = 64  # the paper's width; today 2.6x, and BASELINE_REID_SEARCH_SPACE (two part_aware edges)
    # lands within 1% of the paper's 13.1 M (test_profile.py)
    ratio = params(PartAware(C)) / params(build_op("sep_conv_3x3", C, 1))
    assert 2.0 <= ratio <= 3.0
