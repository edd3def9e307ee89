"""Chinese, all of it: no code identifier, status word or English inside a Chinese message or page.

``message_zh`` is read by the people in the hall (PRODUCT.md: Chinese first, English small beside).
This test walks every Chinese string that a person can be shown, so that a new offender anywhere
fails it, not only the ones known when it was written:

1. statically (``ast`` over ``app/**/*.py``): the Chinese message of every ``AppError`` (the 2nd
   positional argument or ``message_zh=`` of a call to any ``AppError`` subclass, of ``ErrorItem``,
   or any ``message_zh=`` keyword), every argument passed to a parameter whose name ends in
   ``_zh`` (``not_found(kind_zh, …)``, ``_frozen(what_zh, …)``), every value assigned to a name
   ending in ``_zh``/``_ZH`` (the Chinese label mappings), and what functions named ``*_zh``
   return. Names are followed to their assignments in the same function. An f-string there must
   not interpolate a raw identifier (``{round_.status}``, ``{principal.role}``, ``{permission}``):
   it goes through a Chinese mapping (``ROUND_STATUS_ZH[...]``, ``ROLE_NAMES_ZH[...]``);
2. the pages as served (``/tablet``, ``/login``, ``/dashboard``, ``/projector``): every visible
   text node and every shown attribute, and every Chinese string literal of the page scripts in
   ``app/web/static`` (not the vendored jsQR.js);
3. FastAPI's own request validation (pydantic's 422): its ``message_zh`` is Chinese.

A Latin word is allowed only as a rule id (P1, M7, Q1, O2, I2…), a token holding a digit (a
number, a date, an example login code such as K7QM-2XHP-R9TB), one of ``ALLOWED`` (in
``tests/chinese_text.py``), or in the English gloss of a page text (after `` / `` following
Chinese, or inside ``class="en"``).
"""

import ast
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.web import router as web_router
from tests.builders import Api, expect, make_congress
from tests.chinese_text import CJK, latin_words, page_offences, page_words

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app"

# Identifiers that name a status, a role, an action or a kind: interpolated raw into a Chinese
# message they show the code word (reconciled, certify, chief_teller). Map them to Chinese first.
RAW_NAMES = frozenset(
    {
        "status",
        "state",
        "role",
        "action",
        "permission",
        "kind",
        "code",
        "type",
        "mode",
        "policy",
        "outcome",
        "verdict",
        "mark",
        "event_type",
        "base_kind",
        "pass_",
        # an exception or an English text: str(exc) and detail are English (message_en)
        "exc",
        "error",
        "err",
        "detail",
        "en",
        "msg",
        # a field, option, table or column name, or a place in a file (body.name, profile.quorum)
        "field",
        "option",
        "table",
        "column",
        "where",
    }
)
RAW_SUFFIXES = ("_error", "_status", "_state", "_role", "_kind", "_code", "_type", "_en", "_policy")


# Where a raw identifier is the very thing to name, each with its reason (file, expression).
QUOTED = frozenset(
    {
        # The database check tells the auditor which table and column to open in the database.
        ("app/audit/consistency.py", "self.table"),
        ("app/audit/consistency.py", "self.column"),
        # An unknown rules option is quoted as the client sent it (未知的规则选项 'foo').
        ("app/rules/profiles.py", "option"),
    }
)
# The end-to-end rehearsal (``jipiao rehearse``) is the developers' test drive of a whole election
# over HTTP: it reports requests, JSON bodies and library errors verbatim for diagnosis, and is
# never shown in the hall.
NOT_WALKED = ("app/rehearse/",)


# ---------------------------------------------------------------- 1. statically, over app/


@dataclass(frozen=True)
class Offence:
    where: str
    text: str
    why: str

    def __str__(self) -> str:
        return f"{self.where}: {self.why}: {self.text!r}"


def _name(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_zh(name: str) -> bool:
    """A name that holds a Chinese text: ``zh``, ``message_zh``, ``kind_zh``, ``ROLE_NAMES_ZH``."""
    return name == "zh" or name.endswith("_zh") or name.endswith("_ZH")


def _raw_identifier(node: ast.expr) -> str | None:
    """The identifier if ``node`` is a bare status/role/… name or attribute (not mapped)."""
    name = _name(node)
    if name is None or name == "status_code":  # an HTTP status code is a number
        return None
    if name in RAW_NAMES or name.endswith(RAW_SUFFIXES):
        return name
    return None


class _Module:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.rel = path.relative_to(ROOT).as_posix()
        self.tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent

    def scope(self, node: ast.AST) -> ast.AST:
        """The function (or module) that holds ``node``."""
        current = node
        while current in self.parents:
            current = self.parents[current]
            if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return current
        return self.tree


def _modules() -> list[_Module]:
    return [_Module(path) for path in sorted(APP.rglob("*.py"))]


def _error_classes(modules: list[_Module]) -> set[str]:
    """``AppError`` and every class deriving from it, anywhere in app/, plus ``ErrorItem``."""
    bases: dict[str, set[str]] = {}
    for module in modules:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ClassDef):
                names = {_name(base) for base in node.bases}
                bases.setdefault(node.name, set()).update(n for n in names if n)
    found = {"AppError"}
    while True:
        more = {cls for cls, parents in bases.items() if parents & found} - found
        if not more:
            return found | {"ErrorItem"}
        found |= more


def _zh_parameters(modules: list[_Module]) -> dict[str, list[tuple[int | None, str]]]:
    """Function name → its parameters named ``*_zh`` (position among the arguments, name)."""
    params: dict[str, list[tuple[int | None, str]]] = {}
    for module in modules:
        for node in ast.walk(module.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                name = node.name
                if name == "__init__":  # called by its class's name
                    owner = module.parents.get(node)
                    if not isinstance(owner, ast.ClassDef):
                        continue
                    name = owner.name
                positional = [a.arg for a in node.args.posonlyargs + node.args.args]
                if positional and positional[0] in ("self", "cls"):
                    positional = positional[1:]
                for index, arg in enumerate(positional):
                    if _is_zh(arg):
                        params.setdefault(name, []).append((index, arg))
                for arg in node.args.kwonlyargs:
                    if _is_zh(arg.arg):
                        params.setdefault(name, []).append((None, arg.arg))
    return params


class _Walker:
    """Collects the Chinese texts an expression can produce, and the raw identifiers in them."""

    def __init__(self, module: _Module) -> None:
        self.module = module
        self.offences: list[Offence] = []
        self.texts: list[tuple[str, str]] = []  # (where, text)
        # What the same call interpolates into ``field=`` (body.{key}): a code name of an input.
        self.fields: frozenset[str] = frozenset()

    def where(self, node: ast.AST) -> str:
        return f"{self.module.rel}:{getattr(node, 'lineno', '?')}"

    def expr(self, node: ast.expr | None, seen: frozenset[str] = frozenset()) -> None:
        if node is None:
            return
        if isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                self.texts.append((self.where(node), node.value))
        elif isinstance(node, ast.JoinedStr):
            for part in node.values:
                if isinstance(part, ast.Constant):
                    self.expr(part, seen)
                elif isinstance(part, ast.FormattedValue):
                    raw = _raw_identifier(part.value)
                    if ast.unparse(part.value) in self.fields:
                        raw = "field"  # the message names the input as field= does (body.{key})
                    quoted = (self.module.rel, ast.unparse(part.value)) in QUOTED
                    if raw is not None and not quoted:
                        self.offences.append(
                            Offence(
                                self.where(part),
                                ast.unparse(part.value),
                                f"interpolates the identifier `{raw}` raw (map it to Chinese)",
                            )
                        )
                    elif isinstance(part.value, ast.IfExp | ast.BoolOp | ast.BinOp):
                        self.expr(part.value, seen)
        elif isinstance(node, ast.BinOp):
            self.expr(node.left, seen)
            self.expr(node.right, seen)
        elif isinstance(node, ast.IfExp):
            self.expr(node.body, seen)
            self.expr(node.orelse, seen)
        elif isinstance(node, ast.BoolOp | ast.Dict):
            for value in node.values:
                self.expr(value, seen)
        elif isinstance(node, ast.Tuple | ast.List):
            for element in node.elts:
                self.expr(element, seen)
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ("format", "join"):
                self.expr(func.value, seen)
                if func.attr == "format":
                    for arg in node.args:
                        self._raw_argument(arg)
                    for keyword in node.keywords:
                        self._raw_argument(keyword.value)
        elif isinstance(node, ast.Name) and node.id not in seen:
            self._follow(node, seen | {node.id})

    def _raw_argument(self, node: ast.expr) -> None:
        raw = _raw_identifier(node)
        if raw is not None:
            self.offences.append(
                Offence(self.where(node), ast.unparse(node), f"formats `{raw}` raw")
            )

    def _follow(self, node: ast.Name, seen: frozenset[str]) -> None:
        """A local name: walk what it was assigned in the same function."""
        scope = self.module.scope(node)
        if scope is self.module.tree:
            return  # module constants named *_ZH / *_zh are walked on their own
        for inner in ast.walk(scope):
            if isinstance(inner, ast.Assign):
                if any(isinstance(t, ast.Name) and t.id == node.id for t in inner.targets):
                    self.expr(inner.value, seen)
            elif (
                isinstance(inner, ast.AnnAssign | ast.AugAssign)
                and isinstance(inner.target, ast.Name)
                and inner.target.id == node.id
            ):
                self.expr(inner.value, seen)


def _field_parts(call: ast.Call) -> frozenset[str]:
    """The field names ``call`` interpolates into its ``field=`` keyword (``f"body.{key}"`` →
    ``key``; not ``f"body.marks.{name}"``, where a candidate's name is the key of a mark)."""
    parts: set[str] = set()
    for keyword in call.keywords:
        if keyword.arg == "field" and isinstance(keyword.value, ast.JoinedStr):
            values = keyword.value.values
            for before, part in itertools.pairwise(values):
                if (
                    isinstance(before, ast.Constant)
                    and str(before.value).endswith(("body.", "query.", "path.", "profile."))
                    and isinstance(part, ast.FormattedValue)
                ):
                    parts.add(ast.unparse(part.value))
    return frozenset(parts)


def _chinese_expressions(
    module: _Module, classes: set[str], zh_params: dict[str, list[tuple[int | None, str]]]
) -> Iterator[tuple[ast.expr, frozenset[str]]]:
    """Every expression of ``module`` whose value is a Chinese text shown to a person, with what
    the same call interpolates into ``field=``."""
    none: frozenset[str] = frozenset()
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Call):
            name = _name(node.func)
            fields = _field_parts(node)
            for keyword in node.keywords:
                if keyword.arg is not None and _is_zh(keyword.arg):
                    yield keyword.value, fields
            if name in classes and len(node.args) > 1:
                yield node.args[1], fields
            for index, _param in zh_params.get(name or "", []):
                if index is not None and index < len(node.args):
                    yield node.args[index], fields
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            named = any(isinstance(t, ast.Name) and _is_zh(t.id.lower()) for t in targets)
            if named and node.value is not None:
                yield node.value, none
        elif isinstance(node, ast.FunctionDef) and _is_zh(node.name):
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    yield inner.value, none
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "message_zh":
                    yield value, none


def static_offences() -> tuple[list[Offence], int]:
    """Every offending Chinese text in app/, and how many texts were walked."""
    modules = _modules()
    classes = _error_classes(modules)
    zh_params = _zh_parameters(modules)
    offences: list[Offence] = []
    walked = 0
    for module in modules:
        if module.rel.startswith(NOT_WALKED):
            continue
        walker = _Walker(module)
        for expression, fields in _chinese_expressions(module, classes, zh_params):
            walker.fields = fields
            walker.expr(expression)
        offences += walker.offences
        for where, text in walker.texts:
            walked += 1
            words = latin_words(text)
            if words:
                offences.append(Offence(where, text, f"Latin words {words}"))
    unique = sorted(set(offences), key=lambda o: (o.where, o.text))
    return unique, walked


def test_every_chinese_message_in_app_is_chinese() -> None:
    offences, walked = static_offences()
    assert walked > 300, "the walk found too few messages: is it still looking in the right place?"
    assert not offences, "\n".join(str(o) for o in offences)


def test_round_batch_and_permission_words_have_chinese_labels() -> None:
    """Every state a message can name has its Chinese label (the one place for each kind)."""
    from app.auth.roles import PERMISSION_ZH, ROLE_NAMES_ZH, Permission, Role
    from app.counting import batches as counting_batches
    from app.papers import service as papers_service
    from app.results import service as results_service

    round_states = {
        value
        for module in (papers_service, results_service)
        for name, value in vars(module).items()
        if name.startswith("ROUND_") and isinstance(value, str) and value.isidentifier()
    }
    assert {"open", "issued", "collected", "counting", "void", "decided", "certified"} <= (
        round_states
    )
    batch_states = {
        counting_batches.ENTERING,
        counting_batches.DISCREPANCY,
        counting_batches.ADJUDICATION,
        counting_batches.RECONCILED,
    }
    for labels, keys in (
        (papers_service.ROUND_STATUS_ZH, round_states),
        (counting_batches.BATCH_STATUS_ZH, batch_states),
        (PERMISSION_ZH, set(Permission)),
        (ROLE_NAMES_ZH, set(Role)),
    ):
        assert set(labels) == keys, "every state (ROUND_* constant) needs its Chinese label"
        for label in labels.values():
            assert CJK.search(label), label
            assert not latin_words(label), label


# ---------------------------------------------------------------- 2. the pages as served

PAGES = tuple(web_router.PAGES)
SCRIPTS = sorted(
    path
    for path in (APP / "web" / "static").glob("*.js")
    if path.name not in ("jsQR.js", "alpine.min.js")  # vendored (VENDORED.md): no text of ours
)


@pytest.mark.parametrize("page", PAGES)
def test_page_text_is_chinese(client: object, page: str) -> None:
    from fastapi.testclient import TestClient

    assert isinstance(client, TestClient)
    response = client.get(page)
    assert response.status_code == 200
    assert CJK.search(response.text)
    assert not page_offences(response.text)


def js_strings(source: str) -> Iterator[tuple[int, str, list[str]]]:
    """The string literals of a script: (line, text with ``${…}`` removed, the ``${…}``s).

    A small lexer: comments, the three quotes, template literals (nested ``${}``) and regular
    expression literals (which may hold quotes) are told apart.
    """
    i, n, line = 0, len(source), 1
    previous = ""  # the last significant character, to tell a regex from a division
    while i < n:
        ch = source[i]
        if ch == "\n":
            line += 1
        if source.startswith("//", i):
            i = source.find("\n", i)
            i = n if i < 0 else i
            continue
        if source.startswith("/*", i):
            end = source.find("*/", i + 2)
            line += source.count("\n", i, end)
            i = end + 2
            continue
        if ch in "\"'`":
            start_line, i, parts, holes = line, i + 1, [], []
            while i < n and source[i] != ch:
                if source[i] == "\\":
                    parts.append(source[i : i + 2])
                    i += 2
                    continue
                if ch == "`" and source.startswith("${", i):
                    depth, j = 1, i + 2
                    while j < n and depth:
                        depth += {"{": 1, "}": -1}.get(source[j], 0)
                        j += 1
                    holes.append(source[i + 2 : j - 1])
                    parts.append(" ")
                    i = j
                    continue
                if source[i] == "\n":
                    line += 1
                parts.append(source[i])
                i += 1
            i += 1
            previous = "x"
            yield start_line, "".join(parts), holes
            continue
        if ch == "/" and (previous == "" or previous in "(,=:[!&|?{};+-*%<>~^"):
            i += 1  # a regular expression literal
            in_class = False
            while i < n and (source[i] != "/" or in_class):
                if source[i] == "\\":
                    i += 1
                elif source[i] == "[":
                    in_class = True
                elif source[i] == "]":
                    in_class = False
                i += 1
            i += 1
            previous = "x"
            continue
        if not ch.isspace():
            word = re.match(r"[A-Za-z_$][\w$]*", source[i:])
            if word:
                previous = "(" if word.group() in ("return", "typeof", "case", "in", "of") else "x"
                i += len(word.group())
                continue
            previous = ch
        i += 1


# "状态：" + r.status, or r.status + "…": a raw identifier concatenated into a Chinese string.
_JS_JOINED = re.compile(
    r"""(?:["'`][^"'`\n]*[\u4e00-\u9fff][^"'`\n]*["'`]\s*\+\s*([\w$.]+)(?![\w$.\[(])"""
    r"""|(?<![\w$.\]])([\w$.]+)\s*\+\s*["'`][^"'`\n]*[\u4e00-\u9fff])"""
)


def _js_raw(expression: str) -> str | None:
    expression = expression.strip()
    if expression in ("response.status", "result.status"):  # an HTTP status code is a number
        return None
    # A property of the server's data (r.status, d.round.outcome); a bare local name is a label
    # the script composed (const outcome = OUTCOME_ZH[…]).
    if re.fullmatch(r"[\w$]+(\.[\w$]+)+", expression):
        return _raw_identifier(ast.parse(expression, mode="eval").body)
    return None


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_strings_are_chinese(script: Path) -> None:
    source = script.read_text(encoding="utf-8")
    offences = []
    for line, text, holes in js_strings(source):
        if not CJK.search(text):
            continue  # not a Chinese text (an identifier, a path, a CSS class)
        words = page_words(text)
        if words:
            offences.append(f"{script.name}:{line} {text!r}: Latin words {words}")
        for hole in holes:
            raw = _js_raw(hole)
            if raw is not None:
                offences.append(f"{script.name}:{line} {text!r}: interpolates `{hole}` raw")
    for match in _JS_JOINED.finditer(source):
        expression = match.group(1) or match.group(2)
        if _js_raw(expression) is not None:
            line = source.count("\n", 0, match.start()) + 1
            offences.append(f"{script.name}:{line}: joins `{expression}` raw to Chinese")
    assert not offences, "\n".join(offences)


def test_script_lexer_finds_the_strings() -> None:
    source = 'a = /["]/.test(x); // "not"\nb = `第 ${r.status} 轮` + "x / y";\n/* "c" */ c = \'d\';'
    assert list(js_strings(source)) == [
        (2, "第   轮", ["r.status"]),
        (2, "x / y", []),
        (3, "d", []),
    ]
    assert page_words("打开 / open the tablet") == []
    assert page_words("状态为 reconciled") == ["reconciled"]
    assert page_words("open the tablet") == ["open", "the", "tablet"]


# ---------------------------------------------------------------- 3. FastAPI's request validation


def _error_offences(body: object, where: str) -> list[str]:
    """A JSON error body: its Chinese messages, the key the client sent taken out, are Chinese."""
    if not isinstance(body, dict) or "message_zh" not in body:
        return []
    offences = []
    items = [body, *body.get("errors", [])]
    keys = [str(item.get("field") or "").partition(".")[2] for item in items]
    for item in items:
        text = str(item["message_zh"])
        for key in sorted(keys, key=len, reverse=True):
            if key:
                text = text.replace(key, " ")
        words = latin_words(text)
        if words or not CJK.search(text):
            offences.append(f"{where}: {item['message_zh']!r}: Latin words {words}")
    return offences


def test_request_validation_errors_are_chinese(api: Api) -> None:
    """Every route, sent what pydantic refuses: a wrong body, wrong query values, a bad id."""
    congress = make_congress(api)
    schema = api.client.app.openapi()  # type: ignore[attr-defined]
    offences: list[str] = []
    answered_422 = 0
    for template, operations in sorted(schema["paths"].items()):
        for method, operation in sorted(operations.items()):
            method = method.upper()
            good_path = re.sub(r"\{[^}]+\}", str(congress.id), template)
            bad_path = re.sub(r"\{[^}]+\}", "abc", template)
            query = {
                p["name"]: "[[x]]" for p in operation.get("parameters", []) if p["in"] == "query"
            }
            properties = _body_properties(schema, operation)
            attempts: list[tuple[str, dict[str, object]]] = [
                (bad_path, {}),
                (good_path, {"params": query}),
                (good_path, {"json": []}),
                (good_path, {"json": {}}),
                (good_path, {"json": {name: [[None]] for name in properties}}),
                (good_path, {"json": dict.fromkeys(properties, "")}),
                (good_path, {"json": dict.fromkeys(properties, -1)}),
                (
                    good_path,
                    {"content": b"{not json", "headers": {"content-type": "application/json"}},
                ),
            ]
            for path, kwargs in attempts:
                if method == "GET" and ("json" in kwargs or "content" in kwargs):
                    continue
                if path == good_path and (method == "DELETE" or path.endswith("/logout")):
                    continue  # a valid request here would end the walk (no congress, no session)
                response = api.request(method, path, **kwargs)
                if response.headers.get("content-type", "").startswith("application/json"):
                    answered_422 += response.status_code == 422
                    offences += _error_offences(response.json(), f"{method} {path} {kwargs}")
    assert answered_422 > 50, "too few requests were refused: is the walk still sending them?"
    assert not offences, "\n".join(sorted(set(offences)))


def _body_properties(schema: dict[str, object], operation: dict[str, object]) -> list[str]:
    content = operation.get("requestBody", {})
    assert isinstance(content, dict)
    body = content.get("content", {}).get("application/json", {}).get("schema", {})
    reference = body.get("$ref", "")
    if not reference:
        return []
    components = schema["components"]
    assert isinstance(components, dict)
    model = components["schemas"][reference.rsplit("/", 1)[1]]
    return list(model.get("properties", {}))


def test_validation_message_names_the_key_sent_in_chinese(api: Api) -> None:
    error = expect(api.post("/api/congresses", json={"delegates_total": 0}), 422)
    assert error["message_zh"] == "请求内容不符合要求：字段 name 缺少必填项"
    assert [item["message_zh"] for item in error["errors"]] == [
        "字段 name 缺少必填项",
        "字段 delegates_total 应大于 0",
    ]
    bad_json = api.post(
        "/api/congresses", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert expect(bad_json, 422)["message_zh"] == "请求内容不符合要求：请求体不是有效的 JSON"


def _js_maps(source: str) -> Iterator[tuple[int, set[str]]]:
    """The keys of every ``{ key: "中文", … }`` object literal of a script (its label maps)."""
    for match in re.finditer(r"\{([^{}]*)\}", source):
        body = match.group(1)
        pairs = re.findall(
            r"""(?:^|[,\s])["']?([A-Za-z_]\w*)["']?\s*:\s*["'`]([^"'`]*)["'`]""", body
        )
        if pairs and all(CJK.search(label) or not label for _key, label in pairs):
            yield source.count("\n", 0, match.start()) + 1, {key for key, _label in pairs}


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_script_label_maps_name_every_state(script: Path) -> None:
    """A page's label map of round or batch states names every state the server has, so that no
    state is shown by its identifier (``ROUND_ZH[r.status] || r.status``)."""
    from app.counting.batches import BATCH_STATUS_ZH
    from app.papers.service import ROUND_STATUS_ZH

    missing = []
    for line, keys in _js_maps(script.read_text(encoding="utf-8")):
        for states in (set(ROUND_STATUS_ZH), set(BATCH_STATUS_ZH)):
            if len(keys & states) >= 3 and not states <= keys:
                missing.append(f"{script.name}:{line} lacks {sorted(states - keys)}")
    assert not missing, "\n".join(missing)


# ---------------------------------------------------------------- what a person reads, end to end


def test_a_round_through_its_states_is_refused_in_chinese(api: Api) -> None:
    """Round by round, each refusal names the state and the action in words of the hall."""
    from tests.builders import issue_and_collect, login_official, make_ready_election, open_round

    ready = make_ready_election(api)
    first = open_round(api, ready.election.id)
    refused = expect(api.post(f"/api/rounds/{first.id}/collection", json={"collected": 8}), 409)
    assert refused["message_zh"] == "第 1 轮当前为“已开启，尚未发出选票”，不能登记收回选票"
    issue_and_collect(api, first.id, printed=10, issued=8, collected=8)
    again = {"printed": 10, "issued": 8}
    refused = expect(api.post(f"/api/rounds/{first.id}/issuance", json=again), 409)
    assert refused["message_zh"] == "第 1 轮当前为“已收回选票”，不能登记发票"
    teller = login_official(api, ready.congress.id, ready.officials["teller"][0].id)
    refused = expect(teller.post(f"/api/rounds/{first.id}/decide"), 403)
    assert refused["message_zh"] == "计票人无权签字确认"
