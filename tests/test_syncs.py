"""Nothing inside a search step or a training step makes the host wait for the device: the ops that
force a synchronisation on a GPU (`.item()`'s `_local_scalar_dense`, `nonzero` and what calls it,
copies between devices) are counted with a TorchDispatchMode around real steps on the CPU, and held
at zero outside the logging step, where the losses are read back. On the meta device (standing in
for a GPU: a copy from the host to it is seen as one), a forward and backward pass of the supernet
and of the PCB network copy nothing after their first."""
from __future__ import annotations

import pytest
import torch

from autoreid import optim
from autoreid.amp import Precision
from autoreid.config import resolve
from autoreid.loop import Loop
from autoreid.losses import objective_loss
from autoreid.models.build import ArchSpec, arch_spec, build
from autoreid.search.step import search_step
from autoreid.syncs import Syncs
from autoreid.train import train

CPU = torch.device("cpu")


def supernet(space: str = "reid"):
    torch.manual_seed(0)
    spec = ArchSpec("supernet", 4, 4, (1, 1, 1, 1), space=space, embedding=8, dropout=0.1)
    return build(spec).to(memory_format=torch.channels_last).train()


def pk_batch(seed: int, P: int = 4, K: int = 2, height: int = 32, width: int = 16):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(P * K, 3, height, width, generator=g).to(memory_format=torch.channels_last)
    return x, torch.arange(P).repeat_interleave(K)


def search_setup(order: str, amp: str):
    model = supernet()
    cfg = resolve("search", overrides={"order": order, "loss": "retrieval", "grad_clip": 5.0})
    w_params = model.backbone.weight_parameters() + list(model.head.parameters())
    w_opt = optim.SGD(w_params, 0.025, momentum=0.9, weight_decay=3e-4)
    a_opt = optim.Adam(model.backbone.arch_parameters(), 3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
    precision = Precision(amp, CPU)

    def step(seed: int):
        return search_step(model, cfg, w_params, w_opt, a_opt, pk_batch(seed), pk_batch(seed + 100),
                           0.025, precision)
    return step


@pytest.mark.parametrize("order, amp", [("first", "off"), ("first", "bf16"), ("second", "off")])
def test_a_search_step_never_waits_for_the_device(order, amp):
    step = search_setup(order, amp)
    with Syncs() as syncs:  # the first step too: it makes the optimizers' state
        losses = step(0)
    assert syncs.seen == []
    assert all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in losses)  # not read back


@pytest.mark.parametrize("arch, head, amp", [("DARTS_V2", "reid", "off"), ("DARTS_V2", "reid", "bf16"),
                                             ("resnet18", "pcb", "off")])
def test_a_training_step_never_waits_for_the_device(arch, head, amp):
    cfg = resolve("train", overrides={"head": head, "loss": "retrieval", "P": 4, "K": 2})
    torch.manual_seed(0)
    model = build(arch_spec(arch, 4, 8, (1, 1, 1, 1), 16, 0.1, head=head)).train()
    model.to(memory_format=torch.channels_last)
    opt = optim.Adam(model.parameters(), 3.5e-4, betas=(0.9, 0.999), weight_decay=5e-4)
    precision = Precision(amp, CPU)
    with Syncs() as syncs:
        for seed in (0, 1):
            loss = train._step(model, opt, precision, cfg, *pk_batch(seed), CPU)
    assert syncs.seen == [] and loss.dim() == 0


def test_the_losses_are_read_back_at_the_logging_steps_only(tmp_path):
    loop = Loop("train", tmp_path, {"lr": 0.1}, 1, {}, fresh=lambda: {"loss": 0.0}, read_every=3)
    _, sums = loop.begin(0)
    reads, read = [], sums.read
    sums.read = lambda: reads.append(step) or read()
    for step in range(5):
        with Syncs() as syncs:
            sums.add(step, loss=torch.tensor(float(step)))
            loop.after_step(0, step, 5, sums)
        assert syncs.seen == []  # on the CPU a read is no op; on a GPU, one copy to the host
    assert reads == [2, 4]  # every third step, and the epoch's last
    assert sums["loss"] == 10.0 and sums.recent == {"loss": 3.5}  # steps 3 and 4: (3 + 4) / 2


def test_a_nan_is_named_at_the_step_it_appeared_though_read_later(tmp_path):
    loop = Loop("search", tmp_path, {"lr": 0.1}, 1, {}, fresh=lambda: {"loss_w": 0.0, "loss_alpha": 0.0},
                read_every=10)
    _, sums = loop.begin(0)
    for step in range(9):
        nan = float("nan") if step == 4 else 1.0
        sums.add(step, loss_w=torch.tensor(1.0), loss_alpha=torch.tensor(nan))
        loop.after_step(0, step, 20, sums)  # no logging step yet: nothing raised
    from autoreid.errors import UserError
    with pytest.raises(UserError, match=r"^search: loss became nan at epoch 1 step 5; last good "
                                        r"checkpoint: none$"):
        sums.add(9, loss_w=torch.tensor(1.0), loss_alpha=torch.tensor(1.0))
        loop.after_step(0, 9, 20, sums)


@pytest.mark.parametrize("make", [lambda: supernet(), lambda: build(
    arch_spec("resnet18", 4, 8, (1, 1, 1, 1), 16, 0.1, head="pcb"))])
def test_a_pass_on_a_device_copies_no_constant_from_the_host_after_the_first(make):
    model = make().to("meta").train()
    x = torch.empty(8, 3, 32, 16, device="meta")
    y = torch.empty(8, dtype=torch.long, device="meta")

    def forward_backward():
        loss = objective_loss(model(x), y, "retrieval")
        loss.backward()

    forward_backward()
    with Syncs() as syncs:
        forward_backward()
    assert syncs.seen == []


def test_the_counter_sees_what_syncs():
    x = torch.randn(6)
    with Syncs() as syncs:
        x.sum().item()
        x[x > 0]
        x.to("meta")
        torch.where(x > 0, x, 0.0).sum()
    assert syncs.seen == ["aten._local_scalar_dense.default", "aten.index.Tensor",
                          "aten._to_copy.default"]

