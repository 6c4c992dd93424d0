"""`autoreid train|pretrain`: a network trained for reID with the retrieval loss, and a backbone
pre-trained on ImageNet (under torchrun for several processes)."""
from __future__ import annotations

import dataclasses
import os

from autoreid.cli.options import add_params, add_runtime, config, setup

ARCH = "resnet18|resnet34|resnet50, a published genotype name, or a genotype file"


def train(a) -> None:
    from autoreid.train.train import train as run

    cfg = config(a, "train", a.setting)
    if a.seed is not None:
        cfg = dataclasses.replace(cfg, seed=a.seed)
    feature = config(a, "evaluate").feature
    path = run(a.manifest, a.arch, a.out_dir, cfg, setup(a, cfg.seed), a.name, a.weights, feature)
    print(f"model -> {path}")


def pretrain(a) -> None:
    from autoreid.pretrain import pretrain as run

    cfg = config(a, "pretrain")
    net = config(a, "train", a.setting)
    path = run(a.raw, a.arch, net.C, net.layers, a.out_dir, cfg, setup(a, cfg.seed), a.name)
    if os.environ.get("RANK", "0") == "0":
        print(f"weights -> {path}")


def add_parser(sub) -> None:
    s = sub.add_parser("train", help="train a network from scratch with the retrieval loss")
    s.add_argument("--manifest", required=True, help="manifest.csv (its `train` split is used)")
    s.add_argument("--arch", required=True, help=ARCH)
    s.add_argument("--out-dir", required=True, help="run folder (model.pt, log.csv, checkpoint)")
    s.add_argument("--name", help="name of the network in logs and tables (default: from --arch)")
    s.add_argument("--seed", type=int, help="training seed k: initialisation, sampling and "
                   "augmentation (default: the params' train.seed)")
    s.add_argument("--weights", help="start the backbone from these weights (`autoreid "
                   "pretrain`'s weights.pt, or `torchvision` for ResNet weights already in the "
                   "torch cache); a setting with init: imagenet needs them (default: random "
                   "initialisation)")
    add_params(s, "train", "`train` section (and `evaluate.feature`)", "setting")
    add_runtime(s)
    s.set_defaults(func=train)

    s = sub.add_parser("pretrain", help="ImageNet pre-training (run it under torchrun for several "
                       "processes/GPUs/nodes)")
    s.add_argument("--raw", required=True, help="the ImageNet folder (train/<class>/<image>)")
    s.add_argument("--arch", required=True, help=ARCH)
    s.add_argument("--out-dir", required=True, help="run folder (weights.pt, log.csv, checkpoint)")
    s.add_argument("--name", help="name of the network in logs (default: from --arch)")
    s.add_argument("--setting", help="train setting whose C and layers the backbone takes "
                   "(default: none, the `train` section's)")
    add_params(s, "pretrain", "`pretrain` section, and the `train` section's C and layers")
    add_runtime(s, store=False)
    s.set_defaults(func=pretrain)
