"""`autoreid data synth|fetch|prepare|pack|split`: the datasets, from their official layouts (or
embedded synthetic stand-ins) to manifests, image stores and the search split."""
from __future__ import annotations

from pathlib import Path

from autoreid.cli.options import add_params, beside, config, params, record
from autoreid.data.benchmarks import BENCHMARKS, DATASETS
from autoreid.errors import UserError


def synth(a) -> None:
    from autoreid.data.benchmarks import synth as write

    counts = write(a.dataset, a.out_dir, config(a, f"synth.{a.dataset}"))
    print(f"synthetic {a.dataset} in {a.out_dir}: {counts}")


def fetch(a) -> None:
    from autoreid.data.fetch import fetch as get
    from autoreid.runtime import log

    entry = params(a)["datasets"][a.dataset] if a.params else {}
    path = get(a.dataset, a.out_dir, a.url or entry.get("url"), a.sha256 or entry.get("sha256"),
               getattr(a, "from"), log)
    print(f"{a.dataset} ready at {path}")


def prepare(a) -> None:
    from autoreid.data.prepare import prepare as run
    from autoreid.runtime import log

    train_only = params(a)["datasets"]["msmt17"]["train_only"] and a.benchmark == "msmt17"
    n = run(a.benchmark, a.raw, a.out_dir, config(a, "prepare"), train_only, log)
    manifest = Path(a.out_dir) / "manifest.csv"
    print(f"{a.benchmark}: {n['train']} train images of {n['ids']} ids, {n['query']} query, "
          f"{n['gallery']} gallery -> {manifest}")
    record(a, beside(manifest))


def pack(a) -> None:
    from autoreid.data.manifest import read_manifest
    from autoreid.data.store import pack as write
    from autoreid.runtime import log

    fmt = params(a)["store"]["format"]
    if fmt not in ("raw", "encoded"):
        raise UserError(f"store.format is {fmt!r}: nothing to pack (set store.format to raw or "
                        "encoded)")
    net = config(a, "train")
    records = read_manifest(a.manifest)

    def progress(i: int, n: int) -> None:
        if i % 5000 == 0 or i == n:
            log(f"[pack] {i}/{n} images")

    write(records, a.out, fmt, net.height, net.width, progress)
    print(f"{len(records)} images ({fmt}, {net.height}x{net.width}) -> {a.out}")
    record(a, beside(a.out))


def split(a) -> None:
    from autoreid.data.manifest import read_manifest, write_manifest
    from autoreid.data.split import search_split

    cfg = config(a, "split")
    train = [r for r in read_manifest(a.manifest) if r.split == "train"]
    records = search_split(train, cfg.fraction, cfg.seed)
    write_manifest(records, a.out)
    n = sum(r.split == "train" for r in records)
    print(f"search split: {n} D_train / {len(records) - n} D_val images -> {a.out}")
    record(a, beside(a.out))


def add_parser(sub) -> None:
    data = sub.add_parser("data", help="datasets: synth, fetch, prepare, pack, split")
    dsub = data.add_subparsers(dest="data_command", required=True, metavar="<data command>")
    s = dsub.add_parser("synth", help="generate an embedded synthetic dataset in its official layout")
    s.add_argument("--dataset", required=True, choices=DATASETS, help="which dataset to imitate")
    s.add_argument("--out-dir", required=True, help="folder to create (replaced if it exists)")
    add_params(s, "synth.{dataset}", "synth.<dataset> section")
    s.set_defaults(func=synth)

    s = dsub.add_parser("fetch", help="download (or take from --from) a raw dataset, verify, extract")
    s.add_argument("--dataset", required=True, choices=DATASETS, help="which dataset to fetch")
    s.add_argument("--out-dir", required=True, help="where the dataset goes (the pipeline reads "
                   "it at the params' datasets.<name>.raw)")
    s.add_argument("--url", help="archive URL (default: the params' datasets.<name>.url)")
    s.add_argument("--sha256", help="expected checksum of the archive (default: the params' "
                   "datasets.<name>.sha256; none: not checked)")
    s.add_argument("--from", metavar="PATH", help="an archive or folder you already have "
                   "(default: download from --url)")
    s.add_argument("--params", help="params file: its datasets.<name>.url and sha256 (default: "
                   "none; then give --url)")
    s.set_defaults(func=fetch)

    s = dsub.add_parser("prepare", help="official layout -> manifest.csv (path,pid,camid,split)")
    s.add_argument("--benchmark", required=True, choices=tuple(BENCHMARKS),
                   help="the benchmark's official layout to read")
    s.add_argument("--raw", required=True, help="the dataset folder as distributed")
    s.add_argument("--out-dir", required=True,
                   help="folder for manifest.csv (and extracted CUHK03 images)")
    add_params(s, "prepare", "`prepare` section (bad_images) and datasets.msmt17.train_only")
    s.set_defaults(func=prepare)

    s = dsub.add_parser("pack", help="pack a prepared benchmark into one HDF5 image store")
    s.add_argument("--manifest", required=True, help="manifest.csv from `autoreid data prepare`")
    s.add_argument("--out", required=True, help="store .h5 to write")
    add_params(s, "store", "`store.format` and the `train` section's height and width")
    s.set_defaults(func=pack)

    s = dsub.add_parser("split", help="the search split: train images 50/50 by image into D_train/D_val")
    s.add_argument("--manifest", required=True, help="manifest.csv from `autoreid data prepare`")
    s.add_argument("--out", required=True, help="split.csv to write")
    add_params(s, "split", "`split` section")
    s.set_defaults(func=split)
