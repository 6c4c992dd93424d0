"""The ImageNet pre-training transform: scale augmentation (random-resized crop), flip and colour
jitter, drawn in the main process and applied in the workers."""
import numpy as np
import pytest
import torch

from autoreid.config import resolve
from autoreid.data.resized_crop import ResizedCrop, colour_jitter
from autoreid.pretrain import augmentation
from helpers import ROOT


def _stripes(n=8, size=32) -> np.ndarray:
    """n images of vertical black/white stripes, 4 pixels wide, in colour."""
    img = np.zeros((n, 3, size, size), np.uint8)
    img[:, 0, :, (np.arange(size) // 4) % 2 == 1] = 250
    img[:, 1] = 60
    return img


def _apply(aug, images, seed=0):
    params = aug.draw(len(images), torch.Generator().manual_seed(seed))
    return aug.apply(images, params, np.empty_like(images)), params


@pytest.mark.parametrize("profile", ["paper", "default", "smoke"])
def test_every_profile_pretrains_with_scale_augmentation_and_colour_jitter(profile):
    cfg = resolve("pretrain", ROOT / "params" / f"{profile}.yaml")
    aug = augmentation(cfg)
    assert aug.scale[0] < 1 and aug.jitter > 0 and aug.hue > 0
    if profile == "paper":  # DARTS' ImageNet recipe
        assert (aug.scale, aug.jitter, aug.hue) == ((0.08, 1.0), 0.4, 0.2)
        assert (cfg.lr, cfg.lr_decay, cfg.epochs) == (0.1, 0.97, 250)


def test_crops_cover_the_drawn_fraction_of_the_area():
    params = ResizedCrop(scale=(0.08, 1.0)).draw(2000, torch.Generator().manual_seed(0))
    top, left, h, w = (np.array([p[i] for p in params]) for i in (1, 2, 3, 4))
    assert (top >= 0).all() and (left >= 0).all() and (top + h <= 1 + 1e-6).all()
    assert (left + w <= 1 + 1e-6).all()
    area = h * w
    assert area.min() >= 0.08 - 1e-6 and area.max() <= 1 + 1e-6
    assert area.min() < 0.15 and np.median(area) < 0.7  # small crops happen: zoom in
    aspect = w / h
    assert aspect[area < 1].min() >= 0.75 - 1e-6 and aspect[area < 1].max() <= 4 / 3 + 1e-6


def test_a_small_crop_is_zoomed_to_the_full_size():
    """Stripes 4 pixels wide come out wider: the crop is resized up, not padded."""
    aug = ResizedCrop(scale=(0.1, 0.1), ratio=(1.0, 1.0), jitter=0.0, hue=0.0)
    out, _ = _apply(aug, _stripes())
    assert out.shape == (8, 3, 32, 32)
    red = out[:, 0, 16].astype(int)
    transitions = (np.abs(np.diff(red, axis=1)) > 100).sum(1)
    assert transitions.max() <= 4  # ~10 px of 4-px stripes resized to 32: about 2-3 edges, not 7


def test_colour_jitter_changes_brightness_contrast_saturation_and_hue():
    img = torch.from_numpy(_stripes(1)).float()
    luma = lambda t: (t * torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)).sum(1)  # noqa: E731
    brighter = colour_jitter(img, 1.3, 1.0, 1.0, 0.0)
    assert luma(brighter).mean() > luma(img).mean() * 1.1  # (250 clips at 255)
    flat = colour_jitter(img, 1.0, 0.5, 1.0, 0.0)
    assert luma(flat).std() < luma(img).std() * 0.6
    grey = colour_jitter(img, 1.0, 1.0, 0.0, 0.0)
    assert torch.allclose(grey[:, 0], grey[:, 1], atol=1.0)
    assert torch.allclose(grey[:, 1], grey[:, 2], atol=1.0)
    turned = colour_jitter(img, 1.0, 1.0, 1.0, 0.25)
    assert (turned - img).abs().max() > 50  # the colours move ...
    assert torch.allclose(luma(turned), luma(img).clamp(0, 255), atol=25)  # ... about the same grey


def test_the_same_seed_gives_the_same_batch_whatever_the_workers():
    import tempfile
    from pathlib import Path

    from PIL import Image

    from autoreid.data.dataset import ImageSet
    from autoreid.data.manifest import Record

    with tempfile.TemporaryDirectory() as d:
        records = []
        for i, img in enumerate(_stripes(4)):
            path = Path(d) / f"{i}.png"
            Image.fromarray(img.transpose(1, 2, 0)).save(path)
            records.append(Record(str(path), i % 2, 0, "train"))
        runs = []
        for workers in (0, 1):
            data = ImageSet(records, 32, 32, workers=workers, augmentation=ResizedCrop())
            x, _ = next(data.batches([[0, 1, 2, 3]], torch.Generator().manual_seed(5)))
            runs.append(x.clone())
        plain = next(ImageSet(records, 32, 32).batches([[0, 1, 2, 3]]))[0]
    assert torch.equal(runs[0], runs[1])
    assert not torch.allclose(runs[0], plain)


def _photo(path, width=800, height=600):
    """A smooth JPEG photo-like image (gradients and a few blobs)."""
    from PIL import Image

    y, x = np.mgrid[0:height, 0:width]
    rgb = np.stack([x * 255 / width, y * 255 / height, 128 + 100 * np.sin(x / 37.0) * np.cos(y / 23.0)], -1)
    Image.fromarray(rgb.clip(0, 255).astype(np.uint8)).save(path, quality=95)
    return path


@pytest.mark.parametrize("box, scale", [((0.0, 0.0, 1.0, 1.0), 8), ((0.2, 0.3, 0.3, 0.3), 4),
                                        ((0.1, 0.1, 0.05, 0.05), 1)])
def test_a_crop_is_cut_from_the_file_decoded_at_the_smallest_scale_that_covers_it(tmp_path, monkeypatch,
                                                                                   box, scale):
    """800x600 to 32x32: the whole image decodes at 1/8 (100x75), a 0.3 x 0.3 box at 1/4 (at 1/8 it
    would be 30 x 22 pixels), a 0.05 box at full scale; the result is the box of the
    full-resolution image resized (up to the error of a reduced-scale decode)."""
    from PIL import Image, JpegImagePlugin

    from autoreid.data.resized_crop import crop_decode

    path = _photo(tmp_path / "photo.jpg")
    sizes = []
    real = JpegImagePlugin.JpegImageFile.draft
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "draft",
                        lambda self, mode, size: (real(self, mode, size), sizes.append(self.size))[0])
    got = crop_decode(str(path), box, 32, 32)
    assert sizes == [(800 // scale, 600 // scale)]
    top, left, h, w = box
    with Image.open(path) as im:
        full = im.convert("RGB").resize((32, 32), Image.BILINEAR, box=(
            int(left * 800), int(top * 600), int(left * 800) + round(w * 800), int(top * 600) + round(h * 600)))
    exact = np.asarray(full).transpose(2, 0, 1).astype(int)
    assert got.shape == (3, 32, 32) and np.abs(got.astype(int) - exact).mean() < 4


def test_a_missing_or_broken_file_is_one_line(tmp_path):
    from autoreid.data.resized_crop import crop_decode
    from autoreid.errors import UserError

    with pytest.raises(UserError, match="nowhere.jpg: image not found"):
        crop_decode(str(tmp_path / "nowhere.jpg"), (0, 0, 1, 1), 8, 8)
    (tmp_path / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    with pytest.raises(UserError, match="broken.jpg: corrupt or unreadable image"):
        crop_decode(str(tmp_path / "broken.jpg"), (0, 0, 1, 1), 8, 8)
