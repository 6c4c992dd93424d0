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


@pytest.mark.parametrize("stride", [1, 2])
def test_part_aware_keeps_its_inputs_memory_format(stride):
    """Channels-last in, channels-last through the fusion and out, and in the gradient it sends
    back (the networks train channels-last; a NCHW tensor in between made every op of the fusion
    mix formats, a ReLU's backward ~25x slower on a CPU); NCHW in, NCHW out."""
    m = PartAware(8, stride=stride)
    seen = []
    m.fuse.register_forward_hook(lambda mod, inp, out: seen.append(inp[0]))
    x = torch.randn(4, 8, 12, 6).contiguous(memory_format=torch.channels_last).requires_grad_()
    y = m(x)
    y.sum().backward()
    for t in (seen[0], y, x.grad):
        assert t.is_contiguous(memory_format=torch.channels_last) and not t.is_contiguous()
    assert m(torch.randn(4, 8, 12, 6)).is_contiguous()


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


def _count(module, C, h, w):
    from torch.utils.flop_counter import FlopCounterMode

    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        module(torch.zeros(1, C, h, w, device="meta"))
    return sum(p.numel() for p in module.parameters()), counter.get_total_flops() / 2


@pytest.mark.parametrize("C,stride", [(64, 1), (128, 2), (256, 2)])
def test_part_aware_cost_against_sep_conv_3x3(C, stride):
    """The module alone against sep_conv_3x3 at the same C and stride (docs/part_aware.md): the
    paper's counts for the released Auto-ReID cell (13.1 M, 2.05 G; test_profile.py) leave about
    3x a sep_conv's parameters and multiply-adds per module at stride 2, and that is what it costs."""
    from autoreid.space.ops import build_op

    with torch.device("meta"):
        module, sep = PartAware(C, stride), build_op("sep_conv_3x3", C, stride)
    (p, f), (ps, fs) = _count(module, C, 96, 32), _count(sep, C, 96, 32)
    assert p == 6 * C * C + C + 2 * C  # body C^2 + bias, q/k/v 3C^2, fusion 2C^2 + BN
    assert 2.5 <= p / ps <= 3.0
    # per output pixel: the fusion's 2C^2, and the body's C^2 at each of the stride^2 input pixels
    assert 1.2 <= f / fs <= 1.4 if stride == 1 else 2.7 <= f / fs <= 3.0
