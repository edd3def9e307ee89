"""The code stays easy to read (issue 19 item 4): no function in ``app/`` runs over 60 lines unless
its docstring says why, in a sentence starting ``Long because``."""

import ast
from pathlib import Path

APP = Path(__file__).resolve().parents[1] / "app"
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
