"""The one config seam: (stage, params file, named variant or setting, overrides) -> one frozen
dataclass per stage.

Config flows one way: a params file (`params/*.yaml`, validated against `params.schema.yaml`, every
key required) -> its overrides (`--set key=value`, and `--threads`) written into the section, named
entry or top-level key they override -> the whole file validated again, so an override meets the
same types and ranges -> the section with its variant or setting over it -> the stage's dataclass.
Defaults live in the params files only: no dataclass field and no CLI option has one.
"""
from __future__ import annotations

import copy
import dataclasses
import functools
import importlib
import os
import typing
from pathlib import Path
from typing import Any, Mapping

import jsonschema
import yaml

from autoreid.errors import UserError
from autoreid.io import read_yaml

SCHEMA_PATH = Path(__file__).with_name("params.schema.yaml")
DEFAULT_PARAMS = Path(__file__).resolve().parents[1] / "params" / "default.yaml"
NAMED = {"search": "search_variants", "train": "train_settings"}  # a section's named overrides
STAGES = {  # stage -> (its params section, None: top-level keys; its dataclass)
    "runtime": (None, "autoreid.runtime:RuntimeConfig"),
    "prepare": ("prepare", "autoreid.data.prepare:PrepareConfig"),
    "split": ("split", "autoreid.data.split:SplitConfig"),
    "search": ("search", "autoreid.search.search:SearchConfig"),
    "pretrain": ("pretrain", "autoreid.pretrain:PretrainConfig"),
    "train": ("train", "autoreid.train.train:TrainConfig"),
    "evaluate": ("evaluate", "autoreid.evaluate.metrics:EvaluateConfig"),
    "rerank": ("rerank", "autoreid.evaluate.rerank:RerankConfig"),
    "bootstrap": ("bootstrap", "autoreid.evaluate.bootstrap:BootstrapConfig"),
    "seeds": ("seeds", "autoreid.compare:SeedsConfig"),
    "complexity": ("complexity", "autoreid.complexity:ComplexityConfig"),
    "figures": ("figures", "autoreid.figures:FiguresConfig"),
    **{f"synth.{name}": (f"synth.{name}", f"autoreid.data.synth.{module}:{cls}") for name, module, cls
       in (("market1501", "market", "SynthMarketConfig"), ("cuhk03", "cuhk03", "SynthCUHK03Config"),
           ("msmt17", "msmt17", "SynthMSMT17Config"), ("imagenet", "imagenet", "SynthImageNetConfig"))},
}


@functools.lru_cache(maxsize=1)
def schema() -> dict:
    return yaml.safe_load(SCHEMA_PATH.read_text())


def validate(params: Any, source: str = "params") -> dict:
    """Raise a one-line UserError naming the first offending key."""
    validator = jsonschema.Draft202012Validator(schema())
    # a failing key inside `allOf` also makes its siblings "unevaluated": report the key itself
    errors = sorted(validator.iter_errors(params),
                    key=lambda e: (e.validator == "unevaluatedProperties", -len(e.absolute_path),
                                   [str(p) for p in e.absolute_path]))
    if errors:
        e = errors[0]
        where = ".".join(str(p) for p in e.absolute_path) or "(top level)"
        raise UserError(f"{source}: {where}: {e.message}")
    if params["amp"] is False:  # `amp: off` unquoted (as `dvc exp run -S` rewrites it) is YAML's false
        params["amp"] = "off"
    params["compile"] = params["compile"] in (True, "on")  # on/off: YAML 1.1's booleans, 1.2's strings
    from autoreid.config_checks import check

    check(params, source)
    return params


def params_path(path: str | Path | None) -> str:
    """The params file a command reads: the one given, else the embedded default profile."""
    if path:
        return str(path)
    if not DEFAULT_PARAMS.exists():
        raise UserError(f"give --params FILE (no default profile at {DEFAULT_PARAMS})")
    try:
        return str(DEFAULT_PARAMS.relative_to(Path.cwd()))
    except ValueError:
        return str(DEFAULT_PARAMS)


def load_params(path: str | Path | None = None) -> dict:
    """A params file, validated (a fresh copy on each call: callers may change it)."""
    path = params_path(path)
    return copy.deepcopy(_validated(path, os.stat(path).st_mtime_ns if os.path.exists(path) else 0))


@functools.lru_cache(maxsize=8)
def _validated(path: str, mtime: int) -> dict:
    return validate(read_yaml(path), path)


def parse_overrides(pairs: list[str] | None) -> dict:
    """`key=value` strings -> dict; values parsed as YAML (numbers, lists, booleans)."""
    out = {}
    for pair in pairs or []:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UserError(f"--set {pair!r}: expected key=value")
        try:
            out[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise UserError(f"--set {pair!r}: value is not valid YAML") from None
    return out


def _node(params: dict, dotted: str | None, source: str) -> dict:
    node = params
    for part in dotted.split(".") if dotted else []:
        if not isinstance(node, dict) or not isinstance(node.get(part), dict):
            raise UserError(f"{source}: {dotted}: missing section")
        node = node[part]
    return node


def merged(params: dict, section: str | None, name: str | None = None,
           source: str = "params") -> dict:
    """params[section] (dotted; None: the top-level keys), with its named entry (a search variant,
    a train setting) over it: the one place where a section and a variant or setting merge."""
    values = dict(_node(params, section, source))
    if name is not None:
        group = NAMED.get(section or "")
        if group is None:
            raise UserError(f"{source}: {section} has no named entries (asked for {name!r})")
        if name not in params[group]:
            raise UserError(f"{source}: {group}: no entry {name!r} (have: {', '.join(params[group])})")
        values.update(params[group][name])
    return values


def overridden(params: str | Path | None = None, overrides: list[str] | Mapping[str, Any] | None = None,
               section: str | None = None, name: str | None = None) -> dict:
    """A params file (None: the default profile) with overrides (`key=value` strings or a mapping)
    written in, then checked as the file is. A dotted key (`rerank.k1`, `device`) is a path from
    the file's top; a plain key is one of `section` (written into its named entry `name` where
    one is given), or else a top-level key (`device`, `amp`, `compile`, `threads`, `workers`)."""
    path = params_path(params)
    params_ = load_params(path)  # the file on its own first: its errors name it alone
    values = parse_overrides(overrides) if isinstance(overrides, list) else dict(overrides or {})
    if not values:
        return params_
    source = f"{path} with " + ", ".join(f"{k}={v}" for k, v in values.items())
    for key, value in values.items():
        node, leaf = _target(params_, key, section, name, source)
        node[leaf] = list(value) if isinstance(value, tuple) else value  # YAML's lists
    return validate(params_, source)


def _target(params: dict, key: str, section: str | None, name: str | None,
            source: str) -> tuple[dict, str]:
    """The mapping an override of `key` is written into, and its key there."""
    if "." in key:
        where, _, leaf = key.rpartition(".")
        return _node(params, where, source), leaf
    if section is None or (key not in _node(params, section, source)
                           and not isinstance(params.get(key, {}), dict)):
        return params, key
    if name is not None and section in NAMED:
        merged(params, section, name, source)  # an unknown variant or setting is refused here
        return params[NAMED[section]][name], key
    return _node(params, section, source), key


def stage_config(params: dict, stage: str, name: str | None = None, source: str = "params"):
    """The stage's frozen dataclass from checked params, with a named variant or setting."""
    section, target = STAGES[stage]
    module, cls = target.split(":")
    config_class = getattr(importlib.import_module(module), cls)
    chosen = merged(params, section, name, source)
    if section is None:
        chosen = {f.name: chosen[f.name] for f in dataclasses.fields(config_class)}
    where = f"{source}: " + (f"{NAMED[section]}.{name}" if name is not None and section in NAMED
                             else section or "(top level)")
    return build(config_class, chosen, where)


def resolve(stage: str, params: str | Path | None = None, name: str | None = None,
            overrides: list[str] | Mapping[str, Any] | None = None):
    """The stage's frozen dataclass from a params file (None: the default profile), a named
    variant or setting, and overrides of that stage's keys (see `overridden`)."""
    section = STAGES[stage][0]
    return stage_config(overridden(params, overrides, section, name), stage, name,
                        params_path(params))


def build(cls: type, values: dict, where: str):
    """Instantiate a config dataclass: every field given, no unknown key, each of its type."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(f"{where}: unknown parameter(s) {', '.join(unknown)} "
                        f"(known: {', '.join(fields)})")
    missing = [name for name in fields if name not in values]
    if missing:
        raise UserError(f"{where}: missing parameter(s) {', '.join(missing)}")
    hints = typing.get_type_hints(cls)
    return cls(**{name: _typed(value, hints[name], f"{where}: {name}") for name, value in values.items()})


def _typed(value: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise UserError(f"{where} must be a list, got {value!r}")
        args = typing.get_args(hint)
        item = args[0] if len(args) == 2 and args[1] is Ellipsis else None
        if item is None and len(args) != len(value):
            raise UserError(f"{where} must have {len(args)} items, got {value!r}")
        return tuple(_typed(v, item or a, where) for v, a in zip(value, args if item is None
                                                                 else [item] * len(value)))
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in (int, float, str, bool) and (not isinstance(value, hint)
                                            or (hint is int and isinstance(value, bool))):
        raise UserError(f"{where} must be of type {hint.__name__}, got {value!r}")
    return value


def as_dict(cfg: Any) -> dict:
    d = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
