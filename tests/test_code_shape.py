"""The code stays easy to read (issue 19): no function in ``app/`` runs over 60 lines unless its
docstring says why, in a sentence starting ``Long because`` (item 4); no file under ``tests/``
imports from a test module, builders live in ``tests/builders.py`` and the other helper modules
(item 6)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"
TESTS = ROOT / "tests"
LIMIT = 60
REASON = "Long because"


def long_functions(root: Path = APP) -> list[tuple[str, str, int, str | None]]:
    """(file, function, lines, docstring) of every function over ``LIMIT`` lines from its ``def``
    (a route's decorator, its OpenAPI text, is not counted)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            assert node.end_lineno is not None
            lines = node.end_lineno - node.lineno + 1
            if lines > LIMIT:
                where = path.relative_to(root).as_posix()
                found.append((where, node.name, lines, ast.get_docstring(node)))
    return found


def test_every_long_function_says_why_it_is_long() -> None:
    unexplained = [
        f"app/{where}::{name} ({lines} lines)"
        for where, name, lines, doc in long_functions()
        if REASON not in (doc or "")
    ]
    assert unexplained == [], f"split them, or say why in the docstring ({REASON} …)"


def test_the_scan_sees_a_long_function(tmp_path: Path) -> None:
    body = "\n".join(f"    x{n} = {n}" for n in range(LIMIT))
    (tmp_path / "long.py").write_text(f"def long():\n{body}\n\n\ndef short():\n    pass\n")
    assert long_functions(tmp_path) == [("long.py", "long", LIMIT + 1, None)]


def imports_from_test_modules(root: Path = TESTS) -> list[str]:
    """``file:line import`` of every import, anywhere in a file under ``root``, that names a
    ``test_*`` module (``from tests.x.test_y import z``, ``from tests.x import test_y``,
    ``import tests.test_y``, ``from .test_y import z``)."""
    found = []
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = [n for n in ast.walk(tree) if isinstance(n, ast.Import | ast.ImportFrom)]
        for node in sorted(imports, key=lambda n: n.lineno):
            if isinstance(node, ast.ImportFrom):
                module = node.module or ""
                named = [module] + [f"{module}.{alias.name}" for alias in node.names]
            else:
                named = [alias.name for alias in node.names]
            if any(part.startswith("test_") for name in named for part in name.split(".")):
                where = path.relative_to(root).as_posix()
                found.append(f"{where}:{node.lineno} {ast.unparse(node)}")
    return found


def test_no_test_file_imports_from_another() -> None:
    assert imports_from_test_modules() == [], (
        "move what is shared to tests/builders.py (API and data builders), "
        "tests/web/pages.py (browser pages) or tests/chinese_text.py"
    )


def test_the_scan_sees_an_import_from_a_test_module(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text(
        "import json\n"
        "from tests.builders import hall\n"
        "from tests.results.test_results_api import hall\n"
        "def f():\n"
        "    from tests import test_chinese\n"
        "import tests.audit.test_record as record\n"
        "from .test_b import x\n"
    )
    assert imports_from_test_modules(tmp_path) == [
        "test_a.py:3 from tests.results.test_results_api import hall",
        "test_a.py:5 from tests import test_chinese",
        "test_a.py:6 import tests.audit.test_record as record",
        "test_a.py:7 from .test_b import x",
    ]
