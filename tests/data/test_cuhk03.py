"""CUHK03 (new protocol) from a small tree in the official format, written here by hand: a
MATLAB v7.3 cuhk-03.mat (HDF5 cell arrays of column-major images) and v5 split files."""
import h5py
import numpy as np
import pytest
from scipy.io import savemat

from autoreid.data.cuhk03 import load_cuhk03
from autoreid.errors import UserError

# camera pair -> person -> number of images in view 1 and view 2
PEOPLE = {0: [(2, 1), (1, 2)], 1: [(3, 0), (1, 1), (2, 2)]}


def write_mat(path):
    with h5py.File(path, "w", userblock_size=512) as f:
        refs = f.create_group("#refs#")
        empty = refs.create_dataset("empty", data=np.zeros(2, np.uint64))
        empty.attrs["MATLAB_empty"] = np.uint8(1)
        names = []
        for kind in ("labeled", "detected"):
            top = np.empty((1, 2), dtype=h5py.ref_dtype)
            for pair, people in PEOPLE.items():
                cell = np.full((10, len(people)), empty.ref, dtype=h5py.ref_dtype)
                for person, counts in enumerate(people):
                    for view, count in enumerate(counts):
                        for k in range(count):
                            slot = 5 * view + k
                            h, w = (40, 20) if kind == "labeled" else (44, 18)
                            img = np.full((h, w, 3), 10 * pair + person, np.uint8)
                            d = refs.create_dataset(f"{kind}{pair}{person}{slot}",
                                                    data=img.transpose(2, 1, 0))
                            cell[slot, person] = d.ref
                            if kind == "labeled":
                                names.append(f"{pair + 1}_{person + 1:03d}_{view + 1}_{slot + 1:02d}.png")
                top[0, pair] = refs.create_dataset(f"{kind}_pair{pair}", data=cell).ref
            f.create_dataset(kind, data=top)
    return names


def write_split(path, names, train, query, gallery, labels):
    filelist = np.empty((len(names), 1), dtype=object)
    filelist[:, 0] = names
    col = lambda v: np.array(v, np.float64).reshape(-1, 1)  # noqa: E731
    savemat(path, {"train_idx": col(train), "query_idx": col(query), "gallery_idx": col(gallery),
                   "labels": col(labels), "filelist": filelist})


@pytest.fixture
def tree(tmp_path):
    (tmp_path / "cuhk03_release").mkdir()
    names = write_mat(tmp_path / "cuhk03_release" / "cuhk-03.mat")
    # 15 images: pair 1 person 1 (3), person 2 (3); pair 2 person 1 (3), 2 (2), 3 (4)
    labels = [1] * 3 + [2] * 3 + [3] * 3 + [4] * 2 + [5] * 4
    train = [1, 2, 3, 7, 8, 9]                  # persons 1 and 3
    query = [4, 10, 12]                        # one per test person (2, 4, 5)
    gallery = [5, 6, 11, 13, 14, 15]
    for kind in ("labeled", "detected"):
        write_split(tmp_path / f"cuhk03_new_protocol_config_{kind}.mat", names, train, query,
                    gallery, labels)
    return tmp_path, names


@pytest.mark.parametrize("kind", ["labeled", "detected"])
def test_new_protocol_splits(tree, kind, tmp_path):
    raw, names = tree
    records = load_cuhk03(raw, kind, tmp_path / "out")
    by = {s: [r for r in records if r.split == s] for s in ("train", "query", "gallery")}
    assert [len(by[s]) for s in ("train", "query", "gallery")] == [6, 3, 6]
    assert {r.pid for r in by["train"]} == {1, 3} and {r.pid for r in by["query"]} == {2, 4, 5}
    cams = {r.path.rsplit("/", 1)[1]: r.camid for r in records}
    assert cams["1_002_2_06.png"] == 1 and cams["1_001_1_01.png"] == 0
    from PIL import Image

    img = Image.open(tmp_path / "out" / f"images_{kind}" / "2_003_2_07.png")
    assert img.size == ((20, 40) if kind == "labeled" else (18, 44))  # W x H, read back upright
    assert img.getpixel((0, 0)) == (12, 12, 12)


def test_images_are_extracted_once(tree, tmp_path):
    raw, _ = tree
    load_cuhk03(raw, "labeled", tmp_path / "out")
    first = tmp_path / "out" / "images_labeled" / "1_001_1_01.png"
    stamp = first.stat().st_mtime_ns
    load_cuhk03(raw, "labeled", tmp_path / "out")
    assert first.stat().st_mtime_ns == stamp


def test_missing_files_and_bad_entries(tree, tmp_path):
    raw, names = tree
    (raw / "cuhk03_new_protocol_config_detected.mat").unlink()
    with pytest.raises(UserError, match="cuhk03_new_protocol_config_detected.mat not found"):
        load_cuhk03(raw, "detected", tmp_path / "out")
    write_split(raw / "cuhk03_new_protocol_config_labeled.mat", names + ["1_001_1_05.png"],
                [16], [1], [2], list(range(1, 17)))
    with pytest.raises(UserError, match="cell for 1_001_1_05.png is empty"):
        load_cuhk03(raw, "labeled", tmp_path / "out2")
    with pytest.raises(UserError, match="CUHK03 folder not found"):
        load_cuhk03(tmp_path / "nowhere", "labeled", tmp_path / "out3")
