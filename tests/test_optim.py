"""autoreid.optim: torch's SGD and Adam updates, step for step, and no torch._dynamo import on the
way (a search and a training run in a fresh process, as Snakemake starts them)."""
import subprocess
import sys

import pytest
import torch

from autoreid import optim
from conftest import ROOT


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
    mine, theirs = trajectory(lambda p: ours(p, **kw)), trajectory(lambda p: torchs(p, **kw))
    assert all(torch.equal(a, b) for a, b in zip(mine, theirs))
    assert not all(torch.equal(a, b) for a, b in zip(mine, trajectory(lambda p: ours(p, lr=0.0))))


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
                f"rc = main({[str(a) for a in args] + ['--device', 'cpu', '--threads', '1']!r}); "
                "print(rc, 'torch._dynamo' in sys.modules)")
        proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                              text=True, timeout=300)
        assert proc.stdout.split()[-2:] == ["0", "False"], proc.stdout + proc.stderr
