"""Checkpoints as `autoreid train` writes them: one really trained (one epoch on the synthetic
Market-1501), and untrained ones of every kind of network (random weights and batch-norm
statistics, so that a graph which dropped or misplaced a layer would not agree)."""
from pathlib import Path

import pytest
import torch

from autoreid.data.images import input_spec
from autoreid.models.build import arch_spec, build, save_model

HEIGHT, WIDTH = 32, 16


def save_untrained(path: Path, arch: str, head: str = "reid", feature: str = "f") -> Path:
    torch.manual_seed(0)
    spec = arch_spec(str(arch), 5, 4, (1, 1, 1, 1), embedding=16, head=head)
    model = build(spec)
    for m in model.modules():
        if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
    save_model(path, model, spec, {"config": {"height": HEIGHT, "width": WIDTH},
                                   "input": input_spec(HEIGHT, WIDTH), "feature": feature})
    return path


@pytest.fixture(scope="module")
def trained(market, tmp_path_factory) -> Path:
    """model.pt (and model.yaml) of a real one-epoch training of DARTS_V2 at C=4."""
    from autoreid.config import resolve
    from autoreid.runtime import Placement
    from autoreid.train.train import train

    out = tmp_path_factory.mktemp("trained")
    cfg = resolve("train", overrides=dict(C=4, layers=[1, 1, 1, 1], epochs=1, height=HEIGHT,
                                          width=WIDTH, pad=1, P=4, K=2, embedding=16,
                                          milestones=[1], eval_every=1))
    return train(str(market["manifest"]), "DARTS_V2", str(out), cfg, Placement.cpu())
