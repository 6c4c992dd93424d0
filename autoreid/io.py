"""Atomic file output and small readers/writers shared by every stage.

Every file a command writes appears complete or not at all: it is written to a temporary
file in the same folder and renamed over the destination.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import platform
import sys
import tempfile
from pathlib import Path
from typing import Any, Iterator

import yaml

from autoreid.errors import UserError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside `path`; rename it over `path` only if the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        with open(tmp, "rb") as f:  # on disk before it has the final name (a crash of the
            os.fsync(f.fileno())    # machine must not leave a complete name over empty blocks)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def publish_dir(tmp: Path, dest: Path) -> None:
    """Move a fully written temporary folder (from tempfile.mkdtemp) to `dest`, replacing it."""
    import shutil

    os.chmod(tmp, 0o777 & ~_umask())
    if dest.exists():
        shutil.rmtree(dest)
    tmp.rename(dest)


def write_text(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, json.dumps(obj, indent=2, sort_keys=False) + "\n")


def write_csv(path: str | os.PathLike, rows: list[dict]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else [])
    writer.writeheader()
    writer.writerows(rows)
    write_text(path, buf.getvalue())


def write_yaml(path: str | os.PathLike, obj: Any) -> None:
    write_text(path, yaml.safe_dump(obj, sort_keys=False, default_flow_style=None))


def read_yaml(path: str | os.PathLike) -> Any:
    """Read YAML (or JSON, a subset) with the safe loader; a missing or broken file is a UserError."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    try:
        return yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise UserError(f"{path}: not valid YAML{where}") from None


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: file not found")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UserError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None


def run_info(seed: int | None = None) -> dict:
    """Seed, library versions and the command line: saved beside every output."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {"python": platform.python_version()}
    for pkg in ("autoreid", "torch", "numpy"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    return {"seed": seed, "command": " ".join([Path(sys.argv[0]).name] + sys.argv[1:]),
            "versions": versions}


def save_config(out_dir: str | os.PathLike, config: dict, seed: int | None = None,
                name: str = "config.yaml") -> None:
    """Write the resolved config of a stage, with seed and versions, into its output folder."""
    write_yaml(Path(out_dir) / name, {"config": config, "run": run_info(seed)})
