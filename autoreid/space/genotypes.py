"""Genotypes: a derived cell pair as plain data, the published cells, and their YAML files.

A cell is a list of (op, input[, weight]) pairs, two per intermediate node: node i (numbered from
2; 0 and 1 are the cell's two inputs) sums op(state[input]) over its two entries. The cell output
concatenates the states in `*_concat`. Genotype files are YAML, readable by a person, and
round-trip exactly (`load(save(g)) == g`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from autoreid.errors import UserError
from autoreid.io import read_yaml, write_yaml
from autoreid.space.names import OP_NAMES

Edge = tuple[str, int, float | None]


@dataclass(frozen=True)
class Genotype:
    normal: tuple[Edge, ...]
    reduce: tuple[Edge, ...]
    normal_concat: tuple[int, ...] = (2, 3, 4, 5)
    reduce_concat: tuple[int, ...] = (2, 3, 4, 5)
    meta: dict = field(default_factory=dict, compare=False, hash=False)

    @property
    def nodes(self) -> int:
        return len(self.normal) // 2

    def to_dict(self) -> dict:
        def cell(edges):
            return [[op, i] if w is None else [op, i, w] for op, i, w in edges]

        out = {"normal": cell(self.normal), "normal_concat": list(self.normal_concat),
               "reduce": cell(self.reduce), "reduce_concat": list(self.reduce_concat)}
        if self.meta:
            out["meta"] = dict(self.meta)
        return out

    @classmethod
    def from_dict(cls, d: object, source: str = "genotype") -> "Genotype":
        if not isinstance(d, dict):
            raise UserError(f"{source}: a genotype must be a mapping with normal/reduce cells")
        unknown = set(d) - {"normal", "reduce", "normal_concat", "reduce_concat", "meta"}
        if unknown:
            raise UserError(f"{source}: unknown genotype key(s) {sorted(unknown)}")
        cells = {}
        for kind in ("normal", "reduce"):
            if kind not in d:
                raise UserError(f"{source}: missing '{kind}' cell")
        for kind in ("normal", "reduce"):
            cells[kind] = _parse_cell(d[kind], f"{source}: {kind}")
            n_states = 2 + len(cells[kind]) // 2
            concat = d.get(f"{kind}_concat", list(range(2, n_states)))
            if (not isinstance(concat, list) or not concat
                    or not all(isinstance(c, int) and 0 <= c < n_states for c in concat)):
                raise UserError(f"{source}: {kind}_concat must list states 0..{n_states - 1}")
            cells[f"{kind}_concat"] = tuple(concat)
        if len(cells["normal"]) != len(cells["reduce"]):
            raise UserError(f"{source}: normal and reduce cells have different numbers of nodes")
        meta = d.get("meta", {}) or {}
        if not isinstance(meta, dict):
            raise UserError(f"{source}: 'meta' must be a mapping")
        return cls(meta=meta, **cells)


def _parse_cell(edges: object, where: str) -> tuple[Edge, ...]:
    if not isinstance(edges, list) or not edges or len(edges) % 2:
        raise UserError(f"{where} must be a non-empty list of [op, input] pairs, two per node")
    out = []
    for k, e in enumerate(edges):
        node = 2 + k // 2
        if not isinstance(e, (list, tuple)) or len(e) not in (2, 3):
            raise UserError(f"{where}: entry {k} must be [op, input] or [op, input, weight]")
        op, src = e[0], e[1]
        weight = e[2] if len(e) == 3 else None
        if not isinstance(op, str) or op not in OP_NAMES or op == "none":
            raise UserError(f"{where}: entry {k}: unknown op {op!r} "
                            f"(known: {', '.join(o for o in OP_NAMES if o != 'none')})")
        if isinstance(src, bool) or not isinstance(src, int) or not 0 <= src < node:
            raise UserError(f"{where}: entry {k}: input {src!r} must be a state 0..{node - 1}")
        if weight is not None and (isinstance(weight, bool) or not isinstance(weight, (int, float))
                                   or not math.isfinite(weight)):
            raise UserError(f"{where}: entry {k}: weight {weight!r} must be a finite number")
        out.append((op, src, None if weight is None else float(weight)))
    return tuple(out)


def _cell(*edges) -> tuple[Edge, ...]:
    return tuple((op, i, w[0] if w else None) for op, i, *w in edges)


# Published cells (facts from DARTS, GDAS and the Auto-ReID release; shared/SPEC.md §3).
PUBLISHED: dict[str, Genotype] = {
    "DARTS_V2": Genotype(
        normal=_cell(("sep_conv_3x3", 0), ("sep_conv_3x3", 1), ("sep_conv_3x3", 0),
                     ("sep_conv_3x3", 1), ("sep_conv_3x3", 1), ("skip_connect", 0),
                     ("skip_connect", 0), ("dil_conv_3x3", 2)),
        reduce=_cell(("max_pool_3x3", 0), ("max_pool_3x3", 1), ("skip_connect", 2),
                     ("max_pool_3x3", 1), ("max_pool_3x3", 0), ("skip_connect", 2),
                     ("skip_connect", 2), ("max_pool_3x3", 1)),
        meta={"source": "DARTS (Liu et al., 2019), searched on CIFAR-10"}),
    "GDAS_V1": Genotype(
        normal=_cell(("skip_connect", 0), ("skip_connect", 1), ("skip_connect", 0),
                     ("sep_conv_5x5", 2), ("sep_conv_3x3", 3), ("skip_connect", 0),
                     ("sep_conv_5x5", 4), ("sep_conv_3x3", 3)),
        reduce=_cell(("sep_conv_5x5", 0), ("sep_conv_3x3", 1), ("sep_conv_5x5", 2),
                     ("sep_conv_5x5", 1), ("dil_conv_5x5", 2), ("sep_conv_3x3", 1),
                     ("sep_conv_5x5", 0), ("sep_conv_5x5", 1)),
        meta={"source": "GDAS (Dong & Yang, 2019), searched on CIFAR-10"}),
    "BASELINE": Genotype(
        normal=_cell(("dil_conv_3x3", 1, .45), ("dil_conv_3x3", 0, .24), ("dil_conv_3x3", 1, .68),
                     ("sep_conv_3x3", 2, .66), ("dil_conv_3x3", 2, .93), ("sep_conv_3x3", 1, .66),
                     ("sep_conv_3x3", 2, .60), ("sep_conv_3x3", 3, .61)),
        reduce=_cell(("sep_conv_3x3", 1, .46), ("skip_connect", 0, .02), ("max_pool_3x3", 2, .54),
                     ("dil_conv_3x3", 1, .52), ("max_pool_3x3", 0, .40), ("dil_conv_3x3", 2, .40),
                     ("skip_connect", 0, .88), ("dil_conv_3x3", 4, .76)),
        meta={"source": "Auto-ReID release (Quan et al., 2019)"}),
    "BASELINE_REID_SEARCH_SPACE": Genotype(
        normal=_cell(("dil_conv_3x3", 0, .29), ("skip_connect", 1, .00), ("max_pool_3x3", 2, .30),
                     ("sep_conv_3x3", 0, .13), ("max_pool_3x3", 3, .22), ("sep_conv_3x3", 1, .01),
                     ("sep_conv_3x3", 2, .98), ("dil_conv_3x3", 3, .95)),
        reduce=_cell(("skip_connect", 1, .60), ("part_aware", 0, .43), ("avg_pool_3x3", 2, .44),
                     ("part_aware", 0, .43), ("sep_conv_3x3", 1, .72), ("avg_pool_3x3", 2, .47),
                     ("skip_connect", 4, .62), ("max_pool_3x3", 3, .43)),
        meta={"source": "Auto-ReID release (Quan et al., 2019)"}),
    "RETRIEVAL_REID_SEARCH_SPACE": Genotype(
        normal=_cell(("sep_conv_3x3", 0, .41), ("skip_connect", 1, .00), ("dil_conv_3x3", 2, .46),
                     ("dil_conv_3x3", 0, .03), ("dil_conv_3x3", 3, .41), ("sep_conv_3x3", 2, .21),
                     ("dil_conv_3x3", 4, .55), ("dil_conv_3x3", 3, .18)),
        reduce=_cell(("max_pool_3x3", 0, .43), ("part_aware", 1, .42), ("sep_conv_3x3", 0, .83),
                     ("dil_conv_3x3", 2, .60), ("dil_conv_3x3", 2, .46), ("max_pool_3x3", 0, .40),
                     ("dil_conv_3x3", 4, .76), ("dil_conv_3x3", 3, .63)),
        meta={"source": "Auto-ReID release (Quan et al., 2019)"}),
}


def save(genotype: Genotype, path: str | Path) -> None:
    write_yaml(path, genotype.to_dict())


def load(path: str | Path) -> Genotype:
    return Genotype.from_dict(read_yaml(path), source=str(path))


def resolve(name_or_path: str) -> Genotype:
    """A published genotype by name, or a genotype file by path."""
    if name_or_path in PUBLISHED:
        return PUBLISHED[name_or_path]
    if Path(name_or_path).suffix in (".yaml", ".yml", ".json"):
        return load(name_or_path)
    raise UserError(f"unknown genotype {name_or_path!r}: give a genotype file (.yaml/.json) or "
                    f"one of {', '.join(PUBLISHED)}")
