"""What the params schema cannot say: names that refer to other entries (a table's search variants,
train settings and architectures) and ranges that relate two keys. `config.validate` runs these
after the schema, so a bad reference is refused at `snakemake -n` with one line naming the key."""
from __future__ import annotations

from autoreid.errors import UserError

SELECTED = ("AutoReID", "Baseline")  # chosen by `select` (autoreid.experiments.SELECTED)
RESNETS = ("resnet18", "resnet34", "resnet50")


def check(params: dict, source: str) -> None:
    _references(params, source)
    _ranges(params, source)
    if params["gpus_per_job"] > 1:
        raise UserError(f"{source}: gpus_per_job: {params['gpus_per_job']}: a job runs on one GPU "
                        "(search, train and evaluate on one device; pre-training on "
                        "pretrain_processes GPUs, one a process): set 0 or 1")
    processes, nodes = params["pretrain_processes"], params["pretrain_nodes"]
    if processes % nodes:
        raise UserError(f"{source}: pretrain_nodes: {nodes} does not divide pretrain_processes: "
                        f"{processes} (each node runs the same number of processes)")


def _entry(params: dict, source: str, key: str, value: str, group: str) -> None:
    if value not in params[group]:
        raise UserError(f"{source}: {key}: {value!r} is not an entry of {group} "
                        f"(have: {', '.join(params[group])})")


def _references(params: dict, source: str) -> None:
    from autoreid.space.genotypes import PUBLISHED

    t1, t2 = params["table1"], params["table2"]
    for i, variant in enumerate(t1["variants"]):
        _entry(params, source, f"table1.variants.{i}", variant, "search_variants")
        if variant.startswith("random_"):
            raise UserError(f"{source}: table1.variants.{i}: {variant!r}: names starting with "
                            "'random_' are the random cells' (table1.random_cells)")
    for i, variant in enumerate(t2["searches"]):
        _entry(params, source, f"table2.searches.{i}", variant, "search_variants")
    for i, setting in enumerate(t2["settings"]):
        _entry(params, source, f"table2.settings.{i}", setting, "train_settings")
    for table in ("table1", "table3", "table4", "table5", "table6"):
        _entry(params, source, f"{table}.setting", params[table]["setting"], "train_settings")
    for key, names, allowed in (("table1.published", t1["published"], tuple(PUBLISHED)),
                                ("table4.archs", params["table4"]["archs"],
                                 (*PUBLISHED, *SELECTED, *RESNETS))):
        for i, name in enumerate(names):
            if name not in allowed:
                raise UserError(f"{source}: {key}.{i}: {name!r} is not a known architecture "
                                f"(have: {', '.join(allowed)})")
    _beyond(params, source, (*PUBLISHED, *SELECTED, *RESNETS))


def _beyond(params: dict, source: str, archs: tuple) -> None:
    """The "beyond the paper" table's settings, variants and networks."""
    b = params["beyond"]
    for key in ("paper", "modern"):
        _entry(params, source, f"beyond.{key}", b[key], "train_settings")
    for i, setting in enumerate(b["ingredients"]):
        _entry(params, source, f"beyond.ingredients.{i}", setting, "train_settings")
    for key in ("networks", "ingredient_networks"):
        for i, name in enumerate(b[key]):
            if name not in archs:
                raise UserError(f"{source}: beyond.{key}.{i}: {name!r} is not a known architecture "
                                f"(have: {', '.join(archs)})")
    if b["plain"] not in params["table1"]["variants"]:
        raise UserError(f"{source}: beyond.plain: {b['plain']!r} is not one of table1.variants "
                        f"({', '.join(params['table1']['variants'])}): its runs are Table 1's")
    for i, variant in enumerate(b["regularized"]):
        _entry(params, source, f"beyond.regularized.{i}", variant, "search_variants")


def _ranges(params: dict, source: str) -> None:
    for name, synth in params["synth"].items():
        lo_hi = [("cameras_per_id", 2, synth.get("cameras")), ("images_per_camera", 2, None),
                 ("images_per_view", 2, 5)]
        for key, least, most in lo_hi:
            if key in synth:
                lo, hi = synth[key]
                if not (least <= lo <= hi and (most is None or hi <= most)):
                    bound = f" <= {most}" if most is not None else ""
                    raise UserError(f"{source}: synth.{name}.{key}: {synth[key]} must satisfy "
                                    f"{least} <= min <= max{bound}")
    market = params["synth"]["market1501"]
    if market["train_ids"] + market["test_ids"] > 1501:
        raise UserError(f"{source}: synth.market1501: train_ids + test_ids must be at most 1501 "
                        "(Market-1501's identity numbers)")
    _finite(params, source, "")
    for section, entries in (("search", "search_variants"), ("train", "train_settings")):
        for name, entry in (("", params[section]), *params[entries].items()):
            where = f"{entries}.{name}" if name else section
            for key in ("milestones", "alpha_milestones"):
                steps = entry.get(key)
                if steps and any(b <= a for a, b in zip(steps, steps[1:])):
                    raise UserError(f"{source}: {where}.{key}: {steps} must be increasing")


def _finite(value, source: str, where: str) -> None:
    """NaN and infinity pass every range of the schema (a comparison with NaN is false)."""
    import math

    if isinstance(value, dict):
        for key, v in value.items():
            _finite(v, source, f"{where}.{key}" if where else str(key))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _finite(v, source, f"{where}.{i}")
    elif isinstance(value, float) and not math.isfinite(value):
        raise UserError(f"{source}: {where}: {value} is not a finite number")

