"""`autoreid.load_model(...).embed(...)`: paths, PIL images, arrays and tensors give the features
`extract` writes for the same images; the checkpoint carries what it needs; a corrupt or foreign
file is one line. The model card beside model.pt, from training and again from evaluation."""
import numpy as np
import pytest
import torch
import yaml
from PIL import Image
from helpers import assert_user_error, run_cli

import autoreid
from autoreid.data.manifest import read_manifest
from autoreid.errors import UserError
from autoreid.extract import read_features


@pytest.fixture(scope="module")
def extracted(trained, market, tmp_path_factory):
    out = tmp_path_factory.mktemp("extracted") / "features.h5"
    run_cli("extract", "--manifest", market["manifest"], "--checkpoint", trained, "--out", out,
            "--set", "device=cpu", check=True)
    return read_features(out)


def test_embed_paths_pil_arrays_and_tensors_as_extract_does(trained, extracted):
    model = autoreid.load_model(trained)
    want = extracted["query"].features
    paths = extracted["query"].paths
    pil = [Image.open(p) for p in paths]
    arrays = [np.array(im.convert("RGB")) for im in pil]
    tensors = [torch.from_numpy(a).permute(2, 0, 1) for a in arrays]
    chw = [np.ascontiguousarray(a.transpose(2, 0, 1)) for a in arrays]
    for given in (paths, pil, arrays, chw, tensors, tensors[0][None].expand(3, -1, -1, -1)):
        got = model.embed(given, batch_size=4)
        expected = want if len(got) == len(want) else np.repeat(want[:1], len(got), axis=0)
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    assert model.embed(paths[0]).shape == (1, want.shape[1]) == (1, model.dim)
    unit = model.embed(paths, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)
    floats = model.embed([t.float() / 255 for t in tensors[:2]])  # float tensors: 0-1
    np.testing.assert_allclose(floats, want[:2], rtol=1e-4, atol=1e-5)


def test_the_checkpoint_carries_its_input_and_feature_and_loads_weights_only(trained):
    ckpt = torch.load(trained, weights_only=True)
    assert ckpt["input"]["height"] == 32 and ckpt["input"]["width"] == 16
    assert ckpt["input"]["channels"] == "RGB" and len(ckpt["input"]["mean"]) == 3
    assert ckpt["feature"] == "f" and ckpt["spec"]["genotype"]
    model = autoreid.load_model(trained)
    assert model.size == (32, 16) and model.feature == "f"


def test_bad_images_and_bad_checkpoints_are_one_line(trained, tmp_path):
    model = autoreid.load_model(trained)
    with pytest.raises(UserError, match=r"nope.jpg: image not found"):
        model.embed([str(tmp_path / "nope.jpg")])
    with pytest.raises(UserError, match=r"images\[1\]: an array must be uint8 H x W x 3"):
        model.embed([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8, 3), np.float32)])
    with pytest.raises(UserError, match=r"images\[0\]: int is not an image"):
        model.embed([3])
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(trained.read_bytes()[:5000])
    foreign = tmp_path / "foreign.pt"
    torch.save({"backbone": {"w": torch.zeros(2)}}, foreign)  # e.g. `pretrain`'s weights.pt
    for path, message in ((corrupt, "corrupt.pt: not a readable autoreid checkpoint"),
                          (foreign, "foreign.pt: not an autoreid model checkpoint")):
        with pytest.raises(UserError, match=message):
            autoreid.load_model(path)
        assert_user_error(run_cli("query", "--model", path, "--gallery", tmp_path, "--image", path),
                          message)


def test_training_writes_the_model_card_and_evaluation_completes_it(trained, market, tmp_path):
    card = yaml.safe_load(trained.with_name("model.yaml").read_text())
    assert card["name"] == "DARTS_V2" and card["architecture"]["genotype"]
    assert card["input"]["height"] == 32 and card["output"] == {"feature": "f", "dim": card["output"]["dim"],
                                                                "normalised": False}
    assert card["params_M"] > 0 and card["flops_G"] > 0
    assert card["training"]["epochs"] == 1 and card["training"]["C"] == 4
    assert card["evaluation"]["source"].startswith("training's validation")  # eval_every: 1
    run_cli("evaluate", "--checkpoint", trained, "--manifest", market["manifest"], "--out-dir",
            tmp_path / "ev", "--card", "--set", "device=cpu", check=True)
    card = yaml.safe_load(trained.with_name("model.yaml").read_text())
    metrics = yaml.safe_load((tmp_path / "ev" / "metrics.json").read_text())
    assert card["evaluation"]["source"] == str(tmp_path / "ev" / "metrics.json")
    assert card["evaluation"]["mAP"] == pytest.approx(metrics["mAP"], abs=1e-6)
    assert card["evaluation"]["mAP_ci95"] == pytest.approx(metrics["mAP_ci95"], abs=1e-6)
