"""`compile: on`: the step's network compiled whole (no graph break) and equal to eager within fp32
tolerance, in a search step (first and second order) and a training step; a search and a
training run with it. The graphs are captured with the "aot_eager" backend (dynamo and
AOTAutograd, the forward and backward graphs inductor would get, without building C++: inductor on
this CPU takes minutes for a supernet; benchmarks/search.py times it)."""
from __future__ import annotations

import copy

import pytest
import torch

from autoreid import compiled as compiled_module
from autoreid import optim
from autoreid.amp import Precision
from autoreid.compiled import compiled
from autoreid.config import resolve
from autoreid.models.build import ReIDNet, arch_spec, build
from autoreid.models.head import HEADS
from autoreid.search.step import search_step
from autoreid.space.supernet import Supernet
from autoreid.train import train

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def aot_eager(monkeypatch):
    monkeypatch.setattr(compiled_module, "BACKEND", "aot_eager")
    torch._dynamo.reset()


def pk_batch(seed: int):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(8, 3, 32, 16, generator=g), torch.arange(4).repeat_interleave(2)


def params_of(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_off_is_the_network_itself():
    model = torch.nn.Linear(2, 2)
    assert compiled(model, CPU, False) is model


def small_supernet() -> ReIDNet:
    """The ReID space's supernet with 2 nodes a cell (5 mixed edges, not 14): the same code as
    the searched one, a third of the graph to trace."""
    torch.manual_seed(0)
    backbone = Supernet("reid", 4, (1, 1, 1, 1), nodes=2)
    return ReIDNet(backbone, HEADS["reid"](backbone.out_channels, 4, dropout=0.0, embedding=8)).train()


def test_a_compiled_search_step_equals_eager():
    """Second order: the omega step and the unrolled alpha gradient's four passes (with the
    part-aware op), all through the compiled network."""
    eager = small_supernet()
    twin_model = copy.deepcopy(eager)
    cfg = resolve("search", overrides={"order": "second", "loss": "retrieval", "grad_clip": 5.0})
    results = []
    for model, net in ((eager, eager), (twin_model, compiled(twin_model, CPU, True))):
        w_params = model.backbone.weight_parameters() + list(model.head.parameters())
        w_opt = optim.SGD(w_params, 0.025, momentum=0.9, weight_decay=3e-4)
        a_opt = optim.Adam(model.backbone.arch_parameters(), 3e-4, betas=(0.5, 0.999), weight_decay=1e-3)
        losses = [search_step(net, cfg, w_params, w_opt, a_opt, pk_batch(s), pk_batch(s + 9), 0.025,
                              Precision("off", CPU)) for s in (1, 2)]
        results.append((losses, params_of(model)))
    (eager_losses, eager_params), (twin_losses, twin_params) = results
    for a, b in zip(eager_losses, twin_losses):
        torch.testing.assert_close(torch.stack(a), torch.stack(b), rtol=1e-5, atol=1e-5)
    for a, b in zip(eager_params, twin_params):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert not torch.equal(eager_params[0], params_of(small_supernet())[0])  # they moved


@pytest.mark.parametrize("amp", ["off", "bf16"])
def test_a_compiled_training_step_equals_eager(amp):
    torch.manual_seed(0)
    eager = build(arch_spec("DARTS_V2", 4, 8, (1, 1, 1, 1), 16, 0.0)).train()
    twin_model = copy.deepcopy(eager)
    cfg = resolve("train", overrides={"loss": "retrieval", "P": 4, "K": 2})
    results = []
    for model, net in ((eager, eager), (twin_model, compiled(twin_model, CPU, True))):
        opt = optim.Adam(model.parameters(), 3.5e-4, betas=(0.9, 0.999), weight_decay=5e-4)
        losses = [train._step(net, opt, Precision(amp, CPU), cfg, *pk_batch(s), CPU) for s in (1, 2)]
        results.append((torch.stack(losses), params_of(model)))
    tolerance = dict(rtol=1e-5, atol=1e-5) if amp == "off" else dict(rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(results[0][0], results[1][0], **tolerance)
    for a, b in zip(results[0][1], results[1][1]):
        torch.testing.assert_close(a, b, **tolerance)


def test_search_and_training_runs_with_compile_on(market, tmp_path):
    from autoreid.runtime import Placement
    from autoreid.search.search import search

    net = dict(C=4, layers=(1, 1, 1, 1), height=32, width=16, pad=1, P=2, K=2, epochs=1, embedding=16)
    where = Placement.cpu(compile=True)
    result = search(str(market["split"]), str(tmp_path / "s"),  # the standard space: half the tracing
                    resolve("search", overrides=dict(net, space="standard")), where)
    assert len(result["alpha_normal"]) > 0
    model = train.train(str(market["manifest"]), "DARTS_V2", str(tmp_path / "t"),
                        resolve("train", overrides=dict(net, eval_every=1)), where)
    assert model.is_file()
    state = torch.load(model, weights_only=True)
    assert not any("_orig_mod" in k for k in state["state_dict"])  # the network's own keys
