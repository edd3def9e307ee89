"""``app.results.numerals`` and ``app.results.report`` are pure: standard library and the pure
rules engine only (the DB wiring and the auditor can call them anywhere)."""

import ast
import sys
from pathlib import Path

import pytest

import app

APP = Path(app.__file__).parent


@pytest.mark.parametrize("module", ["results/numerals.py", "results/report.py"])
def test_imports_only_the_standard_library_and_pure_packages(module: str) -> None:
    tree = ast.parse((APP / module).read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    for name in imported:
        top = name.split(".")[0]
        assert (
            top in sys.stdlib_module_names
            or name.startswith(("app.rules", "app.names"))
            or name in {"app.results.numerals", "app.results.report"}
        ), f"{module} imports {name}"
