"""`autoreid export|query`: a trained network outside the pipeline — an ONNX or TorchScript file
checked against PyTorch, and a folder of person crops ranked against query images."""
from __future__ import annotations

import sys
from pathlib import Path

from autoreid.errors import UserError


def _threads(a) -> None:
    if a.threads:
        import torch

        torch.set_num_threads(a.threads)


def export(a) -> None:
    from autoreid.use.export import export as run

    _threads(a)
    r = run(a.checkpoint, a.format, a.out, a.precision or "fp32", a.manifest,
            7 if a.check_batch is None else a.check_batch)
    worst = ", ".join(f"batch {n}: {d:.2g}" for n, d in r["max_abs_difference"].items())
    atol = f"{r['atol']:g}" + (" x max |feature|" if r["precision"] == "fp16" else "")
    print(f"{r['format']} ({r['precision']}) -> {r['out']}; agrees with PyTorch (max |difference| "
          f"{worst}; tolerance {atol} + {r['rtol']:g} x |value|)")


def query(a) -> None:
    from autoreid.figures import draw_ranked
    from autoreid.io import write_json
    from autoreid.use.model import load_model
    from autoreid.use.query import image_files, query as run

    _threads(a)
    if not (a.image or a.images):
        raise UserError("give the query: --image Q.jpg (repeatable) or --images FOLDER")
    queries = [q for p in [*(a.image or []), *([a.images] if a.images else [])]
               for q in (image_files(p, "query") if Path(p).is_dir() else [Path(p)])]
    model = load_model(a.model, a.device or "cpu")
    top = 10 if a.top is None else a.top
    r = run(model, a.model, a.gallery, queries, top, a.metric or "euclidean", a.cache)
    for q in r["queries"]:
        print(q["query"])
        for m in q["ranked"]:
            print(f"  {m['rank']:>3}  {m['distance']:.4f}  {m['path']}")
    out = Path(a.out or "query.json")
    write_json(out, r)
    figure = Path(a.figure) if a.figure else out.with_suffix(".png")
    rows = [[(q["query"], "blue", "query")] + [(m["path"], "grey", f"{m['rank']}: {m['distance']:.3g}")
                                               for m in q["ranked"]] for q in r["queries"]]
    draw_ranked(rows, figure, top, f"{Path(a.model).name}: ranked gallery ({r['metric']} distance)")
    print(f"gallery: {r['gallery_images']} images ({r['reused']} features from the cache, "
          f"{r['embedded']} embedded; {r['cache']})", file=sys.stderr)
    print(f"ranked lists -> {out}, {figure}")


def add_parser(sub) -> None:
    s = sub.add_parser("export", help="a trained network as ONNX or TorchScript (pixels in, the "
                       "evaluation's feature out), kept only if it agrees with PyTorch")
    s.add_argument("--checkpoint", required=True, help="model.pt from `autoreid train`")
    s.add_argument("--format", required=True, choices=("onnx", "torchscript"),
                   help="onnx (opset 18, run by onnxruntime for the check) or torchscript")
    s.add_argument("--out", required=True, help="file to write")
    s.add_argument("--precision", choices=("fp32", "fp16"), help="the network's arithmetic "
                   "inside the file (default: fp32; input and output stay float32)")
    s.add_argument("--manifest", help="check on this manifest's first images (default: seeded "
                   "synthetic images)")
    s.add_argument("--check-batch", type=int, help="images of the check, run at batch sizes 1 and "
                   "this (default: 7)")
    s.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's)")
    s.set_defaults(func=export)

    s = sub.add_parser("query", help="rank a folder of person crops against query images: paths "
                       "and distances, a JSON file and a figure; the gallery's features are cached")
    s.add_argument("--model", required=True, help="model.pt from `autoreid train`")
    s.add_argument("--gallery", required=True, help="folder of gallery images (searched "
                   "recursively: jpg, jpeg, png, bmp)")
    s.add_argument("--image", action="append", help="a query image, or a folder of them "
                   "(repeatable) (default: none; give --image or --images)")
    s.add_argument("--images", help="a folder of query images (default: none)")
    s.add_argument("--top", type=int, help="matches listed per query (default: 10)")
    s.add_argument("--metric", choices=("euclidean", "cosine"), help="distance (default: "
                   "euclidean, as `evaluate`)")
    s.add_argument("--out", help="JSON file of the ranked lists (default: query.json)")
    s.add_argument("--figure", help="image of the ranked lists (default: --out with .png)")
    s.add_argument("--cache", help="HDF5 file of the gallery's features (default: "
                   "~/.cache/autoreid/galleries/<gallery>-<model>.h5)")
    s.add_argument("--device", help="cpu or cuda (default: cpu)")
    s.add_argument("--threads", type=int, help="CPU threads for torch (default: torch's)")
    s.set_defaults(func=query)
