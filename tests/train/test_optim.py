"""autoreid.optim: torch's fused SGD and Adam updates, step for step; a first step skipped on the
device leaves no garbage behind; and no torch._dynamo import on the way (a search and a training run
in a fresh process, as Snakemake starts them)."""
import subprocess
import sys

import pytest
import torch

from autoreid import optim
from helpers import ROOT


def trajectory(make, steps: int = 5) -> list[torch.Tensor]:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU())
    opt = make(model.parameters())
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [2], 0.1)
    x = torch.randn(4, 3, 8, 8)
    for _ in range(steps):
        opt.zero_grad()
        model(x).pow(2).mean().backward()
        opt.step()
        sched.step()
    twin = make(model.parameters())
    twin.load_state_dict(opt.state_dict())  # the state round-trips
    assert twin.state_dict()["param_groups"] == opt.state_dict()["param_groups"]
    return [p.detach().clone() for p in model.parameters()]


@pytest.mark.parametrize("ours, torchs, kw", [
    (optim.SGD, torch.optim.SGD, dict(lr=0.1, momentum=0.9, weight_decay=5e-4)),
    (optim.Adam, torch.optim.Adam, dict(lr=0.01, betas=(0.5, 0.999), weight_decay=1e-3)),
])
@pytest.mark.smoke
def test_the_update_is_torchs(ours, torchs, kw):
    mine, theirs = trajectory(lambda p: ours(p, **kw)), trajectory(lambda p: torchs(p, fused=True, **kw))
    assert all(torch.equal(a, b) for a, b in zip(mine, theirs))
    assert not all(torch.equal(a, b) for a, b in zip(mine, trajectory(lambda p: ours(p, lr=0.0))))
    plain = trajectory(lambda p: torchs(p, **kw))  # torch's default kernels: the same to rounding
    assert all(torch.allclose(a, b, rtol=1e-4, atol=1e-4) for a, b in zip(mine, plain))
    assert ours([torch.nn.Parameter(torch.zeros(1))], **kw).defaults["fused"]


@pytest.mark.parametrize("make", [lambda p: optim.SGD(p, 0.1, momentum=0.9, weight_decay=5e-4),
                                  lambda p: optim.Adam(p, 0.1, weight_decay=5e-4)])
def test_a_first_step_skipped_on_the_device_leaves_the_state_as_new(make):
    """The fused kernels skip a step whose `found_inf` is set; skipped first, the next step is the
    first step a fresh optimizer takes (torch's fused SGD alone would leave its momentum buffer
    uninitialised there)."""
    w, fresh_w = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    opt, fresh = make([w]), make([fresh_w])
    w.grad = torch.tensor([1.0, float("nan"), 2.0])
    opt.found_inf = torch.ones(())
    opt.step()
    del opt.found_inf
    assert torch.equal(w.detach(), torch.ones(3))
    for p in (w, fresh_w):
        p.grad = torch.tensor([1.0, -1.0, 2.0])
    opt.step()
    fresh.step()
    assert torch.equal(w.detach(), fresh_w.detach())
    for p in (w, fresh_w):
        p.grad = torch.tensor([0.5, 0.5, 0.5])
    opt.step()
    fresh.step()
    assert torch.equal(w.detach(), fresh_w.detach())  # the momentum (or moments) too


def test_the_optimizers_leave_torch_as_it_is_and_never_import_dynamo():
    """Building our Adam and SGD, an lr schedule over them, a step and the state's round trip import
    no torch._dynamo, and torch.optim.Optimizer's own methods are the ones torch defined."""
    code = """
import sys, torch
wrapper = torch._disable_dynamo(lambda: None).__code__
before = dict(vars(torch.optim.Optimizer))
from autoreid import optim
model = torch.nn.Linear(3, 2)
for make in (lambda p: optim.Adam(p, 0.01), lambda p: optim.SGD(p, 0.1, momentum=0.9)):
    opt = make(model.parameters())
    sched = torch.optim.lr_scheduler.MultiStepLR(opt, [1], 0.1)
    opt.zero_grad(set_to_none=True)
    model(torch.randn(4, 3)).sum().backward()
    opt.step()
    sched.step()
    make(model.parameters()).load_state_dict(opt.state_dict())
    opt.add_param_group({"params": [torch.nn.Parameter(torch.zeros(1))]})
wrapped = [k for k, v in vars(torch.optim.Optimizer).items() if getattr(v, "__code__", None) is wrapper]
marked = [k for k in wrapped if hasattr(vars(torch.optim.Optimizer)[k].__wrapped__, "__dynamo_disable")]
print("torch._dynamo" in sys.modules, dict(vars(torch.optim.Optimizer)) == before, len(wrapped), marked)
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "True", "4", "[]"], proc.stdout


def test_search_and_training_never_import_dynamo(market, tmp_path):
    net = ["C=4", "layers=[1,1,1,1]", "height=32", "width=16", "pad=1", "P=2", "K=2",
           "embedding=16", "epochs=1"]
    sets = [x for s in net for x in ("--set", s)]
    commands = [
        ["search", "--split", market["split"], "--out-dir", tmp_path / "s", *sets],
        ["train", "--manifest", market["manifest"], "--arch", "DARTS_V2", "--out-dir", tmp_path / "t",
         *sets],
    ]
    for args in commands:
        code = ("import sys; from autoreid.cli import main; "
                f"rc = main({[str(a) for a in args] + ['--set', 'device=cpu', '--threads', '1']!r}); "
                "print(rc, 'torch._dynamo' in sys.modules)")
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert proc.stdout.split()[-2:] == ["0", "False"], proc.stdout + proc.stderr
