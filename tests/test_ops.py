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
