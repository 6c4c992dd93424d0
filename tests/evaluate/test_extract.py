"""Feature extraction: the model in eval mode (batch-norm statistics untouched, no dropout),
deterministic, and features aligned with the manifest's query and gallery rows."""
import pytest
from pathlib import Path

import numpy as np
import torch

from autoreid.data.dataset import ImageSet
from autoreid.data.manifest import read_manifest
from autoreid.extract import embed, extract, read_features
from autoreid.models.build import arch_spec, build


@pytest.mark.smoke
def test_extract_in_eval_mode_deterministic_and_in_manifest_order(market, tmp_path):
    torch.manual_seed(0)
    model = build(arch_spec("DARTS_V2", 8, 4, (1, 1, 1, 1), embedding=16, dropout=0.5)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def encode(images):
        return embed(model, images, "g", torch.device("cpu"), batch_size=5)

    counts = extract(str(market["manifest"]), encode, str(tmp_path / "a.h5"), {"model": "m.pt"}, 32, 16)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # stats untouched
    extract(str(market["manifest"]), encode, str(tmp_path / "b.h5"), {}, 32, 16)

    a, b = read_features(tmp_path / "a.h5"), read_features(tmp_path / "b.h5")
    import h5py

    with h5py.File(tmp_path / "a.h5") as f:
        assert f.attrs["model"] == "m.pt"
    records = read_manifest(market["manifest"])
    for name in ("query", "gallery"):
        rows = [r for r in records if r.split == name]
        assert counts[name] == len(rows) == len(a[name].features)
        assert a[name].paths == [r.path for r in rows]
        assert a[name].pids.tolist() == [r.pid for r in rows]
        assert a[name].camids.tolist() == [r.camid for r in rows]
        assert np.array_equal(a[name].features, b[name].features)  # deterministic
        # each feature is the eval-mode output for its own image, whatever the batch around it
        x, _ = next(ImageSet(rows[-3:], 32, 16).batches([[0, 1, 2]]))
        with torch.no_grad():
            expected = model.eval()(x)["g"].numpy()
        np.testing.assert_allclose(a[name].features[-3:], expected, rtol=1e-4, atol=1e-5)
        model.train()


def write_h5(path, groups: dict) -> str:
    import h5py

    with h5py.File(path, "w") as f:
        for name, data in groups.items():
            f.create_dataset(name, data=data)
    return str(path)


def good(n_query=2, n_gallery=3, dim=4) -> dict:
    out = {}
    for g, n in (("query", n_query), ("gallery", n_gallery)):
        out.update({f"{g}/features": np.zeros((n, dim), np.float32), f"{g}/pids": np.arange(n),
                    f"{g}/camids": np.zeros(n, np.int64), f"{g}/paths": [f"{g}{i}.jpg" for i in range(n)]})
    return out


def bad(**changes) -> dict:
    d = good()
    for k, v in changes.items():
        k = k.replace("__", "/")
        if v is None:
            del d[k]
        else:
            d[k] = v
    return d


BAD = {
    "missing group 'gallery'": {k: v for k, v in good().items() if k.startswith("query")},
    "query/pids is missing": bad(query__pids=None),
    "query/paths is missing": bad(query__paths=None),
    "gallery/features must be a non-empty float N x D array": bad(gallery__features=np.zeros(3, np.float32)),
    "query/features must be a non-empty float N x D array": bad(query__features=np.zeros((2, 4), np.int64)),
    "query and gallery features have different dimensions (4 vs 5)":
        bad(gallery__features=np.zeros((3, 5), np.float32)),
    "gallery/camids must be 3 integers": bad(gallery__camids=np.zeros(2, np.int64)),
    "query/pids must be 2 integers": bad(query__pids=np.zeros(2, np.float32)),
    "gallery/paths must have 3 entries": bad(gallery__paths=["a.jpg"]),
    "query/features contains NaN or inf": bad(query__features=np.full((2, 4), np.inf, np.float32)),
}
EMPTY = {"query/features must be a non-empty float N x D array":
         bad(query__features=np.zeros((0, 4), np.float32), query__pids=np.zeros(0, np.int64),
             query__camids=np.zeros(0, np.int64), query__paths=np.array([], dtype="S1"))}


def test_features_files_that_break_the_contract_name_the_file_and_the_problem(tmp_path):
    import pytest

    from autoreid.errors import UserError

    for i, (message, groups) in enumerate([*BAD.items(), *EMPTY.items()]):
        path = write_h5(tmp_path / f"{i}.h5", groups)
        with pytest.raises(UserError) as e:
            read_features(path)
        assert str(e.value) == f"{path}: {message}"
    missing, text = tmp_path / "none.h5", tmp_path / "text.h5"
    text.write_text("not hdf5")
    for path, message in ((missing, "features file not found"), (text, "not an HDF5 file")):
        with pytest.raises(UserError) as e:
            read_features(path)
        assert str(e.value) == f"{path}: {message}"


def test_features_round_trip_in_the_contract_types(tmp_path):
    import h5py

    from autoreid.extract import FeatureSet, write_features

    ints = np.array([3, 4], np.int32)
    sets = {"query": FeatureSet(np.arange(6).reshape(2, 3) / 7, ints, ints - 3, ["q/é.jpg", "q/2.jpg"]),
            "gallery": FeatureSet(np.ones((1, 3)), np.array([5], np.int16), [2], ["g/1.jpg"])}
    write_features(tmp_path / "f.h5", sets, {"model": "m.pt"})
    with h5py.File(tmp_path / "f.h5") as f:
        assert f["query/features"].dtype == np.float32 and f["query/pids"].dtype == np.int64
        assert f["query/camids"].dtype == np.int64 and f["gallery/pids"].dtype == np.int64
        assert h5py.check_string_dtype(f["query/paths"].dtype).encoding == "utf-8"
        assert f.attrs["model"] == "m.pt"
    back = read_features(tmp_path / "f.h5")
    assert back["query"].paths == ["q/é.jpg", "q/2.jpg"] and back["gallery"].pids.tolist() == [5]
    np.testing.assert_allclose(back["query"].features, np.arange(6).reshape(2, 3) / 7, rtol=1e-6)
    assert back["query"].camids.tolist() == [0, 1] and back["query"].features.dtype == np.float32
    assert back["query"].pids.dtype == back["gallery"].camids.dtype == np.int64


def test_pixels_are_the_normalised_images_flattened(market):
    from autoreid.data.images import normalize
    from autoreid.extract import pixels

    rows = [r for r in read_manifest(market["manifest"]) if r.split == "query"]
    images = ImageSet(rows, 16, 8)
    raw = torch.from_numpy(images.source.read(list(range(len(rows)))))
    np.testing.assert_allclose(pixels(images, batch_size=3), normalize(raw).flatten(1).numpy(), rtol=1e-6)


def test_a_manifest_without_query_images(market, tmp_path):
    import pytest

    from autoreid.data.manifest import write_manifest
    from autoreid.errors import UserError

    rows = [r for r in read_manifest(market["manifest"]) if r.split != "query"]
    write_manifest(rows, tmp_path / "m.csv")
    with pytest.raises(UserError, match=r"m.csv: no 'query' images"):
        extract(str(tmp_path / "m.csv"), lambda images: np.zeros((len(images), 2)), str(tmp_path / "f.h5"),
                {}, 16, 8)


def test_extract_reads_the_image_store_when_given(market, tmp_path):
    """With --store the images come from the store alone (here the files are gone)."""
    import shutil

    from autoreid.data.manifest import write_manifest
    from autoreid.data.store import pack
    from autoreid.extract import pixels

    rows = [r for r in read_manifest(market["manifest"]) if r.split in ("query", "gallery")]
    copies = []
    for r in rows:
        target = tmp_path / "images" / r.split / Path(r.path).name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(r.path, target)
        copies.append(type(r)(str(target), r.pid, r.camid, r.split))
    write_manifest(copies, tmp_path / "manifest.csv")
    from_files = extract(str(tmp_path / "manifest.csv"), pixels, str(tmp_path / "files.h5"), {}, 16, 8)
    pack(read_manifest(tmp_path / "manifest.csv"), tmp_path / "store.h5", "raw", 16, 8)
    shutil.rmtree(tmp_path / "images")
    from_store = extract(str(tmp_path / "manifest.csv"), pixels, str(tmp_path / "store.h5.features"),
                         {}, 16, 8, store=str(tmp_path / "store.h5"))
    assert from_store == from_files
    a, b = read_features(tmp_path / "files.h5"), read_features(tmp_path / "store.h5.features")
    for name in ("query", "gallery"):
        np.testing.assert_array_equal(a[name].features, b[name].features)
