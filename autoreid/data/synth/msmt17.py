"""Write an embedded synthetic MSMT17 in the official MSMT17_V1 layout.

`MSMT17_V1/{train,test}/<pid>/<pid>_<k>_<camera>_<date><time>_<frame>_<n>.jpg` and the list files
`list_{train,val,query,gallery}.txt` (`<pid>/<file> <pid>`), 15 cameras, train and test
identities numbered from 0 in their own folders, as in the release.
"""
from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from autoreid.data.synth.person import draw, sample_camera, sample_identity
from autoreid.io import publish_dir, write_yaml

ROOT_DIR = "MSMT17_V1"
TIMES = ("morning", "noon", "afternoon")


@dataclass(frozen=True)
class SynthMSMT17Config:
    train_ids: int
    test_ids: int
    cameras: int
    cameras_per_id: tuple[int, int]
    images_per_camera: tuple[int, int]
    val_fraction: float
    height: int
    width: int
    difficulty: float
    seed: int


def write_msmt17(out: str | Path, cfg: SynthMSMT17Config) -> dict:
    out = Path(out)
    rng = np.random.default_rng(cfg.seed)
    cams = [sample_camera(rng, cfg.difficulty) for _ in range(cfg.cameras)]
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    lists: dict[str, list[str]] = {k: [] for k in ("train", "val", "query", "gallery")}
    try:
        root = tmp / ROOT_DIR
        for folder, n_ids in (("train", cfg.train_ids), ("test", cfg.test_ids)):
            for pid in range(n_ids):
                person = sample_identity(rng)
                (root / folder / f"{pid:04d}").mkdir(parents=True)
                n_cams = int(rng.integers(cfg.cameras_per_id[0], cfg.cameras_per_id[1] + 1))
                k = 0
                for cam in sorted(rng.choice(cfg.cameras, n_cams, replace=False)):
                    n_img = int(rng.integers(cfg.images_per_camera[0], cfg.images_per_camera[1] + 1))
                    day = f"{int(rng.integers(1, 13)):02d}{int(rng.integers(1, 29)):02d}"
                    for j in range(n_img):
                        img = draw(person, cams[cam], rng, cfg.height, cfg.width, cfg.difficulty)
                        name = (f"{pid:04d}_{k:03d}_{cam + 1:02d}_{day}{TIMES[cam % 3]}_"
                                f"{int(rng.integers(10000)):04d}_{j}.jpg")
                        img.save(root / folder / f"{pid:04d}" / name, quality=90)
                        k += 1
                        if folder == "train":
                            which = "val" if rng.random() < cfg.val_fraction else "train"
                        else:
                            which = "query" if j == 0 else "gallery"
                        lists[which].append(f"{pid:04d}/{name} {pid}")
        for name, lines in lists.items():
            (root / f"list_{name}.txt").write_text("".join(line + "\n" for line in lines))
        counts = {k: len(v) for k, v in lists.items()}
        write_yaml(tmp / "synth.yaml", {"benchmark": "msmt17", "config": asdict(cfg), "counts": counts})
        publish_dir(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)
    return counts
