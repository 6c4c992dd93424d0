"""An ablation sweep run as DVC experiments (`dvc exp run --queue -S KEY=v ...`, `dvc queue start`),
compared in one table and one figure: a metric against the swept params key, one point per
experiment (the workspace and the baseline commit included). The experiments are read from
`dvc exp show --json`, so any sweep DVC ran can be drawn."""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from autoreid.errors import UserError
from autoreid.io import atomic_path, write_text


def experiments(cwd: str | Path = ".") -> list[dict]:
    """Each experiment DVC knows here: {"name", "params": {file: {...}}, "metrics": {file: {...}}}."""
    proc = subprocess.run(["dvc", "exp", "show", "--json", "--all-commits"], cwd=cwd,
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise UserError(f"dvc exp show: {(proc.stderr.strip().splitlines() or ['failed'])[-1]}")
    found: list[dict] = []
    _collect(json.loads(proc.stdout or "[]"), found)
    return found


def _collect(node, found: list[dict]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, found)
    elif isinstance(node, dict):
        data = node.get("data")
        if isinstance(data, dict) and "params" in data and data.get("status") != "Failed":
            found.append({"name": node.get("name") or data.get("name") or _short(node.get("rev")),
                          "params": _files(data.get("params")),
                          "metrics": _files(data.get("metrics"))})
        for key in ("experiments", "revs"):
            _collect(node.get(key), found)


def _short(rev) -> str:
    """A commit as git abbreviates it; `workspace` and branch names whole."""
    rev = str(rev)
    return rev[:7] if re.fullmatch(r"[0-9a-f]{40}", rev) else rev


def _files(section) -> dict:
    return {f: (v or {}).get("data", {}) for f, v in (section or {}).items()}


def _lookup(files: dict, key: str):
    """`file:dotted.key` (or `dotted.key` in any file) -> value, or None."""
    path, _, dotted = key.rpartition(":")
    for name, data in files.items():
        if path and name != path:
            continue
        value = data
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return value
    return None


def points(exps: list[dict], param: str, metric: str) -> list[tuple[float, float, str]]:
    """(param value, metric value, experiment) for every experiment that has both, by value."""
    out = {}
    for e in exps:
        x, y = _lookup(e["params"], param), _lookup(e["metrics"], metric)
        if isinstance(x, (int, float)) and isinstance(y, (int, float)):
            out.setdefault(float(x), (float(x), float(y), e["name"]))
    if not out:
        raise UserError(f"no experiment has both {param!r} and {metric!r} "
                        "(`dvc exp show` lists what there is)")
    return sorted(out.values())


def draw(pts: list[tuple[float, float, str]], param: str, metric: str, out: str) -> str:
    """The figure at `out` and the same points as a Markdown table beside it (`<stem>.md`)."""
    from autoreid.figures import _pyplot

    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o")
    ax.set(xlabel=param.rpartition(":")[2], ylabel=metric.rpartition(":")[2],
           title=f"{metric.rpartition(':')[2]} against {param.rpartition(':')[2]}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(out)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)
    name, value = param.rpartition(":")[2], metric.rpartition(":")[2]
    table = [f"| {name} | {value} | experiment |", "|---:|---:|---|"]
    table += [f"| {x:g} | {y:.4f} | {e} |" for x, y, e in pts]
    write_text(path.with_suffix(".md"), "\n".join(table) + "\n")
    return "\n".join(table)
