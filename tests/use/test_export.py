"""`autoreid export`: every kind of network we train, as ONNX (run by onnxruntime) and TorchScript,
gives PyTorch's features at batch sizes 1 and 7; the file states its input; a graph that disagrees
is refused with its worst difference and leaves no file."""
import json

import numpy as np
import pytest
import torch
from conftest import HEIGHT, WIDTH, save_untrained
from helpers import assert_user_error, run_cli

from autoreid.errors import UserError
from autoreid.search.random_cells import random_genotype
from autoreid.space import genotypes
from autoreid.use import export as export_module
from autoreid.use.export import export
from autoreid.use.model import load_model

ort = pytest.importorskip("onnxruntime", reason="pip install -e '.[export]'")


def _searched(tmp_path) -> str:
    """A genotype file as `derive` writes it: a random reID cell (seed 0: the part-aware op in both
    the normal and the reduction cell)."""
    g = random_genotype("reid", seed=0)
    assert "part_aware" in {e[0] for e in g.normal} & {e[0] for e in g.reduce}
    path = tmp_path / "searched.yaml"
    genotypes.save(g, path)
    return str(path)


# with the trained DARTS_V2 of the command-line test: ResNets, published and searched cells, the
# part-aware op, the reID and the PCB head
KINDS = [("searched", "reid"), ("RETRIEVAL_REID_SEARCH_SPACE", "pcb"), ("resnet18", "pcb")]


def _pixels(n: int) -> np.ndarray:
    return torch.randint(0, 256, (n, 3, HEIGHT, WIDTH), generator=torch.Generator().manual_seed(n),
                         dtype=torch.uint8).float().numpy()


def _reference(model, x: np.ndarray) -> np.ndarray:
    return model.forward(torch.from_numpy(x)).numpy()


def read_paths(manifest, n: int) -> list[str]:
    from autoreid.data.manifest import read_manifest

    return [r.path for r in read_manifest(manifest)][-n:]


@pytest.mark.parametrize("arch, head", KINDS)
def test_onnx_and_torchscript_agree_with_pytorch_at_batch_1_and_7(arch, head, tmp_path):
    ckpt = save_untrained(tmp_path / "model.pt", _searched(tmp_path) if arch == "searched" else arch,
                          head)
    model = load_model(ckpt)
    onnx_report = export(str(ckpt), "onnx", str(tmp_path / "net.onnx"))
    assert onnx_report["batch_sizes"] == [1, 7]
    session = ort.InferenceSession(str(tmp_path / "net.onnx"), providers=["CPUExecutionProvider"])
    (shape,) = [i.shape for i in session.get_inputs()]
    assert shape[1:] == [3, HEIGHT, WIDTH] and not isinstance(shape[0], int)  # dynamic batch
    ts_report = export(str(ckpt), "torchscript", str(tmp_path / "net.ts"))
    scripted = torch.jit.load(str(tmp_path / "net.ts"))
    for n in (1, 7):  # our own run of the files, beside the export's check
        x = _pixels(n)
        want = _reference(model, x)
        np.testing.assert_allclose(session.run(None, {"images": x})[0], want, rtol=1e-3, atol=1e-5)
        np.testing.assert_allclose(scripted(torch.from_numpy(x)).detach().numpy(), want,
                                   rtol=1e-3, atol=1e-5)
    print(f"{arch}/{head}: worst |difference| onnx {onnx_report['max_abs_difference']}, "
          f"torchscript {ts_report['max_abs_difference']}")


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_fp16_agrees_within_its_tolerance_with_the_part_aware_op(fmt, tmp_path):
    ckpt = save_untrained(tmp_path / "model.pt", "RETRIEVAL_REID_SEARCH_SPACE")
    report = export(str(ckpt), fmt, str(tmp_path / f"net.{fmt}"), precision="fp16")
    assert report["precision"] == "fp16" and report["batch_sizes"] == [1, 7]
    assert 0 < max(report["max_abs_difference"].values())  # it did run in half precision


def test_a_graph_that_disagrees_is_refused_and_leaves_no_file(tmp_path, monkeypatch):
    ckpt = save_untrained(tmp_path / "model.pt", "resnet18")
    real = export_module._torchscript_runner
    monkeypatch.setattr(export_module, "_torchscript_runner",
                        lambda path: (lambda x: real(path)(x) * 1.01))  # 1% off
    with pytest.raises(UserError, match=r"net.ts: the exported torchscript disagrees with PyTorch: "
                                        r"worst difference .* at batch size 1; nothing written"):
        export(str(ckpt), "torchscript", str(tmp_path / "net.ts"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


def test_real_images_from_a_manifest_and_bad_inputs_on_the_command_line(trained, market, tmp_path):
    """The trained DARTS_V2 (a published cell, the reID head) on the manifest's images; the file
    states its input and output (ONNX metadata, TorchScript's extra file)."""
    import onnx

    proc = run_cli("export", "--checkpoint", trained, "--format", "onnx", "--out", tmp_path / "m.onnx",
                   "--manifest", market["manifest"], check=True)
    assert "agrees with PyTorch (max |difference| batch 1:" in proc.stdout
    meta = {p.key: p.value for p in onnx.load(str(tmp_path / "m.onnx")).metadata_props}
    assert f"float32 N x 3 x {HEIGHT} x {WIDTH}, RGB, 0-255 (normalised inside" in meta["input"]
    assert "mean [123.675, 116.280, 103.530]" in meta["input"]
    assert "the feature 'f', not L2-normalised" in meta["output"]
    assert json.loads(meta["architecture"])["genotype"]
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    model = load_model(trained)
    x = model.pixels(read_paths(market["manifest"], 7)).float().numpy()
    np.testing.assert_allclose(session.run(None, {"images": x})[0], _reference(model, x),
                               rtol=1e-3, atol=1e-5)
    run_cli("export", "--checkpoint", trained, "--format", "torchscript", "--out", tmp_path / "m.ts",
            check=True)
    files = {"autoreid.json": ""}
    torch.jit.load(str(tmp_path / "m.ts"), _extra_files=files)
    assert json.loads(files["autoreid.json"])["input"] == meta["input"]
    assert_user_error(run_cli("export", "--checkpoint", tmp_path / "none.pt", "--format", "onnx",
                              "--out", tmp_path / "x.onnx"), "none.pt: checkpoint not found")
    assert_user_error(run_cli("export", "--checkpoint", tmp_path / "m.onnx", "--format", "onnx",
                              "--out", tmp_path / "x.onnx"), "m.onnx: not a readable autoreid checkpoint")
    assert_user_error(run_cli("export", "--checkpoint", trained, "--format", "onnx", "--out",
                              tmp_path / "x.onnx", "--check-batch", "0"), "--check-batch 0: must be >= 1")
    assert not (tmp_path / "x.onnx").exists()


def test_without_the_export_extra_onnx_is_one_line(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "onnxruntime" else real(name, *a))
    ckpt = save_untrained(tmp_path / "model.pt", "resnet18")
    with pytest.raises(UserError, match=r"--format onnx needs onnxruntime: pip install -e '\.\[export\]'"):
        export(str(ckpt), "onnx", str(tmp_path / "net.onnx"))
    with pytest.raises(UserError, match=r"m.csv: no rows"):
        (tmp_path / "m.csv").write_text("path,pid,camid,split\n")
        export(str(ckpt), "torchscript", str(tmp_path / "net.ts"), manifest=str(tmp_path / "m.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.csv", "model.pt"]
