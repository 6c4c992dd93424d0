"""The HDF5 image store against decoding the files, in both formats, with DataLoader workers."""
import numpy as np
import pytest
import torch

from autoreid.data.dataset import ImageSet, sequential
from autoreid.data.manifest import read_manifest
from autoreid.data.sampler import PKSampler
from autoreid.data.store import FolderSource, StoreSource, pack
from autoreid.errors import UserError


@pytest.fixture(scope="module")
def stores(market, tmp_path_factory):
    base = tmp_path_factory.mktemp("store")
    records = read_manifest(market["manifest"])
    pack(records, base / "raw.h5", "raw", 32, 16)
    pack(records, base / "encoded.h5", "encoded", 32, 16)
    return records, base


@pytest.mark.parametrize("fmt", ["raw", "encoded"])
def test_store_reads_what_the_files_hold(stores, fmt):
    records, base = stores
    files = FolderSource(records, 32, 16)
    store = StoreSource(base / f"{fmt}.h5", records, 32, 16)
    index = [5, 0, 5, len(records) - 1]  # unsorted, with a repeat
    assert np.array_equal(store.read(index), files.read(index))


def test_raw_store_resizes_on_read(stores):
    records, base = stores
    small = StoreSource(base / "raw.h5", records, 16, 8).read([0, 1])
    assert small.shape == (2, 3, 16, 8)


def test_workers_give_the_same_batches(stores):
    records, base = stores
    train = [r for r in records if r.split == "train"]
    out = []
    for workers in (0, 2):
        data = ImageSet(train, 32, 16, pad=1, store=str(base / "raw.h5"), workers=workers)
        sampler = PKSampler(data.labels, 2, 2, torch.Generator().manual_seed(0))
        out.append([(x.clone(), y) for x, y in data.batches(sampler, torch.Generator().manual_seed(1))])
    assert len(out[0]) == len(out[1])
    for (x0, y0), (x1, y1) in zip(out[0], out[1]):
        assert torch.equal(x0, x1) and torch.equal(y0, y1)
    seq = ImageSet(train, 32, 16, store=str(base / "encoded.h5"), workers=2)
    assert sum(len(y) for _, y in seq.batches(sequential(len(train), 7))) == len(train)


def test_stale_store_is_refused(stores, tmp_path):
    records, base = stores
    pack(records[:3], tmp_path / "small.h5", "raw", 32, 16)
    with pytest.raises(UserError, match="stale store"):
        StoreSource(tmp_path / "small.h5", records, 32, 16)
    with pytest.raises(UserError, match="image store not found"):
        StoreSource(tmp_path / "none.h5", records, 32, 16)


def test_pack_refuses_corrupt_images(stores, tmp_path):
    records, _ = stores
    from dataclasses import replace

    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(UserError, match="bad.jpg: corrupt or unreadable image"):
        pack([replace(records[0], path=str(bad))], tmp_path / "s.h5", "encoded", 32, 16)
    assert not (tmp_path / "s.h5").exists()
