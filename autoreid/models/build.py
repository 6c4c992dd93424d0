"""One factory for every network: an ArchSpec (plain data, saved in checkpoints) -> ReIDNet."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from torch import nn

from autoreid.errors import UserError
from autoreid.models.head import HEADS
from autoreid.models.network import CellNetwork
from autoreid.models.resnet import DEPTHS, ResNet
from autoreid.space import genotypes
from autoreid.space.genotypes import Genotype
from autoreid.space.supernet import Supernet


@dataclass(frozen=True)
class ArchSpec:
    """What to build. `arch`: resnet18|resnet34|resnet50 (C = width), `cells` (a genotype in the
    ResNet macro structure) or `supernet` (the search network of `space`)."""
    arch: str
    num_classes: int
    C: int = 64
    layers: tuple[int, ...] = (2, 2, 2, 2)
    genotype: dict | None = None
    space: str | None = None
    embedding: int = 512
    dropout: float = 0.5
    name: str = ""
    head: str = "reid"
    neck: str = "none"  # none | bnneck (autoreid.models.head)
    pool: str = "avg"  # avg | gem
    aux_skip: bool = False  # supernet: DARTS-'s auxiliary skip on its edges (search.regularizer)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["layers"] = list(self.layers)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "ArchSpec":
        d = dict(d)
        d.pop("extra", None)  # an empty field of checkpoints written before it went
        d["layers"] = tuple(d.get("layers", (2, 2, 2, 2)))
        return cls(**d)


def arch_spec(arch: str, num_classes: int, C: int, layers, embedding: int = 512,
              dropout: float = 0.5, name: str | None = None, head: str = "reid", neck: str = "none",
              pool: str = "avg") -> ArchSpec:
    """Spec from a user-facing name: a ResNet name, a published genotype name or a genotype file."""
    if head not in HEADS:
        raise UserError(f"unknown head {head!r} (known: {', '.join(HEADS)})")
    shared = {"embedding": embedding, "dropout": dropout, "head": head, "neck": neck, "pool": pool}
    if arch in DEPTHS:
        return ArchSpec(arch, num_classes, C, tuple(layers), name=name or arch, **shared)
    genotype = genotypes.resolve(arch)
    name = name or (arch if arch in genotypes.PUBLISHED else Path(arch).stem)
    return ArchSpec("cells", num_classes, C, tuple(layers), genotype=genotype.to_dict(), name=name,
                    **shared)


class ReIDNet(nn.Module):
    def __init__(self, backbone: nn.Module, head: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.head = head

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        return self.head(self.backbone(x))


def build_backbone(spec: ArchSpec) -> nn.Module:
    """The PCB head takes the map before the last down-sampling (last stride 1: 24x8 at 384x128)."""
    last_stride = 1 if spec.head == "pcb" else 2
    if spec.arch in DEPTHS:
        return ResNet(spec.arch, width=spec.C, last_stride=last_stride)
    if spec.arch == "cells":
        return CellNetwork(Genotype.from_dict(spec.genotype), spec.C, spec.layers, last_stride)
    if spec.arch == "supernet":
        return Supernet(spec.space, spec.C, spec.layers, aux_skip=spec.aux_skip)
    raise UserError(f"unknown architecture {spec.arch!r}")


def build(spec: ArchSpec) -> ReIDNet:
    backbone = build_backbone(spec)
    head = HEADS[spec.head](backbone.out_channels, spec.num_classes, dropout=spec.dropout,
                            neck=spec.neck, pool=spec.pool,
                            **({"embedding": spec.embedding} if spec.head == "reid" else {}))
    return ReIDNet(backbone, head)


def save_model(path: str | Path, model: ReIDNet, spec: ArchSpec, extra: dict | None = None) -> None:
    from autoreid.io import atomic_path

    with atomic_path(path) as tmp:
        torch.save({"spec": spec.to_dict(), "state_dict": model.state_dict(), **(extra or {})}, tmp)


def load_checkpoint(path: str | Path) -> dict:
    """Load a checkpoint safely (tensors and plain data only, no code)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: checkpoint not found")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 — any unpickling failure is a bad file
        raise UserError(f"{path}: not a readable autoreid checkpoint ({type(e).__name__})") from None


def load_model(path: str | Path) -> tuple[ReIDNet, ArchSpec]:
    return model_from(load_checkpoint(path), path)


def model_from(ckpt: dict, path: str | Path) -> tuple[ReIDNet, ArchSpec]:
    """The network and its spec from a loaded checkpoint (`path`: its file, for the errors)."""
    if "spec" not in ckpt or "state_dict" not in ckpt:
        raise UserError(f"{path}: not an autoreid model checkpoint (no 'spec'/'state_dict')")
    spec = ArchSpec.from_dict(ckpt["spec"])
    model = build(spec)
    try:
        model.load_state_dict(ckpt["state_dict"])
    except RuntimeError:
        raise UserError(f"{path}: weights do not match the architecture stored with them") from None
    return model, spec
