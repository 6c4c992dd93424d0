"""bf16 against fp32 on the embedded tiny profile: one network trained, extracted and evaluated
twice through the CLI (same seed, same data), once per precision; a Markdown table of mAP, R1 and
the training time of each.

    python benchmarks/amp.py                       # DARTS_V2 and the Auto-ReID cell, CPU
    python benchmarks/amp.py --arch resnet18 --device cuda --amp fp16

The data is the tiny profile's synthetic Market-1501 (params/default.yaml), made in --work.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PARAMS = ROOT / "params" / "default.yaml"


def cli(*args) -> float:
    """Run `autoreid ...`; its wall time in seconds."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "autoreid.cli", *map(str, args)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"autoreid {' '.join(map(str, args))} failed:\n{proc.stderr[-2000:]}")
    return time.perf_counter() - t0


def prepare(work: Path) -> tuple[Path, Path]:
    raw, data = work / "raw", work / "data"
    if not (data / "manifest.csv").exists():
        cli("data", "synth", "--dataset", "market1501", "--params", PARAMS, "--out-dir", raw)
        cli("data", "prepare", "--benchmark", "market1501", "--raw", raw, "--out-dir", data)
    store = data / "store.h5"
    if not store.exists():
        cli("data", "pack", "--manifest", data / "manifest.csv", "--out", store,
            "--params", PARAMS, "--set", "format=raw", "--set", "train.height=64",
            "--set", "train.width=32")
    return data / "manifest.csv", store


def run(work: Path, arch: str, amp: str, device: str, manifest: Path, store: Path) -> dict:
    out = work / arch / amp
    runtime = ["--set", f"device={device}", "--set", f"amp={amp}", "--store", store]
    seconds = cli("train", "--manifest", manifest, "--arch", arch, "--out-dir", out, "--params", PARAMS,
                  "--setting", "scratch", *runtime)
    cli("extract", "--manifest", manifest, "--checkpoint", out / "model.pt", "--out",
        out / "features.h5", "--params", PARAMS, *runtime)
    cli("evaluate", "--features", out / "features.h5", "--out", out / "metrics.json",
        "--params", PARAMS)
    return {**json.loads((out / "metrics.json").read_text()), "seconds": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--arch", nargs="+", default=["DARTS_V2", "BASELINE_REID_SEARCH_SPACE"])
    ap.add_argument("--amp", default="bf16", choices=["bf16", "fp16"])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--work", help="folder for the data and runs (default: a temporary one)")
    a = ap.parse_args()
    work = Path(a.work or tempfile.mkdtemp(prefix="autoreid-amp-"))
    manifest, store = prepare(work)
    print(f"tiny profile (params/default.yaml, setting scratch), {a.device}\n")
    print("| network | precision | mAP | R1 | training s |\n|---|---|---:|---:|---:|")
    for arch in a.arch:
        for amp in ("off", a.amp):
            m = run(work, arch, amp, a.device, manifest, store)
            name = "fp32" if amp == "off" else amp
            print(f"| {arch} | {name} | {100 * m['mAP']:.1f} | {100 * m['rank1']:.1f} | "
                  f"{m['seconds']:.0f} |", flush=True)


if __name__ == "__main__":
    main()
