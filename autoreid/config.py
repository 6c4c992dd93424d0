"""Params files -> validated dicts -> frozen dataclasses for each stage.

Config flows one way: `params/*.yaml` (validated against `params.schema.yaml`) -> a stage's section
(plus a named variant/setting, plus `--set key=value` overrides) -> a frozen dataclass -> plain
function arguments. Unknown keys are errors, never silently ignored.
"""
from __future__ import annotations

import dataclasses
import functools
from pathlib import Path
from typing import Any, TypeVar

import jsonschema
import yaml

from autoreid.errors import UserError
from autoreid.io import read_yaml

SCHEMA_PATH = Path(__file__).with_name("params.schema.yaml")
T = TypeVar("T")


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
    return params


def load_params(path: str | Path) -> dict:
    params = validate(read_yaml(path), str(path))
    if params["amp"] is False:  # `amp: off` unquoted (as `dvc exp run -S` rewrites it) is YAML's false
        params["amp"] = "off"
    return params


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


def build(cls: type[T], values: dict, where: str) -> T:
    """Instantiate a config dataclass; unknown keys and wrong types are UserErrors."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise UserError(f"{where}: unknown parameter(s) {', '.join(unknown)} "
                        f"(known: {', '.join(fields)})")
    kwargs = {}
    for name, value in values.items():
        default = fields[name].default
        if isinstance(default, tuple) and isinstance(value, list):
            value = tuple(value)
        if default is not dataclasses.MISSING and default is not None and value is not None:
            ok = (isinstance(value, type(default))
                  or (isinstance(default, float) and isinstance(value, int)
                      and not isinstance(value, bool)))
            if not ok:
                raise UserError(f"{where}: {name} must be of type {type(default).__name__}, "
                                f"got {value!r}")
            if isinstance(default, float):
                value = float(value)
        kwargs[name] = value
    return cls(**kwargs)


NAMED = {"search": "search_variants", "train": "train_settings"}  # a section's named overrides


def merged(params: dict, section: str, name: str | None = None, source: str = "params") -> dict:
    """params[section], with its named entry (a search variant, a train setting) over it: the one
    place where a section and a variant or setting are merged."""
    values = dict(params[section])
    if name is not None:
        group = NAMED[section]
        if name not in params[group]:
            raise UserError(f"{source}: {group}: no entry {name!r} (have: {', '.join(params[group])})")
        values.update(params[group][name])
    return values


def stage_config(cls: type[T], params_file: str | None, section: str,
                 variant: tuple[str, str] | None = None, overrides: list[str] | None = None) -> T:
    """A stage's dataclass from defaults <- params[section] <- params[variants][name] <- --set."""
    values: dict = {}
    where = section
    if params_file:
        params = load_params(params_file)
        values.update(merged(params, section, variant and variant[1], params_file))
        where = f"{params_file}: " + (f"{variant[0]}.{variant[1]}" if variant else section)
    elif variant is not None:
        raise UserError(f"{variant[0]}.{variant[1]}: a named variant needs --params FILE")
    values.update(parse_overrides(overrides))
    return build(cls, values, where)


def as_dict(cfg: Any) -> dict:
    d = dataclasses.asdict(cfg)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in d.items()}
