"""Images as tensors: decode once into a uint8 (N, 3, H, W) table at the network's input size,
then augment whole batches (flip, pad + random crop) and normalise on the fly."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import torch
from PIL import Image

from autoreid.errors import UserError

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1) * 255
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1) * 255


def decode(path: str, height: int, width: int) -> np.ndarray:
    try:
        with Image.open(path) as im:
            im = im.convert("RGB").resize((width, height), Image.BILINEAR)
            return np.array(im, dtype=np.uint8).transpose(2, 0, 1)
    except FileNotFoundError:
        raise UserError(f"{path}: image not found") from None
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise UserError(f"{path}: corrupt or unreadable image ({e})") from None


def load_images(paths: Sequence[str], height: int, width: int, workers: int = 4) -> torch.Tensor:
    out = torch.empty((len(paths), 3, height, width), dtype=torch.uint8)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for i, arr in enumerate(pool.map(lambda p: decode(p, height, width), paths)):
            out[i] = torch.from_numpy(arr)
    return out


def normalize(batch: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float, ImageNet mean/std."""
    return (batch.float() - MEAN) / STD


def augment(batch: torch.Tensor, generator: torch.Generator, pad: int, flip: bool = True) -> torch.Tensor:
    """Random horizontal flip and zero-pad + random crop back to size, per image, on uint8."""
    b, _, h, w = batch.shape
    out = batch.clone()
    if flip:
        mask = torch.rand(b, generator=generator) < 0.5
        out[mask] = out[mask].flip(-1)
    if pad > 0:
        padded = torch.nn.functional.pad(out, (pad, pad, pad, pad))
        dy = torch.randint(0, 2 * pad + 1, (b,), generator=generator).tolist()
        dx = torch.randint(0, 2 * pad + 1, (b,), generator=generator).tolist()
        out = torch.stack([padded[i, :, y:y + h, x:x + w] for i, (y, x) in enumerate(zip(dy, dx))])
    return out
