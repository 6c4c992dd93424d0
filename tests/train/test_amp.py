"""Mixed precision on the CPU (bf16 autocast): the network's passes run in bf16 in search, train,
pretrain and extract, while alpha, the weights, the losses and the written features stay fp32."""
from __future__ import annotations

import h5py
import numpy as np
import pytest
import torch
import yaml

from autoreid import optim
from autoreid.config import resolve
from autoreid.amp import Precision
from autoreid.errors import UserError
from autoreid.models.build import ArchSpec, build
from autoreid.runtime import Placement
from autoreid.search import step
from autoreid.train import train as train_module
from autoreid.losses import objective_loss
from autoreid.train.train import train
from autoreid.cli import main  # in-process: the commands without another interpreter

CPU = torch.device("cpu")


def test_modes_and_their_errors():
    assert Precision("off", CPU).dtype is None and Precision("off", CPU).scaler is None
    bf16 = Precision("bf16", CPU)
    assert bf16.dtype == torch.bfloat16 and bf16.scaler is None
    conv = torch.nn.Conv2d(3, 4, 3)
    with bf16.autocast():
        assert conv(torch.randn(1, 3, 8, 8)).dtype == torch.bfloat16
    with Precision("off", CPU).autocast():
        assert conv(torch.randn(1, 3, 8, 8)).dtype == torch.float32
    with pytest.raises(UserError, match="fp16 needs a CUDA device"):
        Precision("fp16", CPU)
    with pytest.raises(UserError, match="amp: must be one of off, bf16, fp16, got 'fp8'"):
        Precision("fp8", CPU)


def test_the_losses_are_fp32_on_bf16_outputs():
    g = torch.Generator().manual_seed(0)
    out = {"f": torch.randn(6, 5, generator=g), "logits": torch.randn(6, 3, generator=g)}
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    exact = objective_loss(out, labels, "retrieval")
    low = objective_loss({k: v.bfloat16() for k, v in out.items()}, labels, "retrieval")
    assert low.dtype == torch.float32
    assert low.item() == pytest.approx(exact.item(), rel=2e-2)


def test_a_bf16_search_step_moves_fp32_alphas_with_fp32_losses(monkeypatch):
    torch.manual_seed(0)
    model = build(ArchSpec("supernet", 3, 4, (1, 1, 1, 1), space="reid", embedding=8,
                           dropout=0.0)).train()
    cfg = resolve("search", overrides=dict(C=4, layers=(1, 1, 1, 1), height=32, width=16, P=3, K=2))
    w_params = model.backbone.weight_parameters() + list(model.head.parameters())
    w_opt = torch.optim.SGD(w_params, 0.1, momentum=0.9)
    a_opt = torch.optim.Adam(model.backbone.arch_parameters(), 0.02)
    before = [a.detach().clone() for a in model.backbone.arch_parameters()]
    seen = []
    real = step.objective_loss

    def spy(out, *args, **kwargs):
        loss = real(out, *args, **kwargs)
        seen.append((out["f"].dtype, loss.dtype))
        return loss

    monkeypatch.setattr(step, "objective_loss", spy)
    g = torch.Generator().manual_seed(1)
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    batches = [(torch.randn(6, 3, 32, 16, generator=g), labels) for _ in range(2)]
    lw, la = step.search_step(model, cfg, w_params, w_opt, a_opt, *batches, 0.1,
                              Precision("bf16", CPU))
    assert seen == [(torch.bfloat16, torch.float32)] * 2  # omega step, alpha step
    assert np.isfinite(lw) and np.isfinite(la)
    for a, b in zip(model.backbone.arch_parameters(), before):
        assert a.dtype == torch.float32 and not torch.equal(a, b)
    assert all(p.dtype == torch.float32 for p in model.parameters())


def test_bf16_train_extract_and_pretrain_through_the_cli(market, tmp_path, monkeypatch):
    cfg = resolve("train", overrides=dict(
        C=4, layers=(1, 1, 1, 1), height=32, width=16, pad=1, P=4, K=2, epochs=1,
        milestones=(1,), embedding=16, dropout=0.1, lr=0.01))
    seen = []
    real = train_module.objective_loss

    def spy(out, *args, **kwargs):
        seen.append(out["f"].dtype)
        return real(out, *args, **kwargs)

    monkeypatch.setattr(train_module, "objective_loss", spy)
    out = tmp_path / "train"
    train(str(market["manifest"]), "DARTS_V2", str(out), cfg, Placement.cpu("bf16"))
    assert seen and set(seen) == {torch.bfloat16}
    saved = yaml.safe_load((out / "config.yaml").read_text())["config"]
    assert saved["amp"] == "bf16" and saved["devices"]["device"] == "cpu"
    state = torch.load(out / "model.pt", weights_only=False)["state_dict"]
    assert all(v.dtype in (torch.float32, torch.int64) for v in state.values())

    features = {}
    for amp in ("off", "bf16"):
        path = tmp_path / f"{amp}.h5"
        assert main(["extract", "--manifest", str(market["manifest"]), "--checkpoint",
                     str(out / "model.pt"), "--out", str(path), "--set", f"amp={amp}",
                     "--set", "device=cpu"]) == 0
        with h5py.File(path) as f:
            assert f["query/features"].dtype == np.float32 and f.attrs["amp"] == amp
            features[amp] = f["gallery/features"][()]
    a, b = features["off"], features["bf16"]
    cos = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    assert cos.min() > 0.98 and not np.array_equal(a, b)  # bf16 ran, and it is close

    pre = tmp_path / "pretrain"
    assert main(["data", "synth", "--dataset", "imagenet", "--out-dir", str(tmp_path / "imagenet"),
                 "--set", "classes=2", "--set", "images_per_class=4", "--set", "size=16"]) == 0
    assert main(["pretrain", "--raw", str(tmp_path / "imagenet"), "--arch", "DARTS_V2", "--out-dir",
                 str(pre), "--set", "train.C=4", "--set", "train.layers=[1,1,1,1]", "--set",
                 "epochs=1", "--set", "batch_size=4", "--set", "height=16", "--set", "width=16",
                 "--set", "amp=bf16", "--set", "device=cpu"]) == 0
    assert yaml.safe_load((pre / "config.yaml").read_text())["config"]["amp"] == "bf16"
    assert (pre / "weights.pt").is_file()


def test_the_part_aware_attention_runs_in_fp32_under_bf16():
    from autoreid.space.part_aware import PartAware

    torch.manual_seed(0)
    module = PartAware(8).eval()
    seen = []
    module.query.register_forward_hook(lambda m, inputs, out: seen.append((inputs[0].dtype, out.dtype)))
    x = torch.randn(2, 8, 12, 4)
    exact = module(x)
    with Precision("bf16", CPU).autocast():
        low = module(x.bfloat16())
    assert seen == [(torch.float32, torch.float32)] * 2  # the attention: fp32 both times
    assert low.dtype == torch.bfloat16  # the fused output joins the network's precision
    torch.testing.assert_close(low.float(), exact, rtol=0.05, atol=0.05)


@pytest.mark.parametrize("make", [lambda p: optim.Adam(p, 0.1), lambda p: torch.optim.Adam(p, 0.1)],
                         ids=["fused: skipped on the device", "not fused: asked of the host"])
def test_a_bf16_step_with_non_finite_gradients_is_skipped(make):
    w = torch.nn.Parameter(torch.ones(3))
    opt = make([w])
    lines = []
    bf16, off = Precision("bf16", CPU, lines.append), Precision("off", CPU)
    w.grad = torch.tensor([1.0, float("nan"), 1.0])
    bf16.step(opt)
    assert torch.equal(w.detach(), torch.ones(3)) and bf16.skipped == 1  # untouched
    bf16.report()
    w.grad = torch.tensor([1.0, 1.0, 1.0])
    bf16.step(opt)
    bf16.report()  # nothing new to say
    assert (w.detach() < 1).all() and bf16.skipped == 1
    assert lines == ["[amp] non-finite gradients: 1 step(s) skipped (1 so far)"]
    w.grad = torch.tensor([float("inf"), 1.0, 1.0])
    off.step(opt)  # fp32 steps as asked: the run's loss check reports the NaN
    assert torch.isnan(w.detach()[0])


@pytest.mark.parametrize("capability,expected", [((7, 0), "fp16"), ((7, 5), "fp16"),
                                                 ((8, 0), "bf16"), ((9, 0), "bf16")])
def test_bf16_falls_back_to_fp16_on_gpus_without_bf16_tensor_cores(monkeypatch, capability, expected):
    """A V100 (7.0) or T4 (7.5) emulates bf16, and torch.cuda.is_bf16_supported() says yes there:
    the fallback asks the compute capability (no GPU here: the two device queries answer as a
    V100, T4, A100 or H100 would)."""
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: f"GPU {capability}")
    said = []
    p = Precision("bf16", torch.device("cuda", 0), said.append)
    assert p.mode == expected
    fallback = [f"[amp] GPU {capability} has no bf16 tensor cores: using fp16"]
    assert said == (fallback if expected == "fp16" else [])
