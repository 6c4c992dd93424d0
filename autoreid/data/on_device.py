"""The input pipeline's last steps on the run's device: a batch crosses to the GPU as uint8 (a
quarter of float32's bytes) from pinned memory without the host waiting, and is cropped, flipped and
normalised there, so the main process does no per-pixel work (on an H200 it would otherwise cap
retraining at a few thousand images per second).

The arithmetic is the CPU pipeline's (autoreid.data.images: `augment`, then `normalize`), on the same
parameters, drawn in the main process: the batches are equal bit for bit (tests/data/test_on_device.py).
"""
from __future__ import annotations

import functools

import torch
from torch.nn import functional as F

from autoreid.data.images import ERASE_FILL, MEAN, STD


@functools.lru_cache(maxsize=8)
def _affine(device: torch.device) -> tuple[torch.Tensor, torch.Tensor]:
    """normalize's scale and shift, made on `device` once."""
    scale = 1.0 / STD
    return scale.to(device), (-MEAN / STD).to(device)


def normalize(batch: torch.Tensor) -> torch.Tensor:
    """uint8 (B, 3, H, W) -> float32, ImageNet mean/std, on the batch's device, in its layout."""
    scale, shift = _affine(batch.device)
    return batch.float().mul_(scale).add_(shift)


def pad_crop_flip(batch: torch.Tensor, params: torch.Tensor, pad: int) -> torch.Tensor:
    """`augment` on the device: per image (flip, dy, dx) in `params` (B x 3, int64), a horizontal
    flip, then a zero-pad by `pad` and a crop back to size at offset (dy, dx); with B x 7, the box
    (ey, ex, eh, ew) after them filled with the mean pixel (random erasing). The result is
    channels-last (the layout the convolutions take)."""
    n, _, height, width = batch.shape
    flip = params[:, 0].bool()[:, None, None, None]
    batch = torch.where(flip, batch.flip(-1), batch)
    padded = F.pad(batch, (pad, pad, pad, pad)).permute(0, 2, 3, 1)  # (B, H + 2p, W + 2p, 3)
    rows = params[:, 1:2] + torch.arange(height, device=batch.device)  # (B, H)
    cols = params[:, 2:3] + torch.arange(width, device=batch.device)  # (B, W)
    image = torch.arange(n, device=batch.device)[:, None, None]
    out = padded[image, rows[:, :, None], cols[:, None, :]].permute(0, 3, 1, 2)
    if params.shape[1] == 7:
        out = _erase(out, params[:, 3:])
    return out


def _erase(batch: torch.Tensor, boxes: torch.Tensor) -> torch.Tensor:
    """Each image's box (ey, ex, eh, ew; B x 4) filled with the mean pixel, by a mask (no shape
    depends on the boxes)."""
    _, _, height, width = batch.shape
    ys = torch.arange(height, device=batch.device)[None, :]
    xs = torch.arange(width, device=batch.device)[None, :]
    inside_y = (ys >= boxes[:, 0:1]) & (ys < boxes[:, 0:1] + boxes[:, 2:3])  # (B, H)
    inside_x = (xs >= boxes[:, 1:2]) & (xs < boxes[:, 1:2] + boxes[:, 3:4])  # (B, W)
    mask = (inside_y[:, :, None] & inside_x[:, None, :])[:, None]  # (B, 1, H, W)
    return torch.where(mask, ERASE_FILL.to(batch.device)[None, :, None, None], batch)


def to_device(images: torch.Tensor, params: torch.Tensor | None, pad: int,
              device: torch.device) -> torch.Tensor:
    """A uint8 batch (pinned, when `device` is a GPU) -> the network's input on `device`: copied
    without waiting, cropped and flipped when `params` are given, normalised, channels-last."""
    batch = images.to(device, non_blocking=True)
    if params is not None:
        batch = pad_crop_flip(batch, params.to(device, non_blocking=True), pad)
    return normalize(batch.contiguous(memory_format=torch.channels_last))
