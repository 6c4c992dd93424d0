"""The speed scripts in benchmarks/ still reach the package: every name they import from autoreid
(also inside functions, which a run only meets at that line) exists. Their runs are too long for
the tests; `.ci/run` runs `benchmarks/gpu.py --device cpu --size tiny`, every row of it."""
import ast
import importlib
from pathlib import Path

import pytest

from helpers import ROOT

SCRIPTS = sorted((ROOT / "benchmarks").glob("*.py"))


def _imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("autoreid"):
            for alias in node.names:
                yield node.module, alias.name, node.lineno
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("autoreid"):
                    yield alias.name, None, node.lineno


@pytest.mark.parametrize("script", SCRIPTS, ids=[p.name for p in SCRIPTS])
def test_every_name_a_benchmark_imports_from_the_package_exists(script):
    missing = []
    for module, name, line in _imports(script):
        try:
            m = importlib.import_module(module)
        except ImportError:
            missing.append(f"{script.name}:{line}: no module {module}")
            continue
        if name is not None and not hasattr(m, name):
            try:
                importlib.import_module(f"{module}.{name}")
            except ImportError:
                missing.append(f"{script.name}:{line}: {module} has no {name}")
    assert not missing, missing
