"""`autoreid.load_model("model.pt")`: a trained network and everything it needs to embed images as
`autoreid extract` does — its input size, normalisation and feature, read from the checkpoint
(loaded with `weights_only`: tensors and plain data, no code).

`Model.embed(images)` takes image paths, PIL images, uint8 arrays (H x W x 3 RGB or 3 x H x W,
or N of them) or tensors (uint8 3 x H x W, or N of them; float ones in [0, 1]); it resizes each
to the training size as `extract` does (PIL, bilinear), normalises, runs the network in eval mode
in batches and returns an N x D float32 array: the raw feature, or L2-normalised rows with
`normalize=True`."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from autoreid.data.images import decode, input_spec, resized
from autoreid.errors import UserError
from autoreid.models.build import ArchSpec, ReIDNet, load_checkpoint, model_from

LAYOUT = "float32 N x 3 x H x W, RGB, values 0-255 (the exported graph normalises)"


def input_of(ckpt: dict, path: str | Path) -> dict:
    """The input a checkpoint's network takes: stored by `autoreid train`; for checkpoints written
    before it was, the training config's height and width with the ImageNet mean and std."""
    if "input" in ckpt:
        return dict(ckpt["input"])
    cfg = ckpt.get("config", {})
    if not (cfg.get("height") and cfg.get("width")):
        raise UserError(f"{path}: no input size stored (not written by `autoreid train`?)")
    return input_spec(cfg["height"], cfg["width"])


def scale_shift(spec: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """x * scale + shift normalises 0-255 pixels, in the same float32 arithmetic as training's
    `autoreid.data.images.normalize`."""
    mean = torch.tensor(spec["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(spec["std"], dtype=torch.float32).view(1, 3, 1, 1)
    return 1.0 / std, -mean / std


class Model:
    """A trained network ready to embed images (see the module's docstring)."""

    def __init__(self, net: ReIDNet, spec: ArchSpec, ckpt: dict, path: str | Path,
                 device: str | torch.device = "cpu"):
        self.path = Path(path)
        self.spec = spec
        self.input = input_of(ckpt, path)
        self.feature = ckpt.get("feature", "f")
        self.config = ckpt.get("config", {})
        self.device = torch.device(device)
        self.net = net.to(self.device, memory_format=torch.channels_last).eval()
        self.scale, self.shift = scale_shift(self.input)

    @property
    def size(self) -> tuple[int, int]:
        return self.input["height"], self.input["width"]

    def pixels(self, images) -> torch.Tensor:
        """uint8 N x 3 x H x W at the training size, from any of the accepted kinds."""
        h, w = self.size
        return torch.from_numpy(np.stack([_uint8(x, i, h, w) for i, x in enumerate(_items(images))]))

    @torch.no_grad()
    def forward(self, pixels: torch.Tensor) -> torch.Tensor:
        """The feature of uint8 (or 0-255 float) N x 3 x H x W pixels at the training size."""
        x = pixels.float() * self.scale + self.shift
        return self.net(x.to(self.device, memory_format=torch.channels_last))[self.feature].float()

    def embed(self, images, batch_size: int = 64, normalize: bool = False) -> np.ndarray:
        items = _items(images)
        if not items:
            raise UserError("embed: no images given")
        h, w = self.size
        chunks = []
        for s in range(0, len(items), batch_size):
            batch = np.stack([_uint8(x, s + i, h, w) for i, x in enumerate(items[s:s + batch_size])])
            chunks.append(self.forward(torch.from_numpy(batch)).cpu())
        out = torch.cat(chunks)
        if normalize:
            out = torch.nn.functional.normalize(out, dim=1)
        return out.numpy()

    @property
    def dim(self) -> int:
        return int(self.forward(torch.zeros(1, 3, *self.size)).shape[1])


def load_model(path: str | Path, device: str | torch.device = "cpu") -> Model:
    """The trained network of `autoreid train`'s model.pt; one line (UserError) for a missing,
    corrupt or foreign file."""
    ckpt = load_checkpoint(path)
    if not isinstance(ckpt, dict):
        raise UserError(f"{path}: not an autoreid model checkpoint (model.pt of `autoreid train`)")
    net, spec = model_from(ckpt, path)
    return Model(net, spec, ckpt, path, device)


def _items(images) -> list:
    """One entry per image: a batch tensor or array (4 dimensions) is split into its images."""
    if isinstance(images, (str, Path)) or not hasattr(images, "__len__"):
        return [images]
    if isinstance(images, (np.ndarray, torch.Tensor)):
        return list(images) if images.ndim == 4 else [images]
    return list(images)


def _uint8(x, i: int, height: int, width: int) -> np.ndarray:
    """Image `i` as uint8 3 x height x width, resized as `extract` resizes (PIL, bilinear)."""
    from PIL import Image

    if isinstance(x, (str, Path)):
        return decode(x, height, width)
    if isinstance(x, torch.Tensor):
        if x.ndim != 3 or x.shape[0] not in (1, 3):
            raise UserError(f"images[{i}]: a tensor must be 3 x H x W (or N x 3 x H x W), "
                            f"not {tuple(x.shape)}")
        if x.is_floating_point():
            x = (x.clamp(0, 1) * 255).round()
        x = x.to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    if isinstance(x, np.ndarray):
        if x.ndim == 3 and x.shape[0] in (1, 3) and x.shape[2] not in (1, 3, 4):
            x = x.transpose(1, 2, 0)  # 3 x H x W, as a tensor is laid out
        if x.dtype != np.uint8 or not (x.ndim == 2 or (x.ndim == 3 and x.shape[2] in (1, 3, 4))):
            raise UserError(f"images[{i}]: an array must be uint8 H x W x 3 (RGB), not "
                            f"{x.dtype} {x.shape}")
        x = Image.fromarray(x.squeeze(2) if x.ndim == 3 and x.shape[2] == 1 else x)
    if not isinstance(x, Image.Image):
        raise UserError(f"images[{i}]: {type(x).__name__} is not an image (a path, a PIL image, "
                        "a uint8 array or a tensor)")
    return resized(x, height, width)
