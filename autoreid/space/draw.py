"""Draw a genotype's normal and reduction cells (as in the paper's Fig. 3), left to right: with
graphviz's `dot` where it is installed (it routes the edges and places their labels without
overlaps), else with matplotlib."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from autoreid.io import atomic_path
from autoreid.space.genotypes import Genotype

COLOURS = {"sep_conv_3x3": "tab:blue", "sep_conv_5x5": "tab:cyan", "dil_conv_3x3": "tab:green",
           "dil_conv_5x5": "tab:olive", "max_pool_3x3": "tab:red", "avg_pool_3x3": "tab:orange",
           "skip_connect": "tab:gray", "part_aware": "tab:purple"}


def _draw_cell(ax, edges, concat, title: str) -> None:
    nodes = len(edges) // 2
    pos = {0: (0.0, 0.75), 1: (0.0, 0.25)}
    for i in range(nodes):
        pos[2 + i] = (1.0 + i, 0.9 if i % 2 == 0 else 0.1)
    out = (nodes + 1.2, 0.5)
    box = dict(boxstyle="round,pad=0.3", fc="white", ec="black")
    labels = {0: "c_{k-2}", 1: "c_{k-1}"}
    ax.set_xlim(-0.5, nodes + 1.7)
    ax.set_ylim(-0.05, 1.05)
    to_px, to_data = ax.transData.transform, ax.transData.inverted().transform
    for k, (op, src, w) in enumerate(edges):
        dst = 2 + k // 2
        bend = 0.3 if k % 2 else -0.3
        colour = COLOURS.get(op, "black")
        ax.annotate("", xy=pos[dst], xytext=pos[src], arrowprops=dict(
            arrowstyle="-|>", color=colour, lw=1.6, connectionstyle=f"arc3,rad={bend}",
            shrinkA=14, shrinkB=14))
        # label at the middle of the arc (arc3's Bezier midpoint, in display space)
        (x0, y0), (x1, y1) = to_px(pos[src]), to_px(pos[dst])
        mid = ((x0 + x1) / 2 + 0.5 * bend * (y1 - y0), (y0 + y1) / 2 - 0.5 * bend * (x1 - x0))
        label = op if w is None else f"{op} {w:.2f}"
        ax.text(*to_data(mid), label, fontsize=6.5, ha="center", va="center", color=colour,
                bbox=dict(fc="white", ec="none", alpha=0.85, pad=0.5))
    for i in concat:
        ax.annotate("", xy=out, xytext=pos[i], arrowprops=dict(arrowstyle="-|>", color="0.7",
                                                               shrinkA=14, shrinkB=14))
    for n, (x, y) in pos.items():
        ax.text(x, y, labels.get(n, str(n - 2)), ha="center", va="center", fontsize=9,
                bbox=dict(box, fc="#dde8f5" if n < 2 else "#fdf0c8"))
    ax.text(*out, "c_{k}", ha="center", va="center", bbox=dict(box, fc="#d9f2d9"), fontsize=9)
    ax.set_title(title)
    ax.axis("off")


HEX = {"tab:blue": "#1f77b4", "tab:cyan": "#17becf", "tab:green": "#2ca02c", "tab:olive": "#bcbd22",
       "tab:red": "#d62728", "tab:orange": "#ff7f0e", "tab:gray": "#7f7f7f", "tab:purple": "#9467bd"}


def _dot_cell(name: str, edges, concat, title: str) -> list[str]:
    nodes = len(edges) // 2
    lines = [f"  subgraph cluster_{name} {{", f'    label="{title}"; fontsize=14;',
             f'    {name}_in0 [label="c_{{k-2}}", fillcolor="#dde8f5"];',
             f'    {name}_in1 [label="c_{{k-1}}", fillcolor="#dde8f5"];',
             f'    {name}_out [label="c_{{k}}", fillcolor="#d9f2d9"];']
    lines += [f'    {name}_{i} [label="{i}", fillcolor="#fdf0c8"];' for i in range(nodes)]

    def node(n: int) -> str:
        return f"{name}_in{n}" if n < 2 else f"{name}_{n - 2}"

    for k, (op, src, w) in enumerate(edges):
        colour = HEX[COLOURS.get(op, "tab:gray")]
        label = op if w is None else f"{op} {w:.2f}"
        lines.append(f'    {node(src)} -> {node(2 + k // 2)} [label="{label}", color="{colour}", '
                     f'fontcolor="{colour}"];')
    lines += [f'    {node(i)} -> {name}_out [color="#b3b3b3"];' for i in concat]
    return lines + ["  }"]


def genotype_dot(genotype: Genotype, title: str = "") -> str:
    """The two cells as one graphviz graph, each left to right."""
    lines = ["digraph cells {", "  rankdir=LR; newrank=true; nodesep=0.4; ranksep=1.0;",
             '  node [shape=box, style="rounded,filled", fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10, penwidth=1.6];']
    if title:
        lines.append(f'  label="{title}"; labelloc=t; fontsize=16;')
    lines += _dot_cell("normal", genotype.normal, genotype.normal_concat, "normal cell")
    lines += _dot_cell("reduce", genotype.reduce, genotype.reduce_concat, "reduction cell")
    return "\n".join(lines + ["}"]) + "\n"


def draw_genotype(genotype: Genotype, path: str | Path, title: str = "",
                  engine: str | None = None) -> str:
    """Write the drawing to `path` (.png/.pdf/.svg); `engine`: dot or matplotlib (default: dot
    where it is installed). Returns the engine used."""
    path = Path(path)
    engine = engine or ("dot" if shutil.which("dot") else "matplotlib")
    if engine == "dot":
        fmt = path.suffix.lstrip(".") or "png"
        with atomic_path(path) as tmp:
            proc = subprocess.run(["dot", f"-T{fmt}", "-o", str(tmp)], capture_output=True,
                                  input=genotype_dot(genotype, title), text=True)
            if proc.returncode != 0:
                from autoreid.errors import UserError

                reason = (proc.stderr.strip().splitlines() or ["no message"])[0]
                raise UserError(f"{path}: graphviz could not draw it ({reason})")
        return engine
    _draw_matplotlib(genotype, path, title)
    return engine


def _draw_matplotlib(genotype: Genotype, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 4.6))
    _draw_cell(axes[0], genotype.normal, genotype.normal_concat, "normal cell")
    _draw_cell(axes[1], genotype.reduce, genotype.reduce_concat, "reduction cell")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
