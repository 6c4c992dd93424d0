"""`autoreid complexity`: parameters (M) and multiply-adds (G) of architectures, as the paper counts
them."""
from __future__ import annotations

from pathlib import Path

from autoreid.cli.options import add_params, beside, config, record
from autoreid.errors import UserError


def complexity(a) -> None:
    from autoreid.complexity import complexity as run

    names = a.name or [None] * len(a.arch)
    if len(names) != len(a.arch):
        raise UserError(f"complexity: {len(a.arch)} --arch but {len(names)} --name; give one name "
                        "per architecture, or none")
    heads = a.head or [config(a, "train").head]
    cfg = config(a, "complexity")
    for result, head in zip(run(a.arch, names, heads, cfg, a.out_dir),
                            [h for _ in a.arch for h in heads]):
        if a.out_dir:  # how each file was made, beside it
            record(a, beside(Path(a.out_dir) / f"{result['name']}-{head}.json"))
        print(f"{result['name']} ({head}): {result['params_M']:.2f} M params, "
              f"{result['flops_G']:.2f} G multiply-adds at {cfg.height}x{cfg.width}, C={cfg.C}, "
              f"l={list(cfg.layers)}, {cfg.num_classes} classes")


def add_parser(sub) -> None:
    s = sub.add_parser("complexity", help="parameters (M) and multiply-adds (G) as the paper counts them")
    s.add_argument("--arch", required=True, nargs="+",
                   help="resnet18|resnet34|resnet50, a published genotype name, or a genotype file "
                        "(one or more)")
    s.add_argument("--name", nargs="+",
                   help="name to record, one per --arch (default: from --arch)")
    s.add_argument("--head", nargs="+", choices=["reid", "pcb"],
                   help="reid (§3.2) and/or pcb (6 stripes, last stride 1): each --arch under each "
                        "(default: the params' train.head)")
    s.add_argument("--out-dir", help="folder to write <name>-<head>.json in, for each --arch and "
                   "--head (default: print only)")
    add_params(s, "complexity", "`complexity` section (and `train.head`)")
    s.set_defaults(func=complexity)
