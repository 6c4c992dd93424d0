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


def synth(dataset: str, out: str | Path, values: dict) -> dict:
    """Write the synthetic stand-in of `dataset` with the given config values."""
    from autoreid.config import build

    if dataset == "market1501":
        from autoreid.data.synth.market import SynthMarketConfig as Config
        from autoreid.data.synth.market import write_market as write
    elif dataset == "cuhk03":
        from autoreid.data.synth.cuhk03 import SynthCUHK03Config as Config
        from autoreid.data.synth.cuhk03 import write_cuhk03 as write
    elif dataset == "msmt17":
        from autoreid.data.synth.msmt17 import SynthMSMT17Config as Config
        from autoreid.data.synth.msmt17 import write_msmt17 as write
    elif dataset == "imagenet":
        from autoreid.data.synth.imagenet import SynthImageNetConfig as Config
        from autoreid.data.synth.imagenet import write_imagenet as write
    else:
        raise ValueError(dataset)
    return write(out, build(Config, values, f"synth.{dataset}"))
