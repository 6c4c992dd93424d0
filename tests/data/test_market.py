"""The Market-1501 loader on a small tree in the official layout whose true counts we know."""
import pytest
from PIL import Image

from autoreid.config import resolve
from autoreid.data.manifest import read_manifest, relabel, write_manifest
from autoreid.data.market1501 import load_market1501
from autoreid.errors import UserError

FILES = {
    "bounding_box_train": ["0002_c1s1_000451_03.jpg", "0002_c2s1_000551_01.jpg",
                           "0007_c3s3_077419_03.jpg", "0007_c6s3_077469_01.jpg",
                           "0011_c4s1_002826_01.jpg"],
    "query": ["0001_c1s1_001051_00.jpg", "0003_c3s3_064744_00.jpg"],
    "bounding_box_test": ["0001_c2s1_000301_01.jpg", "0001_c1s1_001101_02.jpg",
                          "0003_c5s3_065187_02.jpg", "0000_c1s1_000151_01.jpg",
                          "0000_c6s4_015126_04.jpg", "-1_c1s1_000401_03.jpg",
                          "-1_c3s2_039794_01.jpg"],
}


def make_tree(root, files=FILES):
    top = root / "Market-1501-v15.09.15"
    for folder, names in files.items():
        (top / folder).mkdir(parents=True)
        for n in names:
            Image.new("RGB", (64, 128), (120, 60, 30)).save(top / folder / n)
        (top / folder / "Thumbs.db").write_bytes(b"\0")
    return root


def test_official_layout(tmp_path):
    records = load_market1501(make_tree(tmp_path))
    by = {s: [r for r in records if r.split == s] for s in ("train", "query", "gallery")}
    assert len(by["train"]) == 5 and {r.pid for r in by["train"]} == {2, 7, 11}
    assert len(by["query"]) == 2
    assert len(by["gallery"]) == 5  # two junk (-1) images dropped, two distractors (0) kept
    assert sum(r.pid == 0 for r in by["gallery"]) == 2
    assert all(r.pid != -1 for r in records)
    cams = {r.path.split("/")[-1]: r.camid for r in records}
    assert cams["0007_c6s3_077469_01.jpg"] == 5 and cams["0002_c1s1_000451_03.jpg"] == 0
    labels, n = relabel(by["train"])
    assert n == 3 and sorted(set(labels)) == [0, 1, 2]


def test_manifest_round_trip(tmp_path):
    records = load_market1501(make_tree(tmp_path / "raw"))
    write_manifest(records, tmp_path / "out" / "manifest.csv")
    text = (tmp_path / "out" / "manifest.csv").read_text().splitlines()
    assert text[0] == "path,pid,camid,split" and text[1].startswith("../raw/")
    again = read_manifest(tmp_path / "out" / "manifest.csv")
    assert [(r.pid, r.camid, r.split) for r in again] == [(r.pid, r.camid, r.split) for r in records]


def test_wrong_layout_and_bad_names(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="not in the Market-1501 layout"):
        load_market1501(tmp_path / "empty")
    with pytest.raises(UserError, match="folder not found"):
        load_market1501(tmp_path / "nowhere")
    bad = {**FILES, "query": ["person1.jpg"]}
    with pytest.raises(UserError, match="person1.jpg: file name is not in the Market-1501 form"):
        load_market1501(make_tree(tmp_path / "bad", bad))


@pytest.mark.smoke
def test_synthetic_benchmark_is_read_by_the_real_loader(market):
    records = read_manifest(market["manifest"])
    train = [r for r in records if r.split == "train"]
    query = [r for r in records if r.split == "query"]
    gallery = [r for r in records if r.split == "gallery"]
    assert len({r.pid for r in train}) == 8 and len({r.pid for r in query}) == 6
    assert not {r.pid for r in train} & {r.pid for r in query}
    assert sum(r.pid == 0 for r in gallery) == 4  # distractors kept, junk dropped
    for q in query:  # every query has a true match in another camera
        assert any(g.pid == q.pid and g.camid != q.camid for g in gallery)


def test_synthetic_cuhk03_and_msmt17_are_read_by_the_real_loaders(tmp_path):
    from autoreid.data.benchmarks import load, synth

    counts = synth("cuhk03", tmp_path / "cuhk03",
                   resolve("synth.cuhk03", overrides={"train_ids": 6, "test_ids": 4, "pairs": 2}))
    for kind in ("labeled", "detected"):
        records = load(f"cuhk03-{kind}", tmp_path / "cuhk03", tmp_path / kind)
        for split, n in counts[kind].items():
            assert sum(r.split == split for r in records) == n
        assert len({r.pid for r in records if r.split == "train"}) == 6
        assert {r.camid for r in records} == {0, 1}
        query = [r for r in records if r.split == "query"]
        gallery = [r for r in records if r.split == "gallery"]
        assert len(query) == 8  # one per test person and view
        assert all(any(g.pid == q.pid and g.camid != q.camid for g in gallery) for q in query)
    counts = synth("msmt17", tmp_path / "msmt17",
                   resolve("synth.msmt17", overrides={"train_ids": 5, "test_ids": 4}))
    records = load("msmt17", tmp_path / "msmt17", tmp_path / "m")
    assert sum(r.split == "train" for r in records) == counts["train"] + counts["val"]
    assert max(r.camid for r in records) <= 14
