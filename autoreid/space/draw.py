"""Draw a genotype's normal and reduction cells (as in the paper's Fig. 3) with matplotlib."""
from __future__ import annotations

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


def draw_genotype(genotype: Genotype, path: str | Path, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 4.6))
    _draw_cell(axes[0], genotype.normal, genotype.normal_concat, "normal cell")
    _draw_cell(axes[1], genotype.reduce, genotype.reduce_concat, "reduction cell")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=130, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
