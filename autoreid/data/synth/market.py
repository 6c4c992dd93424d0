"""Write an embedded synthetic benchmark in the official Market-1501 layout.

Market-1501-v15.09.15/{bounding_box_train,query,bounding_box_test}/PPPP_cCsS_FFFFFF_BB.jpg with
the official conventions: train and test identities disjoint; one query per test identity and
camera, the rest of its images in the gallery; distractors (pid 0000) and junk (pid -1) in the
gallery. Deterministic from the seed. Written to a temporary folder and renamed when complete.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from autoreid.data.synth.person import draw, draw_junk, sample_camera, sample_identity
from autoreid.io import publish_dir, write_yaml

MARKET_DIR = "Market-1501-v15.09.15"


@dataclass(frozen=True)
class SynthMarketConfig:
    train_ids: int
    test_ids: int
    cameras: int
    cameras_per_id: tuple[int, int]
    images_per_camera: tuple[int, int]
    distractors: int
    junk: int
    height: int
    width: int
    difficulty: float
    seed: int


def write_market(out: str | Path, cfg: SynthMarketConfig) -> dict:
    """Generate the benchmark under `out/Market-1501-v15.09.15`; returns image counts."""
    out = Path(out)
    rng = np.random.default_rng(cfg.seed)
    cams = [sample_camera(rng, cfg.difficulty) for _ in range(cfg.cameras)]
    pids = rng.choice(np.arange(1, 1502), cfg.train_ids + cfg.test_ids, replace=False)
    train_pids = set(int(p) for p in pids[: cfg.train_ids])
    counts = {"train": 0, "query": 0, "gallery": 0, "distractors": 0, "junk": 0}

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        root = tmp / MARKET_DIR
        folders = {k: root / v for k, v in (("train", "bounding_box_train"), ("query", "query"),
                                            ("gallery", "bounding_box_test"))}
        for f in folders.values():
            f.mkdir(parents=True)
        frame = 0

        def save(img, pid: int, cam: int, folder: str) -> None:
            nonlocal frame
            frame += int(rng.integers(1, 40))
            name = f"{pid:04d}" if pid >= 0 else "-1"
            img.save(folders[folder] / f"{name}_c{cam + 1}s1_{frame:06d}_01.jpg", quality=90)

        test_people = []
        for pid in sorted(int(p) for p in pids):
            person = sample_identity(rng)
            n_cams = int(rng.integers(cfg.cameras_per_id[0], cfg.cameras_per_id[1] + 1))
            for cam in sorted(rng.choice(cfg.cameras, n_cams, replace=False)):
                n_img = int(rng.integers(cfg.images_per_camera[0], cfg.images_per_camera[1] + 1))
                for k in range(n_img):
                    img = draw(person, cams[cam], rng, cfg.height, cfg.width, cfg.difficulty)
                    split = "train" if pid in train_pids else ("query" if k == 0 else "gallery")
                    save(img, pid, int(cam), split)
                    counts[split] += 1
            if pid not in train_pids:
                test_people.append(person)
        for k in range(cfg.distractors):  # unseen people and empty detections, pid 0000
            cam = int(rng.integers(cfg.cameras))
            img = (draw(sample_identity(rng), cams[cam], rng, cfg.height, cfg.width, cfg.difficulty)
                   if k % 2 == 0 else draw_junk(cams[cam], rng, cfg.height, cfg.width))
            save(img, 0, cam, "gallery")
            counts["distractors"] += 1
        for _ in range(cfg.junk):  # slivers of test people, pid -1
            cam = int(rng.integers(cfg.cameras))
            person = test_people[int(rng.integers(len(test_people)))]
            save(draw_junk(cams[cam], rng, cfg.height, cfg.width, person), -1, cam, "gallery")
            counts["junk"] += 1
        write_yaml(tmp / "synth.yaml", {"benchmark": "market1501", "config": asdict(cfg),
                                        "counts": counts})
        publish_dir(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return counts
