import pytest
import torch

from autoreid.space.names import OP_NAMES, SPACES
from autoreid.space.ops import OPS, build_op


@pytest.mark.parametrize("name", list(OPS))
@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("hw", [(12, 8), (9, 5), (3, 2)])
def test_every_op_keeps_shape_or_halves_it(name, stride, hw):
    C = 8
    op = build_op(name, C, stride, affine=True)
    x = torch.randn(2, C, *hw, requires_grad=True)
    y = op(x)
    expected = [(n + stride - 1) // stride for n in hw]
    assert tuple(y.shape) == (2, C, *expected)
    y.pow(2).mean().backward()
    assert x.grad is not None


def test_registry_and_names_agree():
    assert tuple(OPS) == OP_NAMES
    for space in SPACES.values():
        assert set(space) <= set(OPS)
    assert set(SPACES["reid"]) - set(SPACES["standard"]) == {"part_aware"}


def test_zero_is_zero_and_skip_is_identity():
    x = torch.randn(1, 4, 6, 6)
    assert torch.equal(build_op("none", 4, 1)(x), torch.zeros_like(x))
    assert torch.equal(build_op("skip_connect", 4, 1)(x), x)


def test_unknown_op_is_a_user_error():
    from autoreid.errors import UserError

    with pytest.raises(UserError, match="unknown op 'conv_7x7'"):
        build_op("conv_7x7", 4, 1)


def test_strided_pointwise_and_factorized_reduce_match_strided_convs():
    """StridedPointwise = a 1x1 conv at stride 2 (on the grid starting at `offset`), and
    FactorizedReduce built from it = the DARTS definition with two stride-2 1x1 convs."""
    from torch import nn

    from autoreid.space.ops import FactorizedReduce, StridedPointwise

    torch.manual_seed(0)
    for h, w in ((8, 4), (9, 5), (1, 1)):
        x = torch.randn(2, 6, h, w)
        conv = nn.Conv2d(6, 8, 1, 2, bias=False)
        ours = StridedPointwise(6, 8)
        ours.weight.data.copy_(conv.weight.data)
        assert torch.allclose(ours(x), conv(x))
        fr = FactorizedReduce(6, 8).eval()
        a = nn.functional.conv2d(x.relu(), fr.conv_1.weight, stride=2)
        b = nn.functional.conv2d(nn.functional.pad(x.relu()[:, :, 1:, 1:], (0, 1, 0, 1)),
                                 fr.conv_2.weight, stride=2)[:, :, :a.shape[2], :a.shape[3]]
        assert torch.allclose(fr(x), fr.bn(torch.cat([a, b], 1)), atol=1e-6)


def test_narrow_networks_train_channels_last():
    """Networks of width 4 train in channels-last without touching the 1x1 stride-2 oneDNN kernel
    that corrupts memory (run in a child process: a corrupted heap aborts it)."""
    import subprocess
    import sys

    code = ("import torch\n"
            "from autoreid.models.build import ArchSpec, build\n"
            "cl = torch.channels_last\n"
            "for arch in ('resnet18', 'resnet50'):\n"
            "    m = build(ArchSpec(arch, 8, 4, (2, 2, 2, 2), embedding=16)).to(memory_format=cl)\n"
            "    for _ in range(5):\n"
            "        x = torch.randn(8, 3, 32, 16).contiguous(memory_format=torch.channels_last)\n"
            "        out = m(x); (out['f'].sum() + out['logits'].sum()).backward()\n"
            "s = build(ArchSpec('supernet', 8, 4, (1, 1, 1, 1), space='reid', embedding=16))\n"
            "s = s.to(memory_format=torch.channels_last)\n"
            "for _ in range(3):\n"
            "    x = torch.randn(4, 3, 32, 16).contiguous(memory_format=torch.channels_last)\n"
            "    s(x)['f'].sum().backward()\n"
            "print('ok')\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stderr[-2000:]
