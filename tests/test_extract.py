"""Feature extraction: the model in eval mode (batch-norm statistics untouched, no dropout),
deterministic, and features aligned with the manifest's query and gallery rows."""
import numpy as np
import torch

from autoreid.data.dataset import ImageSet
from autoreid.data.manifest import read_manifest
from autoreid.evaluate.features import embed, extract, read_features
from autoreid.models.build import arch_spec, build


def test_extract_in_eval_mode_deterministic_and_in_manifest_order(market, tmp_path):
    torch.manual_seed(0)
    model = build(arch_spec("DARTS_V2", 8, 4, (1, 1, 1, 1), embedding=16, dropout=0.5)).train()
    before = {k: v.clone() for k, v in model.state_dict().items()}

    def encode(images):
        return embed(model, images, "g", torch.device("cpu"), batch_size=5)

    counts = extract(str(market["manifest"]), encode, str(tmp_path / "a.h5"), {}, 32, 16)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())  # stats untouched
    extract(str(market["manifest"]), encode, str(tmp_path / "b.h5"), {}, 32, 16)

    a, b = read_features(tmp_path / "a.h5"), read_features(tmp_path / "b.h5")
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
