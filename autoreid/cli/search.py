"""`autoreid search|derive|random|draw`: the architecture search (Alg. 1), the genotype it derives,
the random cells a search has to beat, and drawings of cells."""
from __future__ import annotations

import dataclasses
from pathlib import Path

from autoreid.cli.options import add_params, add_runtime, beside, config, record, setup
from autoreid.errors import UserError


def search(a) -> None:
    from autoreid.search.search import search as run

    cfg = config(a, "search", a.variant)
    if a.run is not None:
        cfg = dataclasses.replace(cfg, seed=cfg.seed + a.run)
    run(a.split, a.out_dir, cfg, setup(a, cfg.seed))
    print(f"search done: {Path(a.out_dir) / 'alphas.json'}")


def derive(a) -> None:
    from autoreid.io import read_json
    from autoreid.search.derive import derive as run
    from autoreid.space import genotypes

    alphas = read_json(a.alphas)
    for key in ("normal", "reduce", "ops", "nodes"):
        if key not in alphas:
            raise UserError(f"{a.alphas}: missing '{key}' (not written by `autoreid search`?)")
    meta = {k: alphas[k] for k in ("space", "loss", "epochs", "alpha_entropy",
                                   "genotype_stable_since") if k in alphas}
    meta["alphas"] = str(a.alphas)
    g = run(alphas["normal"], alphas["reduce"], alphas["ops"], alphas["nodes"], meta)
    genotypes.save(g, a.out)
    if a.figure:
        from autoreid.space.draw import draw_genotype

        draw_genotype(g, a.figure, title=a.title or Path(a.out).parent.name)
    print(f"genotype -> {a.out}")
    record(a, beside(a.out))


def random(a) -> None:
    from autoreid.search.random_cells import random_genotype
    from autoreid.space import genotypes

    cfg = config(a, "search")
    g = random_genotype(a.space, cfg.seed + a.run, cfg.nodes)
    genotypes.save(g, a.out)
    if a.figure:
        from autoreid.space.draw import draw_genotype

        draw_genotype(g, a.figure, title=a.title or f"random {a.space} cell {a.run}")
    print(f"random {a.space} genotype (seed {cfg.seed + a.run}) -> {a.out}")


def draw(a) -> None:
    from autoreid.space import genotypes
    from autoreid.space.draw import draw_genotype

    draw_genotype(genotypes.resolve(a.arch), a.out, title=a.arch)
    print(f"cells -> {a.out}")


def add_parser(sub) -> None:
    s = sub.add_parser("search", help="architecture search (Alg. 1): writes alphas.json")
    s.add_argument("--split", required=True, help="split.csv from `autoreid data split`")
    s.add_argument("--out-dir", required=True, help="run folder (checkpoint, log, alphas)")
    s.add_argument("--run", type=int, help="run number n: seed = search.seed + n (default: none, "
                   "the seed as it is)")
    add_params(s, "search", "`search` section", "variant")
    add_runtime(s)
    s.set_defaults(func=search)

    s = sub.add_parser("derive", help="alphas.json -> genotype file (DARTS rule) and a drawing")
    s.add_argument("--alphas", required=True, help="alphas.json from `autoreid search`")
    s.add_argument("--out", required=True, help="genotype .yaml to write")
    s.add_argument("--figure", help="also draw the cells to this image (.png/.pdf/.svg) "
                   "(default: no drawing)")
    s.add_argument("--title", help="figure title (default: the genotype's folder name)")
    s.set_defaults(func=derive)

    s = sub.add_parser("random", help="a cell pair drawn uniformly from a search space, as the "
                       "derivation rule could produce it: the baseline a search has to beat")
    s.add_argument("--space", required=True, choices=["standard", "reid"], help="search space")
    s.add_argument("--run", type=int, required=True, help="run number n: seed = search.seed + n")
    s.add_argument("--out", required=True, help="genotype .yaml to write")
    s.add_argument("--figure", help="also draw the cells to this image (default: no drawing)")
    s.add_argument("--title", help="figure title (default: random <space> cell <run>)")
    add_params(s, "search", "`search` section's seed and nodes")
    s.set_defaults(func=random)

    s = sub.add_parser("draw", help="draw a genotype's cells (published name or file)")
    s.add_argument("--arch", required=True,
                   help="a published genotype name (e.g. DARTS_V2) or a genotype file")
    s.add_argument("--out", required=True, help="image to write (.png/.pdf/.svg)")
    s.set_defaults(func=draw)
