"""A count of the operations that make the host wait for the device: `.item()`'s
`_local_scalar_dense`, `nonzero` and what calls it (boolean indexing, `masked_select`, `unique`),
`is_nonzero` (a tensor's truth value), `equal`, `allclose`, and copies between devices. Used by the
tests (none inside a step) and benchmarks/gpu.py (syncs per step on a GPU).

    with Syncs() as syncs:
        step()
    syncs.seen  # the ops, in order
"""
from __future__ import annotations

import torch
from torch.utils._python_dispatch import TorchDispatchMode

aten = torch.ops.aten
READS = {aten._local_scalar_dense, aten.nonzero, aten.is_nonzero, aten.equal, aten.masked_select,
         aten._unique2, aten.unique_dim, aten.unique_consecutive, aten.allclose}
COPIES = {aten._to_copy, aten.copy_, aten.to}


class Syncs(TorchDispatchMode):
    """Records every op run under it that would make the host wait for the device (eager code
    only: torch.compile refuses to run under a dispatch mode)."""

    def __init__(self):
        super().__init__()
        self.seen: list[str] = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        packet = func.overloadpacket
        if packet in READS or _bool_index(packet, args) or _crosses(packet, args, out):
            self.seen.append(str(func))
        return out


def _bool_index(packet, args) -> bool:
    """x[mask]: a nonzero inside the kernel."""
    return packet in (aten.index, aten.index_put, aten.index_put_) and any(
        isinstance(i, torch.Tensor) and i.dtype == torch.bool for i in args[1] or ())


def _crosses(packet, args, out) -> bool:
    if packet not in COPIES or not isinstance(out, torch.Tensor):
        return False
    source = args[1] if packet is aten.copy_ else args[0]
    return isinstance(source, torch.Tensor) and source.device != out.device
