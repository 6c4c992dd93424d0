"""ImageNet training augmentation (the recipe DARTS trains its ImageNet networks with): a random
crop covering `scale` of the image's area with an aspect ratio in `ratio`, resized to the input
size; a horizontal flip; colour jitter (brightness, contrast, saturation each scaled by a factor
in [1 - jitter, 1 + jitter], then the hue turned by up to `hue` of a full turn).

Read from image files (`read`), the crop box is cut from the image at its own resolution and only
that box is resized to the input size, as torchvision's recipe does; a JPEG is decoded at the
smallest of 1/8, 1/4, 1/2 or full scale that still gives the box at least the input size (PIL's
draft mode: an ImageNet photo of ~400x350 whose crop is a third of it decodes at half scale, most
of the decoding cost gone). Read from a store (images kept at the input size), the box is cut from
that (`apply`). As for the reID pad-crop, every parameter is drawn in the main process with the
run's seeded generator, and applied in the DataLoader workers, so results do not depend on the
number of workers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

_LUMA = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
# RGB <-> YIQ (NTSC): a hue turn is a rotation of the (I, Q) chroma plane
_YIQ = torch.tensor([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]])
_RGB = torch.linalg.inv(_YIQ)
_TRIES = 10  # crop boxes drawn per image; the whole image when none of them fits


@dataclass(frozen=True)
class ResizedCrop:
    scale: tuple[float, float] = (0.08, 1.0)
    ratio: tuple[float, float] = (3 / 4, 4 / 3)
    jitter: float = 0.4
    hue: float = 0.2

    def draw(self, n: int, generator: torch.Generator) -> list[tuple]:
        """Per image (flip, top, left, height, width as fractions of the image; brightness,
        contrast, saturation factors; hue turn)."""
        area = torch.empty(n, _TRIES).uniform_(*self.scale, generator=generator)
        log_ratio = torch.empty(n, _TRIES).uniform_(*map(math.log, self.ratio), generator=generator)
        w, h = (area * log_ratio.exp()).sqrt(), (area / log_ratio.exp()).sqrt()
        fits = (w <= 1) & (h <= 1)
        first = fits.float().argmax(1, keepdim=True)  # the first box that fits (0 when none does)
        ok = fits.any(1)
        w = torch.where(ok, w.gather(1, first)[:, 0], torch.ones(n))
        h = torch.where(ok, h.gather(1, first)[:, 0], torch.ones(n))
        top, left = torch.rand(n, generator=generator) * (1 - h), torch.rand(n, generator=generator) * (1 - w)
        flip = torch.rand(n, generator=generator) < 0.5
        j = self.jitter
        factors = torch.empty(n, 3).uniform_(1 - j, 1 + j, generator=generator).clamp_(min=0)
        turn = torch.empty(n).uniform_(-self.hue, self.hue, generator=generator)
        return list(zip(flip.tolist(), top.tolist(), left.tolist(), h.tolist(), w.tolist(),
                        factors.tolist(), turn.tolist()))

    def apply(self, images: np.ndarray, params: list[tuple], out: np.ndarray) -> np.ndarray:
        """uint8 (B, 3, H, W) -> the augmented batch, written into `out`."""
        _, _, H, W = images.shape
        source = torch.from_numpy(images)
        for k, (flip, top, left, h, w, factors, turn) in enumerate(params):
            y, x = int(top * H), int(left * W)
            crop = source[k:k + 1, :, y:y + max(1, round(h * H)), x:x + max(1, round(w * W))]
            img = F.interpolate(crop.float(), size=(H, W), mode="bilinear", align_corners=False)
            out[k] = _finish(img, flip, factors, turn)
        return out

    def read(self, paths: list[str], params: list[tuple], height: int, width: int,
             out: np.ndarray) -> np.ndarray:
        """The augmented batch of the image files `paths`, written into `out` (B, 3, height, width):
        each crop box cut at the file's resolution (a JPEG decoded at reduced scale where the box
        allows), resized to the input size, then flipped and jittered."""
        for k, (path, (flip, top, left, h, w, factors, turn)) in enumerate(zip(paths, params)):
            crop = crop_decode(path, (top, left, h, w), height, width)
            img = torch.from_numpy(crop).float()[None]
            out[k] = _finish(img, flip, factors, turn)
        return out


def _finish(img: torch.Tensor, flip: bool, factors, turn: float) -> np.ndarray:
    """A resized crop (1, 3, H, W) float -> flipped, jittered, uint8 (3, H, W)."""
    if flip:
        img = img.flip(-1)
    img = colour_jitter(img, *factors, turn)
    return img[0].clamp_(0, 255).round_().to(torch.uint8).numpy()


def crop_decode(path: str, box: tuple[float, float, float, float], height: int, width: int) -> np.ndarray:
    """The box (top, left, height, width as fractions of the image) of an image file, resized to
    height x width: uint8 (3, height, width). A JPEG is decoded at the smallest scale at which the
    box still covers the output size (PIL's draft mode)."""
    from PIL import Image

    from autoreid.data.images import image_errors

    top, left, h, w = box
    with image_errors(path), Image.open(path) as im:
        full_w, full_h = im.size
        need = (min(full_w, math.ceil(width / w)), min(full_h, math.ceil(height / h)))
        im.draft("RGB", need)  # JPEG only: a no-op for other formats
        im = im.convert("RGB")
        W, H = im.size
        y, x = int(top * H), int(left * W)
        box_px = (x, y, x + max(1, round(w * W)), y + max(1, round(h * H)))
        im = im.resize((width, height), Image.BILINEAR, box=box_px)
        return np.array(im, dtype=np.uint8).transpose(2, 0, 1)


def colour_jitter(img: torch.Tensor, brightness: float, contrast: float, saturation: float,
                  turn: float) -> torch.Tensor:
    """(1, 3, H, W) in [0, 255]: brightness, contrast (towards the mean grey), saturation (towards
    each pixel's grey), then a hue turn, each clipped to [0, 255] as an image would be."""
    img = (img * brightness).clamp_(0, 255)
    grey = (img * _LUMA).sum(1, keepdim=True)
    img = ((img - grey.mean()) * contrast + grey.mean()).clamp_(0, 255)
    grey = (img * _LUMA).sum(1, keepdim=True)
    img = ((img - grey) * saturation + grey).clamp_(0, 255)
    if turn:
        c, s = math.cos(2 * math.pi * turn), math.sin(2 * math.pi * turn)
        rotate = torch.tensor([[1.0, 0, 0], [0, c, -s], [0, s, c]])
        img = torch.einsum("ij,bjhw->bihw", _RGB @ rotate @ _YIQ, img).clamp_(0, 255)
    return img
