"""Images: decode to uint8 (3, H, W) at the network's input size; augment (flip, pad + random
crop, and where a recipe asks, random erasing) with parameters drawn in the main process; normalise
whole batches."""
from __future__ import annotations

import contextlib
import math

import numpy as np
import torch
from PIL import Image

from autoreid.errors import UserError

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255


def decode(source, height: int, width: int, name: str | None = None) -> np.ndarray:
    """An image file (path or file object) as uint8 (3, height, width)."""
    with image_errors(name or str(source)), Image.open(source) as im:
        return resized(im, height, width)


def resized(im: Image.Image, height: int, width: int) -> np.ndarray:
    """A PIL image as uint8 (3, height, width): RGB, bilinear, no crop (every network input)."""
    im = im.convert("RGB").resize((width, height), Image.BILINEAR)
    return np.array(im, dtype=np.uint8).transpose(2, 0, 1)


@contextlib.contextmanager
def image_errors(name: str):
    """A missing or unreadable image as one line naming it."""
    try:
        yield
    except FileNotFoundError:
        raise UserError(f"{name}: image not found") from None
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise UserError(f"{name}: corrupt or unreadable image ({e})") from None


def input_spec(height: int, width: int) -> dict:
    """A network's input as its checkpoint records it (autoreid.use reads it back)."""
    return {"height": int(height), "width": int(width), "channels": "RGB", "range": [0, 255],
            "mean": MEAN.flatten().tolist(), "std": STD.flatten().tolist(),
            "resize": "bilinear (PIL) to height x width, no crop"}


_SCALE = 1.0 / STD
_SHIFT = -MEAN / STD


def normalize(batch: torch.Tensor, out: torch.Tensor | None = None) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float, ImageNet mean/std; into `out` when given (reusing a buffer
    avoids the page faults of a fresh large allocation, which cost more than the arithmetic)."""
    if out is None:
        return batch.float().mul_(_SCALE).add_(_SHIFT)
    return out.copy_(batch).mul_(_SCALE).add_(_SHIFT)


def augment_params(n: int, generator: torch.Generator, pad: int, flip: bool = True) -> list[tuple]:
    """Per image (flip, dy, dx): drawn in the main process so results do not depend on workers."""
    flips = (torch.rand(n, generator=generator) < 0.5).tolist() if flip else [False] * n
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=generator).tolist()
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=generator).tolist()
    return list(zip(flips, dy, dx))


ERASE_AREA = (0.02, 0.4)  # random erasing (Zhong et al., AAAI 2020): the box's share of the image,
ERASE_ASPECT = (0.3, 1 / 0.3)  # its height / width (drawn uniformly in log),
ERASE_TRIES = 10  # and draws of a box until one fits inside the image (none fits: no box)
ERASE_FILL = MEAN.flatten().round().to(torch.uint8)  # the box's pixels: the mean (0 once normalised)


def erase_params(n: int, generator: torch.Generator, p: float, height: int, width: int
                 ) -> list[tuple]:
    """Per image (ey, ex, eh, ew): a box to fill with the mean pixel, with probability `p`; an
    image left alone gets (0, 0, 0, 0). Drawn after `augment_params`, from the same generator."""
    hit = torch.rand(n, generator=generator) < p
    area = torch.empty(n, ERASE_TRIES).uniform_(*ERASE_AREA, generator=generator) * height * width
    aspect = torch.empty(n, ERASE_TRIES).uniform_(*map(math.log, ERASE_ASPECT), generator=generator).exp()
    h, w = (area * aspect).sqrt().round().long(), (area / aspect).sqrt().round().long()
    fits = (h >= 1) & (w >= 1) & (h < height) & (w < width)
    first = fits.int().argmax(dim=1, keepdim=True)  # the first try that fits
    h, w = h.gather(1, first).squeeze(1), w.gather(1, first).squeeze(1)
    keep = hit & fits.any(dim=1)
    ey = (torch.rand(n, generator=generator) * (height - h + 1)).long()
    ex = (torch.rand(n, generator=generator) * (width - w + 1)).long()
    return [(int(y), int(x), int(a), int(b)) if k else (0, 0, 0, 0)
            for y, x, a, b, k in zip(ey, ex, h, w, keep)]


class PadCrop:
    """reID training augmentation: flip, zero-pad by `pad`, crop back, and with `erasing` > 0 a
    random erasing of probability `erasing` (draw: main process; apply: DataLoader workers, or the
    GPU: autoreid.data.on_device). Parameters per image: (flip, dy, dx), erasing's (ey, ex, eh, ew)
    after them."""

    def __init__(self, pad: int, erasing: float = 0.0, height: int = 0, width: int = 0):
        if erasing and not (height and width):
            raise ValueError("random erasing needs the images' height and width")
        self.pad, self.erasing, self.height, self.width = pad, erasing, height, width

    def draw(self, n: int, generator: torch.Generator) -> list[tuple]:
        crops = augment_params(n, generator, self.pad)
        if not self.erasing:
            return crops
        boxes = erase_params(n, generator, self.erasing, self.height, self.width)
        return [c + b for c, b in zip(crops, boxes)]

    def apply(self, images: np.ndarray, params: list[tuple], out: np.ndarray) -> np.ndarray:
        return augment(images, params, self.pad, out=out)

    on_device = True  # a GPU batch is cropped and flipped there (autoreid.data.on_device)


def augment(images: np.ndarray, params: list[tuple], pad: int, out: np.ndarray | None = None
            ) -> np.ndarray:
    """Random horizontal flip, then zero-pad by `pad` and crop back to size at offset (dy, dx);
    where an image's parameters go on with a box (ey, ex, eh, ew), its pixels take the mean."""
    if out is None:
        out = np.zeros_like(images)
    else:
        out.fill(0)
    _, _, h, w = images.shape
    fill = ERASE_FILL.numpy()[:, None, None]
    for k, (flip, dy, dx, *box) in enumerate(params):
        img = images[k, :, :, ::-1] if flip else images[k]
        sy, sx = dy - pad, dx - pad  # source offset of the crop window
        y0, y1 = max(0, -sy), min(h, h - sy)
        x0, x1 = max(0, -sx), min(w, w - sx)
        out[k, :, y0:y1, x0:x1] = img[:, y0 + sy:y1 + sy, x0 + sx:x1 + sx]
        if box:
            ey, ex, eh, ew = box
            out[k, :, ey:ey + eh, ex:ex + ew] = fill
    return out
