"""What every command shares: the params file and its overrides, the runtime, the config a command
resolves, and the record of how a file was made.

A value reaches a command by one route: the params file (`--params`, the embedded tiny profile
when not given), with `--set key=value` over it. Only paths, the names a rule takes from its
wildcards (a variant, a setting, a run, a seed) and `--threads` (which Snakemake decides) are
options of their own.
"""
from __future__ import annotations

import argparse
from pathlib import Path


def add_params(p: argparse.ArgumentParser, section: str | None, what: str,
               named: str | None = None) -> None:
    """--params and --set; `section`: where a plain `--set key=value` goes (None: the top level;
    `{option}` in it is that option's value, as in `synth.{dataset}`)."""
    p.add_argument("--params", help=f"params file: its {what} (default: params/default.yaml, the "
                   "embedded tiny profile)")
    if named:
        group = {"variant": "search_variants", "setting": "train_settings"}[named]
        p.add_argument(f"--{named}", help=f"named entry of the params file's `{group}` to apply "
                       f"over the section (default: none, the section as it is)")
    where = f"of `{section}`".replace("{dataset}", "<dataset>") if section else "of the top level"
    p.add_argument("--set", action="append", metavar="KEY=VALUE",
                   help=f"override one params key (repeatable): a key {where} (or of the "
                   "named entry given), a top-level key (device, amp, tf32, compile, workers), or a "
                   "dotted path from the top (rerank.k1); the value is parsed as YAML and checked as the "
                   "params file is (default: none)")
    p.set_defaults(section=section, named=named)


def add_runtime(p: argparse.ArgumentParser, store: bool = True) -> None:
    """--threads (Snakemake's choice for the job) and the image store, a path."""
    p.add_argument("--threads", type=int, help="CPU threads for torch, over the params' threads "
                   "(0: torch's default) (default: the params' threads)")
    if store:
        p.add_argument("--store", help="read images from this HDF5 store (`autoreid data pack`) "
                       "instead of decoding the files (default: decode the files)")


def params(a: argparse.Namespace) -> dict:
    """The command's params: its file with `--set` (and `--threads`) written in, checked."""
    if getattr(a, "_params", None) is None:
        from autoreid.config import overridden

        pairs = list(getattr(a, "set", None) or [])
        if getattr(a, "threads", None) is not None:
            pairs.append(f"threads={a.threads}")
        name = getattr(a, a.named) if getattr(a, "named", None) else None
        section = getattr(a, "section", None)
        section = section.format(**vars(a)) if section else None
        a._params = overridden(getattr(a, "params", None), pairs, section, name)
    return a._params


def config(a: argparse.Namespace, stage: str, name: str | None = None):
    """`stage`'s frozen config from the command's params (with a named variant or setting)."""
    from autoreid.config import params_path, stage_config

    return stage_config(params(a), stage, name, params_path(getattr(a, "params", None)))


def setup(a: argparse.Namespace, seed: int | None = None):
    """Where a command that runs a network runs (autoreid.runtime.Placement): its device set up
    (threads, seed), the params' workers and amp, and `--store` where the command has one."""
    from autoreid.runtime import Placement, setup as setup_device

    rt = config(a, "runtime")
    return Placement(setup_device(rt.device, rt.threads, seed, rt.tf32), rt.workers, rt.amp,
                     getattr(a, "store", None), rt.compile)


def record(a: argparse.Namespace, path: str | Path) -> None:
    """How a file was made, as `path`: the command's arguments and its params (after `--set`)."""
    from autoreid.config import params_path
    from autoreid.io import save_config

    path = Path(path)
    arguments = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(a).items()
                 if k not in ("func", "_params", "section", "named")}
    config_ = {"arguments": arguments}
    if hasattr(a, "params"):
        config_["params_file"] = params_path(a.params)
        config_["params"] = params(a)
    save_config(path.parent, config_, name=path.name)


def beside(out: str | Path) -> Path:
    """Where a command that writes one file records how it was made: `<stem>.config.yaml`."""
    out = Path(out)
    return out.with_name(f"{out.stem}.config.yaml")
