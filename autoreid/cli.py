"""`autoreid <command>`: the one entry point that Snakemake rules, DVC stages, CI and users call.

Each command is parse -> resolve -> call: argparse reads the options (none has a default of its
own), `autoreid.config.resolve` turns the params file, its variant or setting, `--set` and the
options that stand for a params key into the stage's frozen config, and the stage runs on it.
User mistakes (bad files, parameters, layouts) end with one line on stderr and exit status 1.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from autoreid.errors import UserError

BENCHMARKS = ("market1501", "cuhk03-labeled", "cuhk03-detected", "msmt17")
DATASETS = ("market1501", "cuhk03", "msmt17", "imagenet")


def _keyed(p: argparse.ArgumentParser, *flags: str, key: str, **kw) -> None:
    """An option that stands for a params key (`stage.key`): unset, the params file decides."""
    action = p.add_argument(*flags, **kw)
    action.key = key
    p.set_defaults(_keys={**(p.get_default("_keys") or {}), action.dest: key})


def given(a, stage: str) -> dict:
    """The options of `a` that stand for keys of `stage` and were given on the command line."""
    out = {}
    for dest, key in (getattr(a, "_keys", None) or {}).items():
        st, _, name = key.rpartition(".")
        if st == stage and getattr(a, dest) is not None:
            out[name] = getattr(a, dest)
    return out


def resolve(a, stage: str, name: str | None = None, with_set: bool = False):
    """`stage`'s config from `a`'s params file, a named variant/setting, the options given for
    its keys and (for the command's own stage) `--set`."""
    from autoreid.config import parse_overrides, resolve as resolve_config

    overrides = {**(parse_overrides(a.set) if with_set else {}), **given(a, stage)}
    return resolve_config(stage, getattr(a, "params", None), name, overrides)


def _runtime(p: argparse.ArgumentParser) -> None:
    _keyed(p, "--device", key="runtime.device", choices=["auto", "cpu", "cuda"],
           help="where to run (auto: cuda when available)")
    _keyed(p, "--threads", key="runtime.threads", type=int,
           help="CPU threads for torch (0: torch's default)")
    _keyed(p, "--workers", key="runtime.workers", type=int, help="DataLoader worker processes")
    _keyed(p, "--amp", key="runtime.amp", choices=["off", "bf16", "fp16"],
           help="mixed precision of the network's passes")
    p.add_argument("--store", help="read images from this HDF5 store (`autoreid data pack`) "
                   "instead of decoding the files (default: decode the files)")


def _params(p: argparse.ArgumentParser, what: str, named: str | None = None,
            overrides: bool = True) -> None:
    p.add_argument("--params", help=f"params file: its {what} (default: params/default.yaml, the "
                   "embedded tiny profile)")
    if named:
        group = {"variant": "search_variants", "setting": "train_settings"}[named]
        p.add_argument(f"--{named}", help=f"named entry of the params file's `{group}` to apply "
                       f"over the section (default: none, the section as it is)")
    if overrides:
        p.add_argument("--set", action="append", metavar="KEY=VALUE",
                       help="override one key of that section (repeatable); the value is parsed as "
                       "YAML and checked as the params file is (default: none)")


def _setup(a, seed: int | None = None):
    from autoreid.runtime import setup

    rt = resolve(a, "runtime")
    return rt, setup(rt.device, rt.threads, seed)


# ---------------------------------------------------------------- data
def cmd_synth(a) -> None:
    from autoreid.data.benchmarks import synth

    counts = synth(a.dataset, a.out_dir, resolve(a, f"synth.{a.dataset}", with_set=True))
    print(f"synthetic {a.dataset} in {a.out_dir}: {counts}")


def cmd_prepare(a) -> None:
    from autoreid.data.benchmarks import load
    from autoreid.data.images import verify
    from autoreid.data.manifest import write_manifest
    from autoreid.runtime import log

    cfg = resolve(a, "prepare")
    records = verify(load(a.benchmark, a.raw, a.out_dir, a.train_only), cfg.bad_images, log)
    write_manifest(records, Path(a.out_dir) / "manifest.csv")
    counts = {s: sum(r.split == s for r in records) for s in ("train", "query", "gallery")}
    ids = len({r.pid for r in records if r.split == "train"})
    print(f"{a.benchmark}: {counts['train']} train images of {ids} ids, {counts['query']} query, "
          f"{counts['gallery']} gallery -> {Path(a.out_dir) / 'manifest.csv'}")


def cmd_fetch(a) -> None:
    from autoreid.config import load_params
    from autoreid.data.fetch import fetch
    from autoreid.runtime import log

    entry = load_params(a.params)["datasets"][a.dataset] if a.params else {}
    out = a.out_dir or entry.get("raw")
    if not out:
        raise UserError("give --out-dir DIR (or --params FILE with datasets.<name>.raw)")
    path = fetch(a.dataset, out, a.url or entry.get("url"), a.sha256 or entry.get("sha256"),
                 getattr(a, "from"), log)
    print(f"{a.dataset} ready at {path}")


def cmd_pack(a) -> None:
    from autoreid.config import load_params
    from autoreid.data.manifest import read_manifest
    from autoreid.data.store import pack
    from autoreid.runtime import log

    fmt = a.format or load_params(a.params)["store"]["format"]
    if fmt not in ("raw", "encoded"):
        raise UserError(f"store.format is {fmt!r}: nothing to pack (give --format raw or encoded)")
    net = resolve(a, "train")
    records = read_manifest(a.manifest)

    def progress(i: int, n: int) -> None:
        if i % 5000 == 0 or i == n:
            log(f"[pack] {i}/{n} images")

    pack(records, a.out, fmt, net.height, net.width, progress)
    print(f"{len(records)} images ({fmt}, {net.height}x{net.width}) -> {a.out}")


def cmd_split(a) -> None:
    from autoreid.config import as_dict
    from autoreid.data.manifest import read_manifest, write_manifest
    from autoreid.data.split import search_split
    from autoreid.io import save_config

    cfg = resolve(a, "split", with_set=True)
    train = [r for r in read_manifest(a.manifest) if r.split == "train"]
    records = search_split(train, cfg.fraction, cfg.seed)
    write_manifest(records, a.out)
    save_config(Path(a.out).parent, {"manifest": a.manifest, **as_dict(cfg)}, cfg.seed)
    n = sum(r.split == "train" for r in records)
    print(f"search split: {n} D_train / {len(records) - n} D_val images -> {a.out}")


# ---------------------------------------------------------------- search
def cmd_search(a) -> None:
    from autoreid.search.search import search

    cfg = resolve(a, "search", a.variant, with_set=True)
    if a.run is not None:
        cfg = dataclasses.replace(cfg, seed=cfg.seed + a.run)
    rt, device = _setup(a, cfg.seed)
    search(a.split, a.out_dir, cfg, device, a.store, rt.workers, rt.amp)
    print(f"search done: {Path(a.out_dir) / 'alphas.json'}")


def cmd_derive(a) -> None:
    from autoreid.io import read_json
    from autoreid.search.derive import derive
    from autoreid.space import genotypes

    alphas = read_json(a.alphas)
    for key in ("normal", "reduce", "ops", "nodes"):
        if key not in alphas:
            raise UserError(f"{a.alphas}: missing '{key}' (not written by `autoreid search`?)")
    meta = {k: alphas[k] for k in ("space", "objective", "epochs", "alpha_entropy",
                                   "genotype_stable_since") if k in alphas}
    meta["alphas"] = str(a.alphas)
    g = derive(alphas["normal"], alphas["reduce"], alphas["ops"], alphas["nodes"], meta)
    genotypes.save(g, a.out)
    if a.figure:
        from autoreid.space.draw import draw_genotype

        draw_genotype(g, a.figure, title=Path(a.out).parent.name if not a.title else a.title)
    print(f"genotype -> {a.out}")


def cmd_random(a) -> None:
    from autoreid.search.random_cells import random_genotype
    from autoreid.space import genotypes

    cfg = resolve(a, "search")
    g = random_genotype(a.space, cfg.seed + a.run, cfg.nodes)
    genotypes.save(g, a.out)
    if a.figure:
        from autoreid.space.draw import draw_genotype

        draw_genotype(g, a.figure, title=a.title or f"random {a.space} cell {a.run}")
    print(f"random {a.space} genotype (seed {cfg.seed + a.run}) -> {a.out}")


def cmd_draw(a) -> None:
    from autoreid.space.draw import draw_genotype
    from autoreid.space import genotypes

    draw_genotype(genotypes.resolve(a.arch), a.out, title=a.arch)
    print(f"cells -> {a.out}")


def cmd_place(a) -> None:
    from autoreid.devices import place

    command = a.command_line[1:] if a.command_line[:1] == ["--"] else a.command_line
    place(a.gpus, command, lambda m: print(m, file=sys.stderr, flush=True))


# ---------------------------------------------------------------- train / evaluate
def cmd_train(a) -> None:
    from autoreid.train.train import train

    cfg = resolve(a, "train", a.setting, with_set=True)
    feature = resolve(a, "evaluate").feature
    rt, device = _setup(a, cfg.seed)
    path = train(a.manifest, a.arch, a.out_dir, cfg, device, a.name, a.store, rt.workers, a.init,
                 feature, rt.amp)
    print(f"model -> {path}")


def cmd_pretrain(a) -> None:
    from autoreid.pretrain import pretrain

    cfg = resolve(a, "pretrain", with_set=True)
    net = resolve(a, "train", a.setting)
    rt, device = _setup(a, cfg.seed)
    path = pretrain(a.data, a.arch, net.C, net.layers, a.out_dir, cfg, device, a.name, rt.workers,
                    rt.amp)
    if os.environ.get("RANK", "0") == "0":
        print(f"weights -> {path}")


def cmd_extract(a) -> None:
    n = _extract(a, a.out)
    print(f"features ({n['query']} query, {n['gallery']} gallery) -> {a.out}")


def _extract(a, out) -> dict:
    """The query and gallery features of --checkpoint (or of raw --pixels) on --manifest -> `out`."""
    from autoreid import extract as features

    if not a.manifest:
        raise UserError("--checkpoint and --pixels embed a manifest's query and gallery: give "
                        "--manifest")
    ev = resolve(a, "evaluate")
    rt, device = _setup(a)
    if a.pixels:
        if not (a.height and a.width):
            raise UserError("--pixels needs --height and --width")
        return features.extract(a.manifest, features.pixels, out,
                                {"model": "pixels", "input": [a.height, a.width]}, a.height,
                                a.width, a.store, rt.workers)
    if not a.checkpoint:
        raise UserError("give --checkpoint MODEL.pt (or --pixels)")
    import torch

    from autoreid.amp import Precision
    from autoreid.models.build import load_checkpoint, load_model

    model, spec = load_model(a.checkpoint)
    cfg = load_checkpoint(a.checkpoint).get("config", {})
    h, w = a.height or cfg.get("height"), a.width or cfg.get("width")
    if not (h and w):
        raise UserError(f"{a.checkpoint}: no input size stored; give --height and --width")
    model.to(device, memory_format=torch.channels_last)
    precision = Precision(rt.amp, device)
    return features.extract(
        a.manifest,
        lambda images: features.embed(model, images, ev.feature, device, ev.batch_size, precision),
        out, {"model": spec.name, "checkpoint": str(a.checkpoint), "feature": ev.feature,
              "amp": precision.mode}, h, w, a.store, rt.workers)


def cmd_evaluate(a) -> None:
    """Score given features (--features) or, in one process, a model's or raw pixels' own: their
    features are extracted into --out-dir first, then scored beside them (and re-ranked there too
    with --rerank: `metrics.json` and `metrics_rerank.json` from one job)."""
    if a.features:
        features = a.features
    elif not a.out_dir:
        raise UserError("--checkpoint and --pixels write features.h5 and the metrics into a "
                        "folder: give --out-dir")
    else:
        features = Path(a.out_dir) / "features.h5"
        _extract(a, features)
    if a.out:
        _score(a, features, a.out, a.rerank)
        return
    _score(a, features, Path(a.out_dir) / "metrics.json", rerank=False)
    if a.rerank:
        _score(a, features, Path(a.out_dir) / "metrics_rerank.json", rerank=True)


def _score(a, features_path, out, rerank: bool) -> None:
    from autoreid.evaluate.scores import score

    m = score(features_path, out, resolve(a, "evaluate").metric, resolve(a, "bootstrap"),
              resolve(a, "rerank") if rerank else None)
    lo, hi = m["mAP_ci95"]
    print(f"mAP {100 * m['mAP']:.1f} [{100 * lo:.1f}, {100 * hi:.1f}]  R1 {100 * m['rank1']:.1f}  "
          f"R5 {100 * m['rank5']:.1f}  R10 {100 * m['rank10']:.1f}  mINP {100 * m['mINP']:.1f}  "
          f"-> {out}")


def cmd_profile(a) -> None:
    """Every --arch under every --head in one process (one start-up for a table's networks)."""
    from autoreid.io import write_json
    from autoreid.models.build import arch_spec
    from autoreid.profile import profile

    names = a.name or [None] * len(a.arch)
    if len(names) != len(a.arch):
        raise UserError(f"profile: {len(a.arch)} --arch but {len(names)} --name; give one name "
                        "per architecture, or none")
    heads = a.head or [resolve(a, "train").head]
    if a.out and len(a.arch) * len(heads) > 1:
        raise UserError("profile: --out is one file, for one --arch and one --head; use --out-dir")
    cfg = resolve(a, "profile")
    for arch, name in zip(a.arch, names):
        for head in heads:
            spec = arch_spec(arch, cfg.num_classes, cfg.C, cfg.layers, name=name, head=head)
            result = profile(spec, cfg.height, cfg.width)
            out = a.out or (a.out_dir and Path(a.out_dir) / f"{result['name']}-{head}.json")
            if out:
                write_json(out, result)
            if a.out_dir:  # how each file was made, beside it (as --out gets from main)
                record(a, out.with_name(f"{out.stem}.config.yaml"))
            print(f"{result['name']} ({head}): {result['params_M']:.2f} M params, "
                  f"{result['flops_G']:.2f} G multiply-adds at {cfg.height}x{cfg.width}, C={cfg.C}, "
                  f"l={list(cfg.layers)}, {cfg.num_classes} classes")


def cmd_compare(a) -> None:
    from autoreid.compare import compare, expand, report
    from autoreid.io import write_json

    name = "metrics_rerank.json" if a.rerank else "metrics.json"
    result = compare(expand(a.A, name), expand(a.B, name), resolve(a, "bootstrap"),
                     resolve(a, "seeds"))
    if a.out:
        write_json(a.out, result)
    print(report(result))


def cmd_noise(a) -> None:
    from autoreid.io import write_json
    from autoreid.noise import report, study

    result = study(Path(a.folder), resolve(a, "bootstrap"), a.half / 100)
    if a.out:
        write_json(a.out, result)
    print(report(result))


def cmd_select(a) -> None:
    from autoreid.config import load_params
    from autoreid.select import select

    record = select(load_params(a.params), a.rule)
    print(f"Auto-ReID = {record['AutoReID']['arch']}, Baseline = {record['Baseline']['arch']} "
          f"(rule {record['rule']})")


def cmd_figures(a) -> None:
    from autoreid import figures

    if a.kind == "sweep":
        from autoreid import sweep

        pts = sweep.points(sweep.experiments(), a.param, a.metric)
        print(sweep.draw(pts, a.param, a.metric, a.out))
    elif a.kind == "curves":
        labels = a.labels or [Path(p).parent.name for p in a.logs]
        if len(labels) != len(a.logs):
            raise UserError("figures curves: --labels must name every --logs file")
        figures.curves(a.logs, labels, a.out)
    else:
        cfg = resolve(a, "figures")
        figures.ranked(a.features, a.out, cfg.queries, cfg.top)
    print(f"figure -> {a.out}")


def cmd_tables(a) -> None:
    from autoreid import tables
    from autoreid.config import load_params
    from autoreid.experiments import Paths

    params = load_params(a.params)
    paths = Paths(params["results"])
    for name in a.table or tables.NAMES:
        stem = paths.table(name, "x")[:-2]
        if a.out_dir:
            stem = str(Path(a.out_dir) / Path(stem).name)
        print("\n".join(tables.write(params, name, stem)))


# ---------------------------------------------------------------- parser
def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="autoreid", description="Auto-ReID: architecture search for person re-identification "
        "(search, derive, train, evaluate, profile, tables). Every Snakemake rule calls one of these. "
        "--out names the file a command writes, --out-dir the folder it writes into.")
    from autoreid import __version__

    p.add_argument("--version", action="version", version=f"autoreid {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="<command>")

    data = sub.add_parser("data", help="datasets: synth, fetch, prepare, pack, split")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="<data command>")
    s = dsub.add_parser("synth", help="generate an embedded synthetic dataset in its official layout")
    s.add_argument("--dataset", required=True, choices=DATASETS, help="which benchmark to imitate")
    s.add_argument("--out-dir", required=True, help="folder to create (replaced if it exists)")
    _params(s, "synth.<dataset> section")
    s.set_defaults(func=cmd_synth)
    s = dsub.add_parser("fetch", help="download (or take from --from) a raw dataset, verify, extract")
    s.add_argument("--dataset", required=True, choices=DATASETS, help="which dataset to fetch")
    s.add_argument("--out-dir", help="where the dataset goes (default: the params' "
                   "datasets.<name>.raw)")
    s.add_argument("--url", help="archive URL (default: the params' datasets.<name>.url)")
    s.add_argument("--sha256", help="expected checksum of the archive (default: the params' "
                   "datasets.<name>.sha256; none: not checked)")
    s.add_argument("--from", metavar="PATH", help="an archive or folder you already have "
                   "(default: download from --url)")
    s.add_argument("--params", help="params file: its `datasets` section (default: none; then "
                   "give --out-dir and --url)")
    s.set_defaults(func=cmd_fetch)
    s = dsub.add_parser("prepare", help="official layout -> manifest.csv (path,pid,camid,split)")
    s.add_argument("--benchmark", required=True, choices=BENCHMARKS,
                   help="the benchmark's official layout to read")
    s.add_argument("--raw", required=True, help="the dataset folder as distributed")
    s.add_argument("--out-dir", required=True,
                   help="folder for manifest.csv (and extracted CUHK03 images)")
    s.add_argument("--train-only", action="store_true",
                   help="MSMT17: train on list_train only (default: train + val, the paper's 32,621)")
    _keyed(s, "--bad-images", key="prepare.bad_images", choices=["fail", "skip"],
           help="a corrupt, truncated or missing image: fail, or leave it out with a warning and "
                "a count")
    _params(s, "`prepare` section", overrides=False)
    s.set_defaults(func=cmd_prepare)
    s = dsub.add_parser("pack", help="pack a prepared benchmark into one HDF5 image store")
    s.add_argument("--manifest", required=True, help="manifest.csv from `autoreid data prepare`")
    s.add_argument("--out", required=True, help="store .h5 to write")
    s.add_argument("--format", choices=["raw", "encoded"],
                   help="raw: resized uint8 arrays (no decoding); encoded: the files' bytes "
                        "(default: the params' store.format)")
    _keyed(s, "--height", key="train.height", type=int, help="raw format: image height stored")
    _keyed(s, "--width", key="train.width", type=int, help="raw format: image width stored")
    _params(s, "`store` and `train` sections", overrides=False)
    s.set_defaults(func=cmd_pack)
    s = dsub.add_parser("split", help="the search split: train images 50/50 by image into D_train/D_val")
    s.add_argument("--manifest", required=True, help="manifest.csv from `autoreid data prepare`")
    s.add_argument("--out", required=True, help="split.csv to write")
    _keyed(s, "--fraction", key="split.fraction", type=float, help="share of images in D_train")
    _keyed(s, "--seed", key="split.seed", type=int, help="seed of the split")
    _params(s, "`split` section")
    s.set_defaults(func=cmd_split)

    s = sub.add_parser("search", help="architecture search (Alg. 1): writes alphas.json")
    s.add_argument("--split", required=True, help="split.csv from `autoreid data split`")
    s.add_argument("--out-dir", required=True, help="run folder (checkpoint, log, alphas)")
    s.add_argument("--run", type=int, help="run number n: seed = search.seed + n (default: none, "
                   "the seed as it is)")
    _params(s, "`search` section", "variant")
    _runtime(s)
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("derive", help="alphas.json -> genotype file (DARTS rule) and a drawing")
    s.add_argument("--alphas", required=True, help="alphas.json from `autoreid search`")
    s.add_argument("--out", required=True, help="genotype .yaml to write")
    s.add_argument("--figure", help="also draw the cells to this image (.png/.pdf/.svg) "
                   "(default: no drawing)")
    s.add_argument("--title", help="figure title (default: the genotype's folder name)")
    s.set_defaults(func=cmd_derive)

    s = sub.add_parser("random", help="a cell pair drawn uniformly from a search space, as the "
                       "derivation rule could produce it: the baseline a search has to beat")
    s.add_argument("--space", required=True, choices=["standard", "reid"], help="search space")
    s.add_argument("--run", type=int, required=True, help="run number n: seed = search.seed + n")
    s.add_argument("--out", required=True, help="genotype .yaml to write")
    s.add_argument("--figure", help="also draw the cells to this image (default: no drawing)")
    s.add_argument("--title", help="figure title (default: random <space> cell <run>)")
    _keyed(s, "--nodes", key="search.nodes", type=int, help="intermediate nodes per cell")
    _params(s, "`search` section's seed and nodes", overrides=False)
    s.set_defaults(func=cmd_random)

    s = sub.add_parser("draw", help="draw a genotype's cells (published name or file)")
    s.add_argument("--arch", required=True,
                   help="a published genotype name (e.g. DARTS_V2) or a genotype file")
    s.add_argument("--out", required=True, help="image to write (.png/.pdf/.svg)")
    s.set_defaults(func=cmd_draw)

    s = sub.add_parser("place", help="run a command on GPUs of its own (file locks; a SLURM job's "
                       "allocation as it is): autoreid place --gpus N -- COMMAND ...")
    s.add_argument("--gpus", type=int, required=True, help="devices the command gets")
    s.add_argument("command_line", nargs=argparse.REMAINDER, metavar="-- COMMAND ...",
                   help="the command, after --; it sees only its devices in CUDA_VISIBLE_DEVICES")
    s.set_defaults(func=cmd_place)

    s = sub.add_parser("train", help="train a network from scratch with the retrieval loss")
    s.add_argument("--manifest", required=True, help="manifest.csv (its `train` split is used)")
    s.add_argument("--arch", required=True,
                   help="resnet18|resnet34|resnet50, a published genotype name, or a genotype file")
    s.add_argument("--out-dir", required=True, help="run folder (model.pt, log.csv, checkpoint)")
    s.add_argument("--name", help="name of the network in logs and tables (default: from --arch)")
    _keyed(s, "--seed", key="train.seed", type=int,
           help="training seed: initialisation, sampling and augmentation")
    s.add_argument("--init", help="start the backbone from these weights (`autoreid pretrain`'s "
                   "weights.pt, or `torchvision` for ResNet weights already in the torch cache) "
                   "(default: random initialisation)")
    _params(s, "`train` section (and `evaluate.feature`)", "setting")
    _runtime(s)
    s.set_defaults(func=cmd_train)

    s = sub.add_parser("pretrain", help="ImageNet pre-training (run it under torchrun for several "
                       "processes/GPUs/nodes)")
    s.add_argument("--data", required=True, help="ImageNet-layout folder (train/<class>/<image>)")
    s.add_argument("--arch", required=True,
                   help="resnet18|resnet34|resnet50, a published genotype name, or a genotype file")
    s.add_argument("--out-dir", required=True, help="run folder (weights.pt, log.csv, checkpoint)")
    s.add_argument("--name", help="name of the network in logs (default: from --arch)")
    _keyed(s, "--C", key="train.C", type=int, help="channels of the backbone")
    _keyed(s, "--layers", key="train.layers", type=int, nargs=4, help="stage depths of the backbone")
    s.add_argument("--setting", help="train setting whose C and layers the backbone takes "
                   "(default: none, the `train` section's)")
    _params(s, "`pretrain` section (--set), and the `train` section's C and layers")
    _runtime(s)
    s.set_defaults(func=cmd_pretrain)

    s = sub.add_parser("extract", help="features of the query and gallery -> features.h5")
    s.add_argument("--manifest", required=True, help="manifest.csv (its query and gallery)")
    s.add_argument("--out", required=True, help="features .h5 to write")
    s.add_argument("--checkpoint", help="model.pt from `autoreid train` (default: none; required "
                   "without --pixels)")
    s.add_argument("--pixels", action="store_true", help="raw pixels instead of a network")
    _keyed(s, "--feature", key="evaluate.feature", choices=["f", "g"],
           help="backbone feature f or embedding g")
    s.add_argument("--height", type=int, help="input height (default: the checkpoint's)")
    s.add_argument("--width", type=int, help="input width (default: the checkpoint's)")
    _params(s, "`evaluate` section", overrides=False)
    _runtime(s)
    s.set_defaults(func=cmd_extract)

    s = sub.add_parser("evaluate", help="query and gallery -> metrics.json (CMC, mAP, mINP): of "
                       "given features, or of a model (or raw pixels) in one process")
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--features", help="features .h5 to score (from `autoreid extract` or any "
                        "model) (default: none; one of --features, --checkpoint, --pixels)")
    source.add_argument("--checkpoint", help="model.pt from `autoreid train`: extract its features "
                        "into --out-dir, then score them (default: none)")
    source.add_argument("--pixels", action="store_true", help="raw pixels instead of a network")
    s.add_argument("--manifest", help="manifest.csv whose query and gallery --checkpoint or "
                   "--pixels embeds (default: none)")
    _keyed(s, "--feature", key="evaluate.feature", choices=["f", "g"],
           help="--checkpoint: backbone feature f or embedding g")
    s.add_argument("--height", type=int, help="input height (default: the checkpoint's)")
    s.add_argument("--width", type=int, help="input width (default: the checkpoint's)")
    out = s.add_mutually_exclusive_group(required=True)
    out.add_argument("--out", help="metrics .json to write (with --features; --rerank: the "
                     "re-ranked metrics) (default: none; one of --out, --out-dir)")
    out.add_argument("--out-dir", help="folder to write features.h5 (from --checkpoint or "
                     "--pixels), metrics.json and, with --rerank, metrics_rerank.json in "
                     "(default: none)")
    _keyed(s, "--metric", key="evaluate.metric", choices=["euclidean", "cosine"], help="distance")
    s.add_argument("--rerank", action="store_true", help="k-reciprocal re-ranking (Zhong et al. 2017)")
    _keyed(s, "--k1", key="rerank.k1", type=int, help="re-ranking: k-reciprocal neighbours")
    _keyed(s, "--k2", key="rerank.k2", type=int, help="re-ranking: neighbours of the query expansion")
    _keyed(s, "--lambda", dest="lam", key="rerank.lam", type=float,
           help="re-ranking: weight λ of the original distance")
    _params(s, "`evaluate` and `rerank` sections", overrides=False)
    _runtime(s)
    s.set_defaults(func=cmd_evaluate)

    s = sub.add_parser("compare", help="B - A in mAP, R1 and mINP with a 95%% interval and a "
                       "verdict: two evaluations, or two sets of them (seeds)")
    for side in ("A", "B"):
        s.add_argument(side, help="an evaluation folder (metrics.json and metrics.details.json), "
                       "several separated by commas, a quoted glob, or a folder of seed<k>/ "
                       "evaluations: the seeds of one configuration")
    s.add_argument("--rerank", action="store_true",
                   help="compare the re-ranked metrics (metrics_rerank.json) (default: plain)")
    s.add_argument("--out", help="JSON file to write the comparison to (default: print only)")
    _params(s, "`bootstrap` and `seeds` sections (seeds.sd: the seed noise assumed when each side "
            "has one training)", overrides=False)
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser("noise", help="where a study's noise comes from (seeds, queries) and how "
                       "many seeds a paired comparison needs for a given interval")
    s.add_argument("folder", help="configurations of one benchmark and setting, each a folder of "
                   "seed<k>/ evaluations (e.g. results/study/evaluate/market1501/scratch)")
    s.add_argument("--half", type=float, required=True,
                   help="the 95%% half-width to size for, in mAP points (1.5: a 3-point "
                   "difference resolved)")
    s.add_argument("--out", help="JSON file to write the study to (default: print only)")
    _params(s, "`bootstrap` section", overrides=False)
    s.set_defaults(func=cmd_noise)

    s = sub.add_parser("profile", help="parameters (M) and multiply-adds (G) as the paper counts them")
    s.add_argument("--arch", required=True, nargs="+",
                   help="resnet18|resnet34|resnet50, a published genotype name, or a genotype file "
                        "(one or more)")
    _keyed(s, "--C", key="profile.C", type=int, help="channels")
    _keyed(s, "--layers", key="profile.layers", type=int, nargs=4, help="stage depths")
    _keyed(s, "--height", key="profile.height", type=int, help="input height")
    _keyed(s, "--width", key="profile.width", type=int, help="input width")
    _keyed(s, "--num-classes", dest="num_classes", key="profile.num_classes", type=int,
           help="identities of the classifier")
    s.add_argument("--name", nargs="+",
                   help="name to record, one per --arch (default: from --arch)")
    s.add_argument("--head", nargs="+", choices=["reid", "pcb"],
                   help="reid (§3.2) and/or pcb (6 stripes, last stride 1): each --arch under each "
                        "(default: the params' train.head)")
    _params(s, "`profile` section (and `train.head`)", overrides=False)
    out = s.add_mutually_exclusive_group()
    out.add_argument("--out", help="JSON file to write, for one --arch and --head (default: print "
                                   "only)")
    out.add_argument("--out-dir", help="folder to write <name>-<head>.json in, for each --arch and "
                                       "--head (default: print only)")
    s.set_defaults(func=cmd_profile)

    figures = sub.add_parser("figures", help="training curves from logs, ranked lists from features, "
                             "a sweep from DVC experiments")
    fsub = figures.add_subparsers(dest="kind", required=True, metavar="<figure>")
    s = fsub.add_parser("curves", help="loss and mAP per epoch of some runs")
    s.add_argument("--logs", nargs="+", required=True, help="per-epoch log.csv files")
    s.add_argument("--labels", nargs="+", help="one label per log (default: each log's folder)")
    s.add_argument("--out", required=True, help="image to write (.png/.pdf/.svg)")
    s.set_defaults(func=cmd_figures)
    s = fsub.add_parser("ranked", help="the top matches of some queries")
    s.add_argument("--features", required=True, help="features.h5 (image paths are read from it)")
    _keyed(s, "--queries", key="figures.queries", type=int, help="queries shown")
    _keyed(s, "--top", key="figures.top", type=int, help="matches shown per query")
    s.add_argument("--out", required=True, help="image to write (.png/.pdf/.svg)")
    _params(s, "`figures` section", overrides=False)
    s.set_defaults(func=cmd_figures)
    s = fsub.add_parser("sweep", help="a metric against a swept params key, over the DVC "
                        "experiments here (a table beside the figure)")
    s.add_argument("--param", required=True, metavar="[FILE:]KEY",
                   help="the swept key, e.g. params/default.yaml:search_variants.retrieval_reid.lam")
    s.add_argument("--metric", required=True, metavar="[FILE:]KEY",
                   help="e.g. results/tiny/tables/table1.json:Retrieval + ReID Search Space.best mAP")
    s.add_argument("--out", required=True, help="image to write (.png/.pdf/.svg); the table goes "
                   "beside it as .md")
    s.set_defaults(func=cmd_figures)

    s = sub.add_parser("select", help='choose "Auto-ReID" and "Baseline" among the searched runs')
    s.add_argument("--params", required=True, help="params file (its `select` section and results)")
    _keyed(s, "--rule", key="select.rule",
           choices=["published", "best_map", "best_rank1", "best_map_reid", "paper"],
           help="selection rule")
    s.set_defaults(func=cmd_select)

    s = sub.add_parser("tables", help="build the paper's tables from the results of a profile")
    s.add_argument("--params", required=True, help="params file (its tables' sections and results)")
    s.add_argument("--table", nargs="+", help="tables: 1-6 (the paper's) and claims (default: all)")
    s.add_argument("--out-dir", help="folder (default: <results>/tables)")
    s.set_defaults(func=cmd_tables)
    _show_defaults(p)
    return p


class _Defaults(argparse.HelpFormatter):
    """Help that ends with the default of every option: its own, or for an option that stands for
    a params key, that key and its value in the default profile."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        key = getattr(action, "key", None)
        if key:
            shown = key.removeprefix("runtime.")  # the runtime's keys are the file's top level
            return f"{text} (default: the params' {shown}; {_default_value(key)} in params/default.yaml)"
        default = action.default
        if ("%(default)" in text or default in (None, False, [], argparse.SUPPRESS)
                or action.required or not action.option_strings):
            return text
        return f"{text} (default: %(default)s)"


def _default_value(key: str) -> str:
    from autoreid.config import load_params

    stage, _, name = key.rpartition(".")
    value = load_params()
    for part in ([] if stage == "runtime" else stage.split(".")) + [name]:
        value = value[part]
    return " ".join(map(str, value)) if isinstance(value, list) else str(value)


def _show_defaults(p: argparse.ArgumentParser) -> None:
    p.formatter_class = _Defaults
    p.allow_abbrev = False  # `--out` is never taken for `--out-dir`
    for action in p._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _show_defaults(sub)


def _name(args: argparse.Namespace) -> str:
    return " ".join(filter(None, [args.command, getattr(args, "data_command", None),
                                  getattr(args, "kind", None)]))


def provenance(a) -> Path | None:
    """Where a command that writes a single file (or a manifest) records how it was made: beside
    that file, as `<stem>.config.yaml`. Commands that write a folder keep a `config.yaml` in it."""
    command = a.data_command if a.command == "data" else a.command
    if command == "prepare":
        return Path(a.out_dir) / "manifest.config.yaml"
    if command == "evaluate" and getattr(a, "out_dir", None):
        return Path(a.out_dir) / "config.yaml"
    if command in ("pack", "derive", "extract", "evaluate", "profile") and getattr(a, "out", None):
        out = Path(a.out)
        return out.with_name(f"{out.stem}.config.yaml")
    return None


def record(a, path: Path) -> None:
    from autoreid.config import load_params, params_path
    from autoreid.io import save_config

    config = {"arguments": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()
                            if k not in ("func", "_keys")}}
    if hasattr(a, "params"):
        config["params_file"] = params_path(a.params)
        config["params"] = load_params(a.params)
    save_config(path.parent, config, name=path.name)


def _logging() -> None:
    """One timestamped line per event on stderr (the per-epoch lines of autoreid.live)."""
    import logging

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, datefmt="%Y-%m-%d %H:%M:%S",
                        format="%(asctime)s %(message)s")
    logging.getLogger("dvclive").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    _logging()
    try:
        args.func(args)
        path = provenance(args)
        if path is not None:
            record(args, path)
    except UserError as e:
        print(f"autoreid {_name(args)}: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"autoreid {_name(args)}: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
