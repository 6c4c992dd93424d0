"""Figures users expect beside the tables: training curves from per-epoch logs, and a ranked list
(a query and its top-k gallery images, true matches framed green, others red)."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from autoreid.errors import UserError
from autoreid.io import atomic_path


@dataclass(frozen=True)
class FiguresConfig:
    queries: int  # ranked lists: queries shown
    top: int  # matches shown per query


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str | Path) -> None:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format=path.suffix.lstrip(".") or "png")


def curves(logs: list[str], labels: list[str], out: str) -> None:
    """Loss (and mAP / rank-1 where the log has them) per epoch, one line per run."""
    plt = _pyplot()
    fig, (ax_loss, ax_map) = plt.subplots(1, 2, figsize=(11, 4))
    for path, label in zip(logs, labels):
        if not Path(path).is_file():
            raise UserError(f"{path}: training log not found")
        rows = list(csv.DictReader(open(path)))
        if not rows or "loss" not in rows[0]:
            raise UserError(f"{path}: not a training log (no 'loss' column)")
        ax_loss.plot([int(r["epoch"]) for r in rows], [float(r["loss"]) for r in rows], label=label)
        scored = [r for r in rows if r.get("mAP")]
        if scored:
            ax_map.plot([int(r["epoch"]) for r in scored], [100 * float(r["mAP"]) for r in scored],
                        marker="o", label=f"{label} mAP")
            ax_map.plot([int(r["epoch"]) for r in scored], [100 * float(r["rank1"]) for r in scored],
                        marker="x", linestyle="--", label=f"{label} R1")
    ax_loss.set(xlabel="epoch", ylabel="training loss", title="loss")
    ax_map.set(xlabel="epoch", ylabel="%", title="mAP and rank-1 (query/gallery)")
    for ax in (ax_loss, ax_map):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)


def ranked(features: str, out: str, queries: int = 4, top: int = 10) -> None:
    from autoreid.extract import read_features

    sets = read_features(features)
    q, g = sets["query"], sets["gallery"]
    chosen = np.linspace(0, len(q.pids) - 1, min(queries, len(q.pids))).round().astype(int)
    rows = []
    for qi in chosen:
        d = ((g.features - q.features[qi]) ** 2).sum(1)
        valid = ~((g.pids == q.pids[qi]) & (g.camids == q.camids[qi]))  # the protocol's filter
        order = [i for i in np.argsort(d, kind="stable") if valid[i]][:top]
        rows.append([(q.paths[qi], "blue", "query")] + [
            (g.paths[i], "green" if g.pids[i] == q.pids[qi] else "red", f"{k + 1}")
            for k, i in enumerate(order)])
    draw_ranked(rows, out, top, "ranked lists: query (blue), true matches (green), others (red)")


def draw_ranked(rows: list[list[tuple[str, str, str]]], out: str | Path, top: int, title: str) -> None:
    """One row a query: (image path, frame colour, caption) for the query, then its ranked matches."""
    from PIL import Image

    plt = _pyplot()
    fig, axes = plt.subplots(len(rows), top + 1, figsize=(1.2 * (top + 1), 2.6 * len(rows)),
                             squeeze=False)
    for axs, row in zip(axes, rows):
        for ax, (path, colour, caption) in zip(axs, row):
            try:
                ax.imshow(Image.open(path).convert("RGB"))
            except OSError:
                ax.text(0.5, 0.5, "missing", ha="center")
            ax.set_title(caption, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set(color=colour, linewidth=3)
        for ax in axs[len(row):]:
            ax.axis("off")
    fig.suptitle(title)
    fig.tight_layout()
    _save(fig, out)
    plt.close(fig)
