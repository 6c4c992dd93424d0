"""The modern recipe's ingredients, each on its own key (docs/beyond.md): BNNeck's two features and
where each loss reads, GeM, random erasing's bounds and seed, the warm-up's first learning rates,
the cosine schedule, label smoothing's target; and a training with all of them."""
import math

import numpy as np
import pytest
import torch

from autoreid import optim
from autoreid.config import resolve
from autoreid.data.images import (ERASE_AREA, ERASE_ASPECT, ERASE_FILL, PadCrop, augment,
                                  augment_params, erase_params)
from autoreid.data.on_device import pad_crop_flip
from autoreid.losses import batch_hard_triplet, objective_loss, softmax_loss
from autoreid.models.build import arch_spec, build, load_model
from autoreid.models.head import GeM, evaluation_feature
from autoreid.runtime import Placement
from autoreid.train.train import train


@pytest.mark.parametrize("arch", ["resnet18", "DARTS_V2"])
def test_bnneck_feeds_the_triplet_before_its_bn_and_the_softmax_after_it(arch):
    model = build(arch_spec(arch, 5, 8, (1, 1, 1, 1), neck="bnneck")).train()
    head = model.head
    assert not head.bn.bias.requires_grad and head.classifier.bias is None
    x, y = torch.randn(8, 3, 64, 32), torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    out = model(x)
    fmap = model.backbone(x)
    assert torch.allclose(out["f"], fmap.mean(dim=(2, 3)), atol=1e-6)  # f: the pooled map
    assert torch.allclose(out["g"], head.bn(out["f"]), atol=1e-6)  # g: f through the BN
    assert torch.allclose(out["logits"], out["g"] @ head.classifier.weight.t(), atol=1e-5)
    # the triplet term reads f: its gradient reaches neither the BN nor the classifier
    batch_hard_triplet(out["f"], y).backward(retain_graph=True)
    assert head.bn.weight.grad is None and head.classifier.weight.grad is None
    # the softmax term reads the logits of g: through the BN (its scale) to the classifier
    softmax_loss(out["logits"], y).backward()
    assert head.bn.weight.grad.abs().sum() > 0 and head.classifier.weight.grad.abs().sum() > 0
    assert evaluation_feature("bnneck", "f") == "g" and evaluation_feature("none", "f") == "f"


def test_bnneck_on_the_pcb_head_stripe_by_stripe():
    model = build(arch_spec("resnet18", 5, 8, (1, 1, 1, 1), head="pcb", neck="bnneck")).eval()
    out = model(torch.randn(2, 3, 96, 32))
    c = model.backbone.out_channels
    stripes = out["f"].view(2, 6, c)
    for i, (bn, cls) in enumerate(zip(model.head.embed, model.head.classifiers)):
        assert cls.bias is None and not bn.bias.requires_grad
        assert torch.allclose(out["g"].view(2, 6, c)[:, i], bn(stripes[:, i]), atol=1e-6)
        assert torch.allclose(out["logits"][i], bn(stripes[:, i]) @ cls.weight.t(), atol=1e-5)


def test_gem_on_the_pcb_head_pools_each_stripe():
    model = build(arch_spec("resnet18", 5, 8, (1, 1, 1, 1), head="pcb", pool="gem")).eval()
    x = torch.randn(2, 3, 96, 32)
    fmap = model.backbone(x)
    c, rows = model.backbone.out_channels, fmap.shape[2]
    out = model.head(fmap)
    stripes = fmap.clamp_min(1e-6).pow(3).reshape(2, c, 6, rows // 6, fmap.shape[3]).mean(dim=(3, 4)).pow(1 / 3)
    torch.testing.assert_close(out["f"].view(2, 6, c), stripes.transpose(1, 2), atol=1e-5, rtol=1e-4)
    assert not torch.allclose(out["f"], model.head.__class__(c, 5, pool="avg")(fmap)["f"], atol=1e-3)


def test_gem_is_the_mean_at_p_1_tends_to_the_max_and_learns_p():
    x = torch.rand(2, 3, 6, 4) + 0.1
    assert torch.allclose(GeM(1.0)(x), x.mean(dim=(2, 3)), atol=1e-6)
    assert torch.allclose(GeM(200.0)(x), x.amax(dim=(2, 3)), rtol=0.02)
    gem = GeM()
    assert gem.p.item() == 3.0 and gem.p.requires_grad
    gem(x).sum().backward()
    assert gem.p.grad is not None and gem.p.grad != 0
    # on stripes (the PCB head): rows of weights, each stripe's own generalised mean
    weights = torch.tensor([[0.5, 0.5, 0, 0, 0, 0], [0, 0, 0, 0, 0.5, 0.5]])
    want = x[:, :, 4:6].pow(3).mean(dim=(2, 3)).pow(1 / 3)
    assert torch.allclose(GeM()(x, weights)[:, 1], want, atol=1e-6)
    model = build(arch_spec("DARTS_V2", 5, 8, (1, 1, 1, 1), pool="gem")).eval()
    assert any(n.endswith("gem.p") for n, _ in model.named_parameters())
    fmap = model.backbone(torch.randn(2, 3, 64, 32))  # the reID head's f: GeM of the whole map
    torch.testing.assert_close(model.head(fmap)["f"], fmap.clamp_min(1e-6).pow(3).mean(dim=(2, 3)).pow(1 / 3))


def test_random_erasing_boxes_keep_to_their_area_and_aspect_bounds():
    h, w = 128, 64
    boxes = erase_params(4000, torch.Generator().manual_seed(0), 1.0, h, w)
    erased = [b for b in boxes if b[2]]
    assert len(erased) > 0.95 * len(boxes)  # p = 1: all but the boxes that never fit in 10 draws
    for ey, ex, eh, ew in erased:
        assert 0 <= ey and ey + eh <= h and 0 <= ex and ex + ew <= w
        # rounding each side to whole pixels moves the area and the aspect by up to half a pixel
        area = eh * ew / (h * w)
        assert ERASE_AREA[0] * 0.7 <= area <= ERASE_AREA[1] * 1.1
        assert ERASE_ASPECT[0] * 0.7 <= eh / ew <= ERASE_ASPECT[1] * 1.3
    areas = np.array([b[2] * b[3] / (h * w) for b in erased])
    assert areas.min() < 0.05 and areas.max() > 0.3  # the whole range is drawn
    half = erase_params(4000, torch.Generator().manual_seed(1), 0.5, h, w)
    assert 0.45 < sum(bool(b[2]) for b in half) / len(half) < 0.55


def test_random_erasing_boxes_vary_in_size_shape_and_place():
    """Each image draws its own tries (not one set shared by the batch), tall and wide boxes
    alike, anywhere in the image, edges included."""
    h, w = 128, 64
    boxes = np.array([b for b in erase_params(4000, torch.Generator().manual_seed(0), 1.0, h, w) if b[2]])
    ey, ex, eh, ew = boxes.T
    assert len({(a, b) for a, b in zip(eh, ew)}) > 1000
    assert 0.4 < (eh > ew).mean() < 0.8 and (eh < ew).mean() > 0.2
    assert (ey == 0).sum() > 10 and (ey + eh == h).sum() > 10  # top and bottom edges reached
    assert (ex == 0).sum() > 10 and (ex + ew == w).sum() > 10
    assert 0.45 < (ey / (h - eh)).mean() < 0.55 and 0.45 < (ex / np.maximum(w - ew, 1)).mean() < 0.55


@pytest.mark.parametrize("h, w", [(2, 128), (128, 2), (8, 256), (256, 8)])
def test_random_erasing_boxes_fit_strictly_inside_narrow_images(h, w):
    """A box is thinner than the image (one pixel may be all that fits); an image where none of
    the tries fits is left alone."""
    boxes = erase_params(2000, torch.Generator().manual_seed(0), 1.0, h, w)
    erased = [b for b in boxes if b[2]]
    assert 0 < len(erased) < len(boxes)
    assert all(b == (0, 0, 0, 0) for b in boxes if not b[2])
    for ey, ex, eh, ew in erased:
        assert 1 <= eh < h and 1 <= ew < w and ey + eh <= h and ex + ew <= w
    if min(h, w) == 2:  # only one-pixel-thin boxes fit
        assert {b[2] if h == 2 else b[3] for b in erased} == {1}


def test_random_erasing_follows_its_seed_and_leaves_the_crops_as_they_were():
    plain, erasing = PadCrop(2), PadCrop(2, 0.5, 32, 16)
    a = erasing.draw(64, torch.Generator().manual_seed(3))
    assert a == erasing.draw(64, torch.Generator().manual_seed(3))
    assert a != erasing.draw(64, torch.Generator().manual_seed(4))
    crops = plain.draw(64, torch.Generator().manual_seed(3))
    assert crops == augment_params(64, torch.Generator().manual_seed(3), 2)  # off: today's draws
    assert [p[:3] for p in a] == crops  # on: the same crops, a box drawn after them
    images = np.random.default_rng(0).integers(0, 255, (64, 3, 32, 16), dtype=np.uint8)
    out, ref = augment(images, a, 2), augment(images, crops, 2)
    for k, (*_, ey, ex, eh, ew) in enumerate(a):
        box = np.zeros((32, 16), bool)
        box[ey:ey + eh, ex:ex + ew] = True
        assert (out[k][:, box] == ERASE_FILL.numpy()[:, None]).all()
        assert (out[k][:, ~box] == ref[k][:, ~box]).all()
    # on the GPU's pipeline (here on the CPU) the same boxes, bit for bit
    assert torch.equal(pad_crop_flip(torch.from_numpy(images), torch.tensor(a), 2), torch.from_numpy(out))


def test_warm_up_ramps_the_first_steps_then_the_schedule_goes_on():
    """Two warm-up epochs of 4 steps over lr 0.1, then a step decay at epoch 3 or a cosine."""
    seen = {}
    for kind in ("step", "cosine", "exponential"):
        opt = optim.Adam([torch.nn.Parameter(torch.zeros(1))], 0.1)
        sched = optim.schedule(opt, kind, 6, milestones=(3,), gamma=0.5 if kind == "exponential" else 0.1,
                               warmup_epochs=2)
        lrs = []
        for epoch in range(6):
            for step in range(4):
                optim.warm_up(opt, sched, 2, epoch, step, 4)
                lrs.append(opt.param_groups[0]["lr"])
            sched.step()
        seen[kind] = lrs
    ramp = [0.1 * k / 8 for k in range(1, 9)]
    assert seen["step"][:8] == pytest.approx(ramp) and seen["cosine"][:8] == pytest.approx(ramp)
    assert seen["step"][8:] == pytest.approx([0.1] * 4 + [0.01] * 12)
    cosine = [0.1 * 0.5 * (1 + math.cos(math.pi * (e - 2) / 4)) for e in range(2, 6)]
    assert seen["cosine"][8:] == pytest.approx([v for v in cosine for _ in range(4)])
    assert seen["exponential"][8:] == pytest.approx([0.1 * 0.5 ** e for e in range(2, 6) for _ in range(4)])
    assert optim.schedule(opt, "step", 6, (3,), 0.1).__class__.__name__ == "MultiStepLR"  # no warm-up
    with pytest.raises(ValueError, match=r"^unknown schedule 'linear' \(known: step, exponential, cosine\)$"):
        optim.schedule(opt, "linear", 6)


@pytest.mark.parametrize("kind, want", [
    ("step", [0.1, 0.1, 0.1, 0.05, 0.05, 0.025]),  # milestones 3 and 5, gamma 0.5
    ("exponential", [0.1 * 0.5 ** e for e in range(6)]),
    ("cosine", [0.1 * 0.5 * (1 + math.cos(math.pi * e / 6)) for e in range(6)]),
])
def test_without_a_warm_up_each_schedule_is_its_own_curve(kind, want):
    opt = optim.Adam([torch.nn.Parameter(torch.zeros(1))], 0.1)
    sched = optim.schedule(opt, kind, 6, milestones=(3, 5), gamma=0.5)
    lrs = []
    for _ in range(6):
        optim.warm_up(opt, sched, 0, 0, 0, 4)  # no warm-up: the schedule's lr untouched
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert lrs == pytest.approx(want)
    if kind == "exponential":  # gamma 0.1 unless given
        opt = optim.Adam([torch.nn.Parameter(torch.zeros(1))], 0.1)
        optim.schedule(opt, kind, 6).step()
        assert opt.param_groups[0]["lr"] == pytest.approx(0.01)


def test_random_erasing_needs_the_image_size():
    for size in ({}, dict(height=0, width=0), dict(height=32), dict(width=16), dict(height=32, width=0)):
        with pytest.raises(ValueError, match=r"^random erasing needs the images' height and width$"):
            PadCrop(2, 0.5, **size)
    assert len(PadCrop(2).draw(4, torch.Generator().manual_seed(0))[0]) == 3  # erasing off: no box


def test_label_smoothing_spreads_epsilon_over_the_classes():
    logits, y, eps = torch.randn(4, 5), torch.tensor([0, 3, 1, 4]), 0.1
    target = torch.full((4, 5), eps / 5)
    target[torch.arange(4), y] += 1 - eps
    want = -(target * logits.log_softmax(1)).sum(1).mean()
    assert torch.allclose(softmax_loss(logits, y, eps), want, atol=1e-6)
    out = {"logits": logits, "f": torch.randn(4, 3)}
    assert torch.allclose(objective_loss(out, y, "softmax", smoothing=eps), want, atol=1e-6)
    parts = torch.randn(6, 4, 5)  # PCB: each stripe's loss smoothed, then averaged
    assert torch.allclose(softmax_loss(parts, y, eps),
                          torch.stack([softmax_loss(p, y, eps) for p in parts]).mean())


def test_a_training_with_every_ingredient_tests_on_the_bn_output(market, tmp_path):
    """The modern recipe end to end on a tiny network: the first steps' lrs are the warm-up's, the
    loss reads the smoothing, and the saved network is tested on g (BNNeck's)."""
    import autoreid.train.train as module

    cfg = resolve("train", overrides=dict(
        C=4, layers=(1, 1, 1, 1), height=32, width=16, pad=1, P=4, K=2, epochs=2, lr=0.01,
        embedding=16, neck="bnneck", pool="gem", erasing=0.5, warmup_epochs=1, label_smoothing=0.1,
        schedule="cosine"))
    lrs, smoothing, real = [], [], module._step

    def spy(net, opt, precision, c, x, y, device):
        lrs.append(opt.param_groups[0]["lr"])
        smoothing.append(c.label_smoothing)
        return real(net, opt, precision, c, x, y, device)

    monkey = pytest.MonkeyPatch()
    monkey.setattr(module, "_step", spy)
    try:
        path = train(str(market["manifest"]), "DARTS_V2", str(tmp_path), cfg, Placement.cpu())
    finally:
        monkey.undo()
    steps = len(lrs) // 2
    assert lrs[:steps] == pytest.approx([0.01 * (k + 1) / steps for k in range(steps)])
    assert lrs[steps:] == pytest.approx([0.01] * steps)  # cosine over the one epoch after it: 1.0
    assert set(smoothing) == {0.1}
    model, spec = load_model(path)
    assert (spec.neck, spec.pool) == ("bnneck", "gem")
    assert torch.load(path, weights_only=True)["feature"] == "g"
