"""No import cycle inside autoreid/: every import counts, at the top of a module or inside a
function (a lazy import only hides a cycle). `from a.b import c` is an edge to the module a.b.c
when there is one, else to a.b; a package's own __init__ being run first is not an edge."""
import ast
from pathlib import Path

from helpers import ROOT

PACKAGE = ROOT / "autoreid"


def _modules() -> dict[str, Path]:
    mods = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        mods[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return mods


def import_graph() -> dict[str, set[str]]:
    mods = _modules()
    graph = {m: set() for m in mods}
    for name, path in mods.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    up = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(up + ([base] if base else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in mods else base
                           for a in node.names]
            else:
                continue
            graph[name] |= {t for t in targets if t in mods and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        m = stack.pop()
                        on_stack.discard(m)
                        component.append(m)
                        if m == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def test_no_import_cycle_inside_autoreid():
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_lazy_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    graph = import_graph()
    graph["autoreid.space.layers"].add("autoreid.space.ops")  # as if layers imported ops
    assert ["autoreid.space.layers", "autoreid.space.ops"] in [
        [m for m in c if m in ("autoreid.space.layers", "autoreid.space.ops")] for c in cycles(graph)]


# The floors of docs/layout.md: a module imports from its own floor or below, never above.
FLOORS = {
    0: ("errors", "io", "storage", "version"),
    1: ("runtime", "amp", "devices", "optim", "losses", "compiled", "syncs",
        "spread"),
    2: ("config", "config_checks", "space", "models", "data"),
    3: ("loop", "live", "search", "train", "pretrain", "extract", "evaluate", "complexity",
        "figures", "use"),
    4: ("experiments", "keys", "select", "compare", "noise", "sweep", "tables"),
    5: ("cli",),
    6: ("",),  # the package itself: `autoreid.load_model`, the front door of autoreid.use
}


def floor(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    return next((n for n, names in FLOORS.items() if top in names), 0)


def test_every_module_is_on_a_floor():
    tops = {m.split(".")[1] for m in import_graph() if "." in m}
    assert tops <= {name for names in FLOORS.values() for name in names}, tops


def test_no_module_imports_from_a_floor_above_its_own():
    graph = import_graph()
    upward = sorted((a, b) for a, targets in graph.items() for b in targets if floor(b) > floor(a))
    assert upward == []
