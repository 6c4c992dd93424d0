"""`autoreid export`: a trained network as an ONNX or TorchScript file that maps images to the
feature `evaluate` uses, checked against PyTorch before it is kept.

The graph takes float32 N x 3 x H x W RGB pixels in 0-255 at the training size (the batch axis is
dynamic) and normalises them itself; the file's metadata states this (ONNX: metadata_props;
TorchScript: the extra file `autoreid.json`). fp16 runs the network in half precision inside the
same float32 interface. The parity check runs the exported file (onnxruntime for ONNX) and
PyTorch on a batch of images (the manifest's, or seeded synthetic ones) at batch sizes 1 and N;
a difference beyond |exported - torch| <= atol + rtol * |torch| fails the export, naming the worst
one, and leaves no file."""
from __future__ import annotations

import contextlib
import copy
import io
import json
import logging
import warnings
from pathlib import Path

import numpy as np
import torch
from torch import nn

from autoreid.version import __version__
from autoreid.errors import UserError
from autoreid.io import atomic_path
from autoreid.space.part_aware import PartAware
from autoreid.use.model import Model, load_model, scale_shift

FORMATS = ("onnx", "torchscript")
# (rtol, atol): fp32 as fast-reid checks its ONNX (rtol 1e-3), with atol for features near 0;
# fp16 carries ~3 significant digits through every layer: its atol is a share of max |feature|
TOLERANCE = {"fp32": (1e-3, 1e-5), "fp16": (2e-2, 2e-2)}
SCALED_ATOL = {"fp32": False, "fp16": True}
OPSET = 18


class Embedding(nn.Module):
    """Pixels (float32, RGB, 0-255) -> the network's feature, normalisation inside."""

    def __init__(self, model: Model, half: bool = False):
        super().__init__()
        self.net = model.net.cpu().eval()
        self.feature = model.feature
        self.half = half
        if half:  # as autocast would: the part-aware op's attention stays in fp32
            self.net = copy.deepcopy(self.net).half()
            for m in self.net.modules():
                if isinstance(m, PartAware):
                    for layer in (m.query, m.key, m.value):
                        layer.float()
        scale, shift = scale_shift(model.input)
        self.register_buffer("scale", scale)
        self.register_buffer("shift", shift)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        x = images * self.scale + self.shift
        out = self.net(x.half() if self.half else x)[self.feature]
        return out.float()


def metadata(model: Model, precision: str) -> dict:
    h, w = model.size
    return {"producer": f"autoreid {__version__}", "name": model.spec.name,
            "input": f"images: float32 N x 3 x {h} x {w}, RGB, 0-255 (normalised inside: "
                     f"mean {_short(model.input['mean'])}, std {_short(model.input['std'])}); "
                     "resize to the input size with bilinear filtering, no crop",
            "output": f"features: float32 N x D, the feature '{model.feature}', not L2-normalised",
            "precision": precision, "architecture": json.dumps(model.spec.to_dict())}


def check_images(model: Model, manifest: str | None, n: int) -> torch.Tensor:
    """n images as uint8 N x 3 x H x W: the manifest's first (query first), or seeded noise."""
    if manifest:
        from autoreid.data.manifest import read_manifest

        records = sorted(read_manifest(manifest), key=lambda r: r.split != "query")[:n]
        return model.pixels([r.path for r in records])
    h, w = model.size
    return torch.randint(0, 256, (n, 3, h, w), generator=torch.Generator().manual_seed(0),
                         dtype=torch.uint8)


def export(checkpoint: str, fmt: str, out: str, precision: str = "fp32",
           manifest: str | None = None, batch: int = 7) -> dict:
    """Export's one entry: `checkpoint` -> `out` in `fmt`, kept only if it agrees with PyTorch.
    Returns the check: the batch sizes run and the worst difference at each."""
    if fmt not in FORMATS:
        raise UserError(f"--format {fmt}: one of {', '.join(FORMATS)}")
    if precision not in TOLERANCE:
        raise UserError(f"--precision {precision}: one of {', '.join(TOLERANCE)}")
    if batch < 1:
        raise UserError(f"--check-batch {batch}: must be >= 1")
    if fmt == "onnx":
        _needs("onnx", "onnxruntime", "onnxscript")
    model = load_model(checkpoint)
    images = check_images(model, manifest, batch).float()
    reference = Embedding(model)
    graph = Embedding(model, half=precision == "fp16")
    meta = metadata(model, precision)
    with atomic_path(out) as tmp:
        (_onnx if fmt == "onnx" else _torchscript)(graph, images, tmp, meta)
        run = _onnx_runner(tmp) if fmt == "onnx" else _torchscript_runner(tmp)
        report = parity(reference, run, images, *TOLERANCE[precision], SCALED_ATOL[precision],
                        out, fmt)
    return {"out": str(out), "format": fmt, "precision": precision, **report}


def parity(reference: nn.Module, run, images: torch.Tensor, rtol: float, atol: float,
           scaled: bool, out, fmt) -> dict:
    """The exported graph against PyTorch at batch sizes 1 and len(images); `scaled`: atol is a
    share of the largest |feature|."""
    worst = {}
    for n in sorted({1, len(images)}):
        with torch.no_grad():
            want = reference(images[:n]).numpy()
        got = run(images[:n].numpy())
        if got.shape != want.shape:
            raise UserError(f"{out}: the exported {fmt} gives {got.shape} features for {n} images, "
                            f"PyTorch {want.shape}")
        diff = np.abs(got - want)
        bound = atol * float(np.abs(want).max()) if scaled else atol
        excess = diff - (bound + rtol * np.abs(want))
        i, j = np.unravel_index(np.argmax(excess), excess.shape)
        if not np.isfinite(got).all() or excess[i, j] > 0:
            raise UserError(f"{out}: the exported {fmt} disagrees with PyTorch: worst difference "
                            f"{diff[i, j]:.3g} (image {i}, feature {j}: {got[i, j]:.6g} against "
                            f"{want[i, j]:.6g}) beyond the tolerance {bound:.3g} + {rtol:g} x |value| "
                            f"at batch size {n}; nothing written")
        worst[n] = float(diff.max())
    return {"batch_sizes": sorted(worst), "max_abs_difference": worst, "rtol": rtol, "atol": atol}


def _needs(*modules: str) -> None:
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise UserError(f"--format onnx needs {', '.join(missing)}: pip install -e '.[export]' "
                        "(or pip install onnx onnxruntime onnxscript)")


def _onnx(graph: nn.Module, images: torch.Tensor, path: Path, meta: dict) -> None:
    import onnx

    batch = torch.export.Dim("batch", min=1, max=65536)
    with _quiet(), torch.no_grad():
        torch.onnx.export(graph, (images,), str(path), dynamo=True, opset_version=OPSET,
                          input_names=["images"], output_names=["features"], external_data=False,
                          dynamic_shapes={"images": {0: batch}}, verbose=False)
    proto = onnx.load(str(path))
    del proto.metadata_props[:]
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=str(v))
    onnx.save(proto, str(path))


def _onnx_runner(path: Path):
    import onnxruntime

    try:
        session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    except Exception as e:  # noqa: BLE001 — e.g. no CPU kernel for an fp16 op
        raise UserError(f"{path.name}: onnxruntime cannot run the exported graph on the CPU "
                        f"({str(e).splitlines()[0][:200]})") from None
    return lambda x: session.run(["features"], {"images": x})[0]


def _torchscript(graph: nn.Module, images: torch.Tensor, path: Path, meta: dict) -> None:
    with torch.no_grad(), _quiet():
        traced = torch.jit.trace(graph, images, check_trace=False)
    torch.jit.save(traced, str(path), _extra_files={"autoreid.json": json.dumps(meta)})


def _torchscript_runner(path: Path):
    with _quiet():
        loaded = torch.jit.load(str(path), map_location="cpu")

    def run(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return loaded(torch.from_numpy(x)).numpy()
    return run


@contextlib.contextmanager
def _quiet():
    """The exporter's progress lines, warnings and optimiser log, kept out of the command's output."""
    loggers = [logging.getLogger(n) for n in ("onnxscript", "onnx_ir", "torch.onnx", "torch.export")]
    levels = [lg.level for lg in loggers]
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")
            for lg in loggers:
                lg.setLevel(logging.ERROR)
            yield
    finally:
        for lg, level in zip(loggers, levels):
            lg.setLevel(level)


def _short(values) -> str:
    return "[" + ", ".join(f"{v:.3f}" for v in values) + "]"
