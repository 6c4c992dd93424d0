"""MSMT17 from small V1 and V2 trees with the official list files."""
import pytest
from PIL import Image

from autoreid.data.msmt17 import load_msmt17
from autoreid.errors import UserError

LISTS = {
    "train": ["0000/0000_000_01_0303morning_0015_0.jpg 0", "0000/0000_001_05_0303morning_0020_0.jpg 0",
              "0001/0001_000_15_0302noon_0103_1.jpg 1"],
    "val": ["0001/0001_001_03_0302noon_0110_0.jpg 1"],
    "query": ["0000/0000_000_02_0113morning_0001_0.jpg 0", "0001/0001_000_07_0113noon_0005_0.jpg 1"],
    "gallery": ["0000/0000_001_09_0113morning_0009_0.jpg 0", "0001/0001_001_11_0113noon_0017_0.jpg 1",
                "0001/0001_002_07_0113noon_0021_0.jpg 1"],
}


def make_tree(root, version=1):
    top, train_dir, test_dir = (("MSMT17_V1", "train", "test") if version == 1
                                else ("MSMT17_V2", "mask_train_v2", "mask_test_v2"))
    for name, lines in LISTS.items():
        folder = root / top / (train_dir if name in ("train", "val") else test_dir)
        for line in lines:
            path = folder / line.split()[0]
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.new("RGB", (32, 64)).save(path)
        (root / top / f"list_{name}.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.mark.parametrize("version", [1, 2])
def test_lists_cameras_and_train_plus_val(tmp_path, version):
    records = load_msmt17(make_tree(tmp_path, version))
    by = {s: [r for r in records if r.split == s] for s in ("train", "query", "gallery")}
    assert [len(by[s]) for s in ("train", "query", "gallery")] == [4, 2, 3]  # train + val
    assert [r.camid for r in by["train"]] == [0, 4, 14, 2]
    assert all(r.path.endswith(".jpg") and "/" in r.path for r in records)
    train_only = load_msmt17(tmp_path, ("train",))
    assert sum(r.split == "train" for r in train_only) == 3


def test_malformed_list_and_missing_dataset(tmp_path):
    root = make_tree(tmp_path)
    (root / "MSMT17_V1" / "list_query.txt").write_text("0000/0000_000_02_x.jpg\n")
    with pytest.raises(UserError, match=r"list_query.txt:1: expected '<relative path> <pid>'"):
        load_msmt17(root)
    with pytest.raises(UserError, match="MSMT17 folder not found"):
        load_msmt17(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not in the MSMT17 layout"):
        load_msmt17(tmp_path / "empty")
