"""The device side of the input pipeline (autoreid.data.on_device) equals the CPU pipeline on the
same draws, bit for bit: the pad-crop and flip, the normalisation, and whole epochs of batches
through the kept DataLoader (resumed mid-epoch too), with and without workers. Run here on the CPU
standing in for the GPU (no pinning there; the arithmetic is the same)."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from autoreid.data import images as cpu
from autoreid.data import on_device
from autoreid.data.dataset import ImageSet
from autoreid.data.manifest import read_manifest
from autoreid.data.sampler import PKSampler

CPU = torch.device("cpu")


@pytest.mark.parametrize("pad", [0, 1, 3])
def test_the_pad_crop_and_flip_equal_the_cpu_ones(pad):
    rng = np.random.default_rng(pad)
    images = rng.integers(0, 256, (9, 3, 12, 6), dtype=np.uint8)
    params = cpu.PadCrop(pad).draw(9, torch.Generator().manual_seed(pad))
    expected = cpu.augment(images, params, pad)
    got = on_device.pad_crop_flip(torch.from_numpy(images), torch.tensor(params, dtype=torch.long), pad)
    assert got.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(got, torch.from_numpy(expected))
    assert any(p[0] for p in params) and any(not p[0] for p in params)  # both kinds drawn


def test_the_normalisation_equals_the_cpu_one():
    batch = torch.randint(0, 256, (4, 3, 8, 4), dtype=torch.uint8)
    assert torch.equal(on_device.normalize(batch), cpu.normalize(batch))
    last = on_device.normalize(batch.contiguous(memory_format=torch.channels_last))
    assert last.is_contiguous(memory_format=torch.channels_last) and torch.equal(last, cpu.normalize(batch))


@pytest.mark.parametrize("workers", [0, 2])
def test_epochs_of_batches_made_on_the_device_equal_the_cpu_ones(market, workers):
    records = [r for r in read_manifest(market["manifest"]) if r.split == "train"]
    made = {}
    for device in (None, CPU):
        data = ImageSet(records, 32, 16, pad=2, workers=workers)
        sampler = PKSampler(data.labels, 4, 2, torch.Generator())
        epochs = []
        for epoch, skip in ((0, 0), (1, 0), (2, 3)):  # the last as a run resumed at step 4
            sampler.generator = torch.Generator().manual_seed(epoch)
            aug = torch.Generator().manual_seed(100 + epoch)
            epochs.append([(x.clone(), y) for x, y in data.batches(sampler, aug, skip, device)])
        assert len(data._loaders) == 1  # one DataLoader, kept from epoch to epoch
        made[device] = epochs
    for cpu_epoch, device_epoch in zip(made[None], made[CPU]):
        assert len(cpu_epoch) == len(device_epoch) > 0
        for (a, ya), (b, yb) in zip(cpu_epoch, device_epoch):
            assert torch.equal(a, b) and torch.equal(ya, yb)
            assert b.is_contiguous(memory_format=torch.channels_last)
    assert not torch.equal(made[CPU][0][0][0], made[CPU][1][0][0])  # epochs differ
    assert len(made[CPU][2]) == len(made[CPU][1]) - 3
