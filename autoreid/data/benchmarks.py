"""The benchmarks and the raw datasets they come from, in one table.

A benchmark is what is evaluated (Market-1501, CUHK03 labeled/detected, MSMT17); a dataset is
what is distributed (CUHK03's labeled and detected boxes ship together). Each dataset has an
embedded synthetic stand-in written in its official layout.
"""
from __future__ import annotations

from pathlib import Path

from autoreid.data.manifest import Record

BENCHMARKS = {"market1501": "market1501", "cuhk03-labeled": "cuhk03",
              "cuhk03-detected": "cuhk03", "msmt17": "msmt17"}
DATASETS = ("market1501", "cuhk03", "msmt17", "imagenet")


def load(benchmark: str, raw: str | Path, out: str | Path, train_only: bool = False) -> list[Record]:
    """Records of `benchmark` from its official layout under `raw`; CUHK03 images are extracted
    under `out`."""
    if benchmark == "market1501":
        from autoreid.data.market1501 import load_market1501

        return load_market1501(raw)
    if benchmark.startswith("cuhk03-"):
        from autoreid.data.cuhk03 import load_cuhk03

        return load_cuhk03(raw, benchmark.split("-")[1], out)
    if benchmark == "msmt17":
        from autoreid.data.msmt17 import load_msmt17

        return load_msmt17(raw, ("train",) if train_only else ("train", "val"))
    raise ValueError(benchmark)


def synth(dataset: str, out: str | Path, cfg) -> dict:
    """Write the synthetic stand-in of `dataset` (its resolved `synth.<dataset>` config)."""
    import importlib

    module, writer = {"market1501": ("market", "write_market"), "cuhk03": ("cuhk03", "write_cuhk03"),
                      "msmt17": ("msmt17", "write_msmt17"),
                      "imagenet": ("imagenet", "write_imagenet")}[dataset]
    return getattr(importlib.import_module(f"autoreid.data.synth.{module}"), writer)(out, cfg)
