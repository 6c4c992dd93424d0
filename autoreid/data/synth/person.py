"""Drawing person-like images for the embedded synthetic benchmarks.

Identity lives in body-part structure: hair, skin, upper-body colour and pattern, sleeves,
lower-body colour and garment, shoes, bag, build. A camera changes illumination, colour cast,
background, scale, blur and the viewpoint mix; each image adds pose jitter and sometimes an
occluder. Everything is drawn from a seeded numpy Generator, so a seed fixes every pixel.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

PALETTE = np.array([
    (200, 30, 30), (30, 140, 40), (30, 60, 190), (230, 200, 40), (240, 240, 240), (25, 25, 25),
    (130, 130, 130), (240, 120, 20), (130, 40, 150), (30, 170, 180), (120, 70, 30),
    (240, 150, 180), (20, 40, 90), (110, 140, 60),
], dtype=np.float32)
SKIN = np.array([(240, 200, 170), (210, 160, 120), (160, 110, 70), (100, 65, 40)], np.float32)
HAIR = np.array([(20, 15, 10), (90, 55, 25), (200, 170, 90), (150, 150, 150), (160, 60, 20)],
                np.float32)
UPPER_PATTERNS = ("solid", "stripes", "split", "logo")
LOWER_KINDS = ("trousers", "shorts", "skirt")
BAGS = ("none", "backpack", "shoulder")
VIEWS = ("front", "back", "side")


@dataclass(frozen=True)
class Identity:
    skin: int
    hair: int
    long_hair: bool
    upper: int
    upper2: int
    pattern: str
    short_sleeves: bool
    lower: int
    lower_kind: str
    shoes: int
    bag: str
    bag_colour: int
    build: float
    height: float


@dataclass(frozen=True)
class Camera:
    gain: float
    cast: tuple[float, float, float]
    background: tuple[float, float, float]
    clutter: int
    scale: float
    blur: float
    views: tuple[float, float, float]


def sample_identity(rng: np.random.Generator) -> Identity:
    n = len(PALETTE)
    upper = int(rng.integers(n))
    return Identity(
        skin=int(rng.integers(len(SKIN))), hair=int(rng.integers(len(HAIR))),
        long_hair=bool(rng.random() < 0.35),
        upper=upper, upper2=int((upper + rng.integers(1, n)) % n),
        pattern=str(rng.choice(UPPER_PATTERNS)), short_sleeves=bool(rng.random() < 0.4),
        lower=int(rng.integers(n)), lower_kind=str(rng.choice(LOWER_KINDS, p=[0.6, 0.2, 0.2])),
        shoes=int(rng.integers(n)), bag=str(rng.choice(BAGS, p=[0.5, 0.3, 0.2])),
        bag_colour=int(rng.integers(n)),
        build=float(rng.uniform(0.8, 1.15)), height=float(rng.uniform(0.9, 1.0)),
    )


def sample_camera(rng: np.random.Generator, difficulty: float) -> Camera:
    d = difficulty
    views = rng.dirichlet([1.0, 1.0, 1.0])
    return Camera(
        gain=float(rng.uniform(1 - 0.4 * d, 1 + 0.25 * d)),
        cast=tuple(float(c) for c in rng.uniform(1 - 0.25 * d, 1 + 0.25 * d, 3)),
        background=tuple(float(c) for c in rng.uniform(40, 220, 3)),
        clutter=int(rng.integers(1, 5)),
        scale=float(rng.uniform(0.72, 0.95)),
        blur=float(rng.uniform(0.0, 1.2 * d)),
        views=tuple(float(v) for v in views),
    )


def _c(colour) -> tuple[int, int, int]:
    return tuple(int(v) for v in np.clip(colour, 0, 255))


def draw(person: Identity, cam: Camera, rng: np.random.Generator, height: int = 128,
         width: int = 64, difficulty: float = 1.0) -> Image.Image:
    """One image of `person` seen by `cam` (size height x width)."""
    img = Image.new("RGB", (width, height), _c(cam.background))
    d = ImageDraw.Draw(img)
    _background(d, cam, rng, height, width)
    view = VIEWS[int(rng.choice(3, p=cam.views))]
    scale = cam.scale * person.height * rng.uniform(0.95, 1.05)
    ph = height * scale
    top = (height - ph) * rng.uniform(0.2, 0.8)
    cx = width / 2 + rng.normal(0, 2.5)
    body_w = width * 0.36 * person.build * (0.75 if view == "side" else 1.0)
    _body(d, person, view, cx, top, ph, body_w, width)
    if rng.random() < 0.15 * difficulty:  # occluder: a passer-by or an object in front of the body
        ox = rng.uniform(-0.3, 0.7) * width
        oy = rng.uniform(0.3, 0.8) * height
        d.rectangle([ox, oy, ox + width * rng.uniform(0.3, 0.6), height],
                    fill=_c(rng.uniform(0, 255, 3)))
    return _through_camera(img, cam, rng, difficulty)


def _background(d: ImageDraw.ImageDraw, cam: Camera, rng: np.random.Generator, height: int,
                width: int) -> None:
    """A floor band and the camera's clutter, jittered per image."""
    floor = _c(np.array(cam.background) * 0.6 + rng.normal(0, 8, 3))
    d.rectangle([0, int(height * 0.8), width, height], fill=floor)
    for _ in range(cam.clutter):
        x0, y0 = rng.integers(-10, width), rng.integers(-10, height)
        w, h = rng.integers(6, 30), rng.integers(6, 50)
        d.rectangle([x0, y0, x0 + w, y0 + h],
                    fill=_c(np.array(cam.background) + rng.normal(0, 45, 3)))


def _body(d: ImageDraw.ImageDraw, person: Identity, view: str, cx: float, top: float, ph: float,
          body_w: float, width: int) -> None:
    """The person from the feet up, `ph` high from `top`, centred on `cx` (no random draws)."""

    def y(f: float) -> float:
        return top + f * ph

    skin, upper, lower = SKIN[person.skin], PALETTE[person.upper], PALETTE[person.lower]
    bag_c = PALETTE[person.bag_colour]
    if person.bag == "backpack" and view != "front":  # behind the torso, visible from back/side
        off = body_w * 0.35 if view == "side" else 0
        d.rectangle([cx - body_w * 0.45 - off, y(0.17), cx + body_w * 0.45 - off, y(0.45)],
                    fill=_c(bag_c))
    leg_w = body_w * 0.42  # legs / lower garment
    for side in (-1, 1):
        x0 = cx + side * body_w * 0.05 - (leg_w if side < 0 else 0)
        d.rectangle([x0, y(0.52), x0 + leg_w, y(0.95)], fill=_c(skin))
        end = {"trousers": 0.95, "shorts": 0.68, "skirt": 0.52}[person.lower_kind]
        d.rectangle([x0, y(0.5), x0 + leg_w, y(end)], fill=_c(lower))
        d.rectangle([x0 - 1, y(0.95), x0 + leg_w + 1, y(1.0)], fill=_c(PALETTE[person.shoes]))
    if person.lower_kind == "skirt":
        d.polygon([(cx - body_w * 0.5, y(0.48)), (cx + body_w * 0.5, y(0.48)),
                   (cx + body_w * 0.65, y(0.72)), (cx - body_w * 0.65, y(0.72))], fill=_c(lower))
    arm_w = body_w * 0.22
    for side in (-1, 1) if view != "side" else (1,):
        x0 = cx + side * body_w * 0.5 - (arm_w if side < 0 else 0)
        d.rectangle([x0, y(0.17), x0 + arm_w, y(0.5)], fill=_c(skin))
        sleeve_end = 0.28 if person.short_sleeves else 0.48
        d.rectangle([x0, y(0.17), x0 + arm_w, y(sleeve_end)], fill=_c(upper))
    _torso(d, person, view, cx, y, ph, body_w, width)
    _head(d, person, view, cx, y, body_w)


def _torso(d: ImageDraw.ImageDraw, person: Identity, view: str, cx: float, y, ph: float,
           body_w: float, width: int) -> None:
    """The upper garment with its pattern, and a shoulder bag's strap and bag."""
    upper, upper2, bag_c = PALETTE[person.upper], PALETTE[person.upper2], PALETTE[person.bag_colour]
    box = [cx - body_w / 2, y(0.16), cx + body_w / 2, y(0.52)]
    d.rectangle(box, fill=_c(upper))
    if person.pattern == "stripes":
        for k in range(4):
            yy = y(0.2 + 0.08 * k)
            d.rectangle([box[0], yy, box[2], yy + ph * 0.035], fill=_c(upper2))
    elif person.pattern == "split":
        d.rectangle([box[0], y(0.34), box[2], box[3]], fill=_c(upper2))
    elif person.pattern == "logo" and view == "front":
        d.ellipse([cx - body_w * 0.2, y(0.24), cx + body_w * 0.2, y(0.36)], fill=_c(upper2))
    if person.bag == "shoulder":
        s = -1 if view == "back" else 1
        d.line([cx - s * body_w * 0.4, y(0.17), cx + s * body_w * 0.5, y(0.46)], fill=_c(bag_c),
               width=max(1, int(width / 32)))
        d.rectangle([cx + s * body_w * 0.45 - 5, y(0.44), cx + s * body_w * 0.45 + 5, y(0.56)],
                    fill=_c(bag_c))


def _head(d: ImageDraw.ImageDraw, person: Identity, view: str, cx: float, y, body_w: float) -> None:
    skin, hair = SKIN[person.skin], HAIR[person.hair]
    hw = body_w * 0.55
    d.ellipse([cx - hw / 2, y(0.02), cx + hw / 2, y(0.16)], fill=_c(skin))
    if view == "back":
        d.ellipse([cx - hw / 2, y(0.0), cx + hw / 2, y(0.16)], fill=_c(hair))
    else:
        d.chord([cx - hw / 2, y(0.0), cx + hw / 2, y(0.12)], 180, 360, fill=_c(hair))
    if person.long_hair:
        d.rectangle([cx - hw / 2, y(0.06), cx + hw / 2, y(0.22)] if view == "back"
                    else [cx - hw / 2 - 1, y(0.06), cx - hw / 2 + 2, y(0.22)], fill=_c(hair))


def _through_camera(img: Image.Image, cam: Camera, rng: np.random.Generator,
                    difficulty: float) -> Image.Image:
    """The camera's blur, gain, colour cast and sensor noise."""
    if cam.blur > 0.05:
        img = img.filter(ImageFilter.GaussianBlur(cam.blur))
    pixels = np.asarray(img, dtype=np.float32)
    pixels = pixels * cam.gain * rng.uniform(0.9, 1.1) * np.array(cam.cast, np.float32)
    pixels += rng.normal(0, 4 * difficulty, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def draw_junk(cam: Camera, rng: np.random.Generator, height: int, width: int,
              person: Identity | None = None) -> Image.Image:
    """A false or badly cropped detection: background only, or a sliver of a person."""
    if person is None:
        img = Image.new("RGB", (width, height), _c(cam.background))
        d = ImageDraw.Draw(img)
        for _ in range(cam.clutter + 3):
            x0, y0 = rng.integers(-10, width), rng.integers(-10, height)
            d.rectangle([x0, y0, x0 + rng.integers(6, 40), y0 + rng.integers(6, 60)],
                        fill=_c(np.array(cam.background) + rng.normal(0, 60, 3)))
        return img
    full = draw(person, cam, rng, height * 3, width)
    top = int(rng.integers(0, height * 2))
    return full.crop((0, top, width, top + height))
