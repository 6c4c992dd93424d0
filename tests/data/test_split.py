"""The search split (Alg. 1, §4.2): the official training set split by image, at random and
seeded, into D_train and D_val."""
from collections import Counter

import pytest

from autoreid.data.manifest import Record
from autoreid.data.split import search_split
from autoreid.errors import UserError
from helpers import ROOT

TRAIN = [Record(f"/d/{pid:04d}_c{cam}_{k}.jpg", pid, cam, "train")
         for pid in range(1, 21) for cam in (0, 1) for k in range(3)]  # 20 ids x 6 images


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.8])
def test_disjoint_halves_that_cover_the_training_set(fraction):
    out = search_split(TRAIN, fraction, seed=0)
    assert len(out) == len(TRAIN)
    assert [(r.path, r.pid, r.camid) for r in out] == [(r.path, r.pid, r.camid) for r in TRAIN]
    counts = Counter(r.split for r in out)
    assert set(counts) == {"train", "val"}
    assert counts["train"] == round(fraction * len(TRAIN))


def test_by_image_not_by_identity():
    out = search_split(TRAIN, 0.5, seed=0)
    halves = {s: {r.pid for r in out if r.split == s} for s in ("train", "val")}
    shared = halves["train"] & halves["val"]
    assert len(shared) >= 15  # nearly every identity has images in both halves (one label space)


def test_seeded():
    a, b, c = (search_split(TRAIN, 0.5, seed=s) for s in (0, 0, 1))
    assert a == b and a != c
    assert [r.split for r in a[:12]] != ["train"] * 6 + ["val"] * 6  # shuffled, not in file order


def test_tiny_and_bad_inputs():
    two = search_split(TRAIN[:2], 0.1, seed=0)
    assert sorted(r.split for r in two) == ["train", "val"]  # each half gets at least one image
    for fraction in (0.0, 1.0, -0.5):
        with pytest.raises(UserError, match="fraction"):
            search_split(TRAIN, fraction, 0)
    with pytest.raises(UserError, match="at least 2"):
        search_split(TRAIN[:1], 0.5, 0)


def test_the_profiles_split_half_and_half_with_seed_0():
    from autoreid.config import resolve

    for profile in ("default", "paper", "smoke"):
        cfg = resolve("split", ROOT / "params" / f"{profile}.yaml")
        assert (cfg.fraction, cfg.seed) == (0.5, 0)
    assert Counter(r.split for r in search_split(TRAIN, 0.5, 0))["train"] == 60


def test_extreme_fractions_keep_one_image_on_each_side():
    twenty = TRAIN[:20]
    assert Counter(r.split for r in search_split(twenty, 0.01, 0))["train"] == 1
    assert Counter(r.split for r in search_split(twenty, 0.99, 0))["val"] == 1


def test_error_messages():
    with pytest.raises(UserError) as e:
        search_split(TRAIN[:1], 0.5, 0)
    assert str(e.value) == "split: need at least 2 training images"
    with pytest.raises(UserError) as e:
        search_split(TRAIN, 1.5, 0)
    assert str(e.value) == "split: fraction must be in (0, 1), got 1.5"
