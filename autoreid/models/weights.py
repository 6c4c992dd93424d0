"""Starting a network from ImageNet weights: `autoreid pretrain`'s backbone weights (the same
architecture only), or torchvision's ResNet weights already in the local torch cache."""
from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from autoreid.errors import UserError
from autoreid.models.build import ArchSpec, load_checkpoint

BACKBONE_KEYS = ("arch", "C", "layers", "genotype", "space")


def load_pretrained(model: nn.Module, spec: ArchSpec, path: str) -> None:
    """Initialise model.backbone from `autoreid pretrain` weights, or from torchvision's ImageNet
    ResNet weights when `path` is `torchvision` (only if already in the local torch cache)."""
    if path == "torchvision":
        state = _torchvision_state(spec)
    else:
        ckpt = load_checkpoint(path)
        if "backbone" not in ckpt or "spec" not in ckpt:
            raise UserError(f"{path}: not pre-trained weights from `autoreid pretrain`")
        theirs = {k: ckpt["spec"].get(k) for k in BACKBONE_KEYS}
        ours = {k: v for k, v in spec.to_dict().items() if k in BACKBONE_KEYS}
        if theirs != ours:
            diff = ", ".join(f"{k}: {theirs[k]!r} vs {ours[k]!r}" for k in BACKBONE_KEYS
                             if theirs[k] != ours[k] and k != "genotype") or "genotype differs"
            raise UserError(f"{path}: pre-trained architecture does not match the network being "
                            f"trained ({diff})")
        state = ckpt["backbone"]
    missing, unexpected = model.backbone.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise UserError(f"{path}: weights do not fit the backbone ({len(missing)} missing, "
                        f"{len(unexpected)} unexpected tensors)")


def _torchvision_state(spec: ArchSpec) -> dict:
    if spec.arch not in ("resnet18", "resnet34", "resnet50") or spec.C != 64:
        raise UserError("--init torchvision: only ResNet-18/34/50 at width 64 have torchvision weights")
    folder = Path(torch.hub.get_dir()) / "checkpoints"
    found = sorted(folder.glob(f"{spec.arch}-*.pth"))
    if not found:
        raise UserError(f"--init torchvision: no {spec.arch}-*.pth in the local torch cache {folder}; "
                        "autoreid never downloads weights at run time (put the file there, or "
                        "pre-train with `autoreid pretrain`)")
    state = torch.load(found[-1], map_location="cpu", weights_only=True)
    return {k: v for k, v in state.items() if not k.startswith("fc.")}
