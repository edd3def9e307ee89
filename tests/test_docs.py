"""The docs that live in the repo stay true to the code (issue 19 item 5).

* ``docs/rules.md``: a section for every rule id of the engine (``app.rules.model.RuleId``), each
  with its seed clause, options, code and tests; every profile option named; and every
  ``path::name`` cited (in any doc) is a file that defines that function, class or test.
* ``docs/events.md``: a section for every event type the code can append (found in the source:
  the ``type`` handed to the ledger's append functions, followed through the functions that pass
  theirs on, and the types the consistency check projects) and, for the types a whole election
  run over HTTP here produces, the documented payload keys are the real ones and the documented
  actor roles include the real ones; its example event line hashes to its ``hash``. That run also
  holds the services' rows to the rows the consistency check derives from its events.
* Every link of ``docs/*.md`` and ``README.md`` stays inside the repo and resolves (a file; a
  heading for an anchor into a Markdown file); no text points at the machine's own folders; the
  README links the first mention of a rule id in each section to ``docs/rules.md``.
"""

import ast
import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, get_args

from fastapi import FastAPI

from app.audit import consistency
from app.audit.consistency import check_congress
from app.ledger.chain import Event, event_hash
from app.papers.keys import load_or_create_qr_key
from app.papers.qr import encode_payload
from app.rules.model import RuleId
from app.rules.profiles import OPTION_NAMES
from app.settings import Settings
from tests.builders import (
    Api,
    check_in,
    expect,
    issue_and_collect,
    login_as,
    login_official,
    make_official,
    make_ready_election,
    open_round,
)

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
README = ROOT / "README.md"
RULES_MD = DOCS / "rules.md"
EVENTS_MD = DOCS / "events.md"
RULE_IDS: tuple[str, ...] = get_args(RuleId)
RULE_TOKEN = re.compile(r"(?<![\w\[#.-])([QIPMOCB][0-9]{1,2})(?![\w\]])")
EVENT_TYPE = re.compile(r"[a-z]+(?:_[a-z]+)*\.[a-z]+(?:_[a-z]+)*")

# ---------------------------------------------------------------- reading Markdown

LINK = re.compile(r"!?\[([^\]\n]*)\]\(([^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*$")


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def prose_lines(path: Path) -> Iterator[tuple[int, str]]:
    """The file's lines outside fenced code blocks, numbered from 1."""
    fenced = False
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced:
            yield number, line


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation but ``-`` and ``_`` dropped,
    spaces as ``-``."""
    text = re.sub(r"<[^>]+>", "", heading).strip().lower()
    kept = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return kept.replace(" ", "-")


def anchors(path: Path) -> set[str]:
    found: set[str] = set()
    for _, line in prose_lines(path):
        match = HEADING.match(line)
        if match:
            base = slug(match.group(2))
            n = 1
            name = base
            while name in found:
                name, n = f"{base}-{n}", n + 1
            found.add(name)
    return found


@dataclass(frozen=True)
class Link:
    source: Path
    line: int
    text: str
    target: str

    def where(self) -> str:
        return f"{self.source.relative_to(ROOT)}:{self.line}: [{self.text}]({self.target})"


def links(path: Path) -> Iterator[Link]:
    for number, line in prose_lines(path):
        for match in LINK.finditer(line):
            yield Link(path, number, match.group(1), match.group(2))


def sections(path: Path, level: int) -> dict[str, str]:
    """Each heading of ``level`` (its text without backticks) → its text, up to the next heading
    of that level or above."""
    found: dict[str, str] = {}
    title: str | None = None
    body: list[str] = []
    fenced = False
    for line in [*path.read_text(encoding="utf-8").splitlines(), "#"]:
        if line.startswith("```"):
            fenced = not fenced
        match = None if fenced else HEADING.match(line) or re.fullmatch("#", line)
        if match and len(line) - len(line.lstrip("#")) <= level:
            if title is not None:
                found[title] = "\n".join(body)
            depth = len(line) - len(line.lstrip("#"))
            title = line.lstrip("#").strip().replace("`", "") if depth == level else None
            body = []
        else:
            body.append(line)
    return found


# ---------------------------------------------------------------- links and citations


def test_links_stay_inside_the_repo_and_resolve() -> None:
    problems: list[str] = []
    for path in markdown_files():
        for number, line in prose_lines(path):
            for outside in ("/work/", "../shared", "/tmp/"):
                if outside in line:
                    problems.append(f"{path.relative_to(ROOT)}:{number}: points at {outside}")
        for link in links(path):
            target, _, anchor = link.target.partition("#")
            if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target) or target.startswith("//"):
                problems.append(f"{link.where()}: a URL (the docs stand alone in the repo)")
                continue
            if target.startswith("/"):
                problems.append(f"{link.where()}: an absolute path")
                continue
            resolved = (path.parent / target).resolve() if target else path
            if not resolved.is_relative_to(ROOT):
                problems.append(f"{link.where()}: outside the repo")
            elif not resolved.exists():
                problems.append(f"{link.where()}: no such file")
            elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
                problems.append(f"{link.where()}: no heading #{anchor} in {resolved.name}")
    assert problems == []


def _defines(path: Path, name: str) -> bool:
    """Every part of ``name`` (``Class.method``) is defined in the file."""
    text = path.read_text(encoding="utf-8")
    return all(
        re.search(rf"^\s*(?:async\s+def|def|class)\s+{re.escape(part)}\b", text, re.M)
        or re.search(rf"^{re.escape(part)}\s*[:=]", text, re.M)  # a module constant or type
        for part in name.split(".")
    )


def test_every_cited_function_and_test_exists() -> None:
    problems: list[str] = []
    cited_in: dict[Path, int] = {}
    for path in markdown_files():
        for link in links(path):
            text = link.text.strip().strip("`")
            if "::" not in text:
                continue
            cited, _, name = text.partition("::")
            cited_in[path] = cited_in.get(path, 0) + 1
            target = (path.parent / link.target.partition("#")[0]).resolve()
            if target != (ROOT / cited).resolve():
                problems.append(f"{link.where()}: the link does not go to {cited}")
            elif not target.is_file():
                problems.append(f"{link.where()}: no file {cited}")
            elif not _defines(target, name):
                problems.append(f"{link.where()}: {cited} defines no {name}")
    assert problems == []
    # Every rule cites its code and its tests; every event section its service function.
    assert cited_in.get(RULES_MD, 0) > 3 * len(RULE_IDS)
    assert cited_in.get(EVENTS_MD, 0) > len(projected_event_types())


def test_file_names_in_code_spans_exist() -> None:
    problems = []
    for path in markdown_files():
        for number, line in prose_lines(path):
            for match in re.finditer(r"`((?:app|tests|scripts|docs|ballots)/[\w./-]*)`", line):
                if not (ROOT / match.group(1)).exists():
                    problems.append(f"{path.name}:{number}: `{match.group(1)}` does not exist")
    assert problems == []


# ---------------------------------------------------------------- docs/rules.md and README


def test_every_rule_id_has_a_section_and_no_other() -> None:
    documented = {t for t in sections(RULES_MD, 3) if re.fullmatch(r"[A-Z][0-9]{1,2}", t)}
    assert documented == set(RULE_IDS)


def test_every_rule_names_its_seed_clause_options_code_and_tests() -> None:
    found = sections(RULES_MD, 3)
    problems = [
        f"{rule}: no {field}"
        for rule in RULE_IDS
        for field in ("**Seed**", "**Options**", "**Enforced by**", "**Proved by**")
        if field not in found.get(rule, "")
    ]
    overview = sections(RULES_MD, 2)["Overview"]
    problems += [f"{rule}: no row in the overview" for rule in RULE_IDS
                 if f"| [{rule}](#{rule.lower()}) |" not in overview]  # fmt: skip
    assert problems == []


def test_every_profile_option_is_named_in_rules_md() -> None:
    text = RULES_MD.read_text(encoding="utf-8")
    assert [name for name in OPTION_NAMES if f"`{name}`" not in text] == []


def test_readme_links_the_first_mention_of_each_rule_id_in_a_section() -> None:
    problems = []
    linked_somewhere = False
    seen: set[str] = set()
    for number, line in prose_lines(README):
        if line.startswith("## ") or line.startswith("# "):
            seen = set()
            continue
        outside_code = re.sub(r"`[^`]*`", "", line)
        for match in LINK.finditer(outside_code):
            rule = match.group(1)
            if rule in RULE_IDS and match.group(2) == f"docs/rules.md#{rule.lower()}":
                seen.add(rule)
                linked_somewhere = True
        for match in RULE_TOKEN.finditer(LINK.sub("", outside_code)):
            rule = match.group(1)
            if rule in RULE_IDS and rule not in seen:
                problems.append(f"README.md:{number}: {rule} is not [{rule}](docs/rules.md#…)")
                seen.add(rule)
    assert linked_somewhere
    assert problems == []


# ---------------------------------------------------------------- event types in the source

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


@cache
def _trees() -> dict[str, ast.Module]:
    return {
        _module_name(path): ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for path in sorted((ROOT / "app").rglob("*.py"))
    }


def _positional(function: Function) -> list[str]:
    return [a.arg for a in [*function.args.posonlyargs, *function.args.args]]


def _functions(tree: ast.Module) -> Iterator[tuple[Function, bool]]:
    """Every function of the module, nested ones too, and whether it is a method."""
    methods = {
        id(item)
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
        for item in node.body
        if isinstance(item, ast.FunctionDef | ast.AsyncFunctionDef)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node, id(node) in methods


class _Parameter(Exception):
    """The type is a parameter of the enclosing function: its callers give it."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class _Unresolved(Exception):
    pass


def _assigned(target: ast.expr, value: ast.expr, name: str) -> list[ast.expr]:
    """What ``target = value`` gives ``name``: the value, or its element in ``a, b = x, y``."""
    if isinstance(target, ast.Name):
        return [value] if target.id == name else []
    if (
        isinstance(target, ast.Tuple)
        and isinstance(value, ast.Tuple)
        and len(target.elts) == len(value.elts)
    ):
        pairs = zip(target.elts, value.elts, strict=True)
        return [found for t, v in pairs for found in _assigned(t, v, name)]
    return []


@dataclass(frozen=True)
class _Resolver:
    """The strings an expression can be: a literal, a conditional, a local or module constant
    (imported ones followed), a module's attribute."""

    trees: dict[str, ast.Module]

    def _imported(self, module: str, name: str) -> tuple[str, str] | None:
        for node in self.trees[module].body:
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    if (alias.asname or alias.name) == name:
                        return node.module, alias.name
        return None

    def _module_named(self, module: str, name: str) -> str | None:
        imported = self._imported(module, name)
        if imported is not None and ".".join(imported) in self.trees:
            return ".".join(imported)
        for node in self.trees[module].body:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname == name:
                        return alias.name
        return None

    def constant(self, module: str, name: str) -> set[str]:
        if module not in self.trees:
            raise _Unresolved(f"{module}.{name}")
        values = [
            node.value
            for node in self.trees[module].body
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name for t in node.targets)
        ]
        if values:
            return set().union(*(self.strings(v, module, None) for v in values))
        imported = self._imported(module, name)
        if imported is not None:
            return self.constant(*imported)
        raise _Unresolved(f"{module}.{name}")

    def strings(self, node: ast.expr, module: str, function: Function | None) -> set[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return {node.value}
        if isinstance(node, ast.IfExp):
            return self.strings(node.body, module, function) | self.strings(
                node.orelse, module, function
            )
        if isinstance(node, ast.Name):
            if function is not None:
                local = [
                    value
                    for n in ast.walk(function)
                    if isinstance(n, ast.Assign)
                    for target in n.targets
                    for value in _assigned(target, n.value, node.id)
                ]
                if local:
                    return set().union(*(self.strings(v, module, function) for v in local))
                keyword_only = [a.arg for a in function.args.kwonlyargs]
                if node.id in _positional(function) or node.id in keyword_only:
                    raise _Parameter(node.id)
            return self.constant(module, node.id)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            other = self._module_named(module, node.value.id)
            if other is not None:
                return self.constant(other, node.attr)
        raise _Unresolved(ast.unparse(node))


def _own_calls(function: Function) -> Iterator[ast.Call]:
    """The calls in the function's own body (a nested function's are its own)."""
    stack: list[ast.AST] = list(function.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


@cache
def appended_event_types() -> frozenset[str]:
    """Every event type the code can append: the ``type`` given to the functions of
    ``app.ledger.store`` that take one, followed through every function that passes its own
    parameter on to them (a helper ``_chain(batch, role, kind, …)`` becomes an appender too)."""
    trees = _trees()
    resolver = _Resolver(trees)
    # function name → (position of the type among the positional arguments, its keyword)
    appenders: dict[str, tuple[int | None, str]] = {}
    for node in trees["app.ledger.store"].body:
        if isinstance(node, ast.FunctionDef):
            if "type" in _positional(node):
                appenders[node.name] = (_positional(node).index("type"), "type")
            elif "type" in [a.arg for a in node.args.kwonlyargs]:
                appenders[node.name] = (None, "type")
    assert {"append_event", "chained"} <= appenders.keys()
    types: set[str] = set()
    problems: list[str] = []
    grown = True
    while grown:
        grown = False
        problems = []
        for module, tree in trees.items():
            for function, is_method in _functions(tree):
                for call in _own_calls(function):
                    name = _callee(call)
                    if name is None or name not in appenders:
                        continue
                    position, keyword = appenders[name]
                    given = next((k.value for k in call.keywords if k.arg == keyword), None)
                    if given is None and position is not None and position < len(call.args):
                        given = call.args[position]
                    if given is None:
                        continue
                    try:
                        types |= resolver.strings(given, module, function)
                    except _Parameter as parameter:
                        names = _positional(function)
                        index = names.index(parameter.name) if parameter.name in names else None
                        if index is not None and is_method:
                            index -= 1  # called as self.name(...)
                        if appenders.get(function.name) != (index, parameter.name):
                            appenders[function.name] = (index, parameter.name)
                            grown = True
                    except _Unresolved as exc:
                        problems.append(f"{module}:{call.lineno}: event type {exc}")
    assert problems == [], "give an event's type as a string, or a constant of a module"
    return frozenset(types)


def projected_event_types() -> set[str]:
    """The types ``app.audit.consistency`` knows (it refuses any other)."""
    return set(consistency._Projection().handlers) | set(consistency.NO_TABLE_CHANGE)


def test_the_source_scan_finds_the_event_types() -> None:
    appended = appended_event_types()
    assert all(EVENT_TYPE.fullmatch(t) for t in appended), appended
    # Each way a type is written today: a literal, a conditional, a module constant (imported
    # or read as a module's attribute), a local variable.
    assert {"congress.created", "delegate.checked_out", "official.login_code_issued"} <= appended
    assert {"round.released", "batch.discrepancy", "paper.entered"} <= appended
    assert appended == projected_event_types()


# ---------------------------------------------------------------- docs/events.md


@dataclass(frozen=True)
class DocumentedEvent:
    type: str
    keys: dict[str, bool]  # documented payload key → present in every event of the type
    roles: set[str]
    example: dict[str, Any]

    def top(self) -> set[str]:
        return {key for key in self.keys if "." not in key and "[" not in key}

    def documents(self, path: str) -> bool:
        """``path`` (``a.b`` or ``a[].b``) is a documented key, ``a.*`` matching any ``a.b``."""
        return any(
            re.fullmatch(re.escape(key).replace(r"\*", r"[^.\[]+"), path) for key in self.keys
        )


def documented_events() -> dict[str, DocumentedEvent]:
    found: dict[str, DocumentedEvent] = {}
    for title, body in sections(EVENTS_MD, 3).items():
        if not EVENT_TYPE.fullmatch(title):
            continue
        rows = re.finditer(r"^\|\s*`([^`]+)`\s*\|[^|\n]*\|\s*([^|\n]*?)\s*\|", body, re.M)
        keys = {row.group(1): row.group(2) == "always" for row in rows}
        actor = re.search(r"^\*\*Actor role\*\*:(.*(?:\n(?!\n).*)*)", body, re.M)
        roles = set(re.findall(r"`([a-z_]+)`", actor.group(1))) if actor else set()
        example = re.search(r"^```json\n(.*?)\n```", body, re.S | re.M)
        found[title] = DocumentedEvent(
            title, keys, roles, json.loads(example.group(1)) if example else {}
        )
    return found


def test_every_event_type_has_a_section_and_no_other() -> None:
    documented = documented_events()
    expected = appended_event_types() | projected_event_types()
    assert sorted(expected - documented.keys()) == []
    assert sorted(documented.keys() - expected) == []


def test_every_event_section_has_its_keys_roles_and_an_example_that_agree() -> None:
    problems = []
    for event in documented_events().values():
        top = event.top()
        always = {key for key in top if event.keys[key]}
        if not top:
            problems.append(f"{event.type}: no payload table")
        if not event.roles:
            problems.append(f"{event.type}: no **Actor role**")
        if not always <= event.example.keys() <= top:
            problems.append(f"{event.type}: example keys {sorted(event.example)}, documented "
                            f"{sorted(top)}, always {sorted(always)}")  # fmt: skip
    assert problems == []


def test_the_example_event_line_hashes_to_its_hash() -> None:
    envelope = sections(EVENTS_MD, 2)["The envelope"]
    match = re.search(r"^```json\n(.*?)\n```", envelope, re.S | re.M)
    assert match is not None
    line = json.loads(match.group(1))
    assert set(line) == {"actor_role", "at", "chain", "hash", "height", "parent", "payload", "type"}
    event = Event(**{k: v for k, v in line.items() if k != "hash"})
    assert event_hash(event) == line["hash"]


def _paths(value: Any, prefix: str = "", depth: int = 0) -> set[str]:
    """A payload's keys: the top level's, and one level below (``a.b``, ``a[].b``)."""
    found: set[str] = set()
    if depth == 2:
        return found
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{prefix}.{key}" if prefix else key
            found.add(path)
            found |= _paths(item, path, depth + 1)
    elif isinstance(value, list) and prefix:
        for item in value:
            found |= _paths(item, f"{prefix}[]", depth)
    return found


# ---------------------------------------------------------------- a whole election over HTTP

WANG, LIU, LI, ZHANG = "王宁", "刘洋", "李娜", "张伟"  # ballot order (B1): 王 4, 刘 6, 李 7 strokes
WRITTEN_IN = "赵六"
YES, NO, ABSTAIN, BLANK, UNCLEAR = "yes", "no", "abstain", "blank", "unclear"
Papers = list[tuple[list[str], list[str]]]
# 王宁 6 of 8 present (threshold 5) is elected; 刘洋 2, 李娜 1, 赵六 (written in) 1: one seat short.
BATCH_1: Papers = [
    ([YES, NO, NO], [WRITTEN_IN]),
    ([YES, YES, NO], []),
    ([YES, NO, YES], []),
    ([YES, NO, ABSTAIN], []),
]
BATCH_1_SLIP: Papers = [*BATCH_1[:3], ([YES, NO, NO], [])]  # pass B reads the △ as ×
BATCH_2: Papers = [
    ([YES, NO, NO], []),
    ([NO, YES, NO], []),
    ([YES, UNCLEAR, NO], []),
    ([BLANK, BLANK, BLANK], []),
]


@dataclass(frozen=True)
class _Hall:
    api: Api
    settings: Settings
    election: int
    tellers: list[Api]
    teller_ids: list[int]
    chief: Api
    scrutineer: Api
    presidium: Api

    def batch(self, round_id: int, count: int) -> int:
        body = {"declared_count": count, "teller_a_id": self.teller_ids[0],
                "teller_b_id": self.teller_ids[1]}  # fmt: skip
        batch: int = expect(self.api.post(f"/api/rounds/{round_id}/batches", json=body), 201)["id"]
        return batch

    def enter(self, round_: dict[str, Any], batch: int, a: Papers, b: Papers, tag: str) -> None:
        payload = encode_payload(
            key=load_or_create_qr_key(self.settings.data_dir),
            election_id=self.election,
            round_number=round_["number"],
            definition_hash=round_["definition_hash"],
        )
        for entry_pass, papers, teller in zip("ab", (a, b), self.tellers, strict=True):
            for n, (marks, write_ins) in enumerate(papers):
                body = {
                    "idempotency_key": f"{tag}-{entry_pass}-{n}",
                    "qr_payload": payload,
                    "marks": dict(zip([WANG, LIU, LI], marks, strict=True)),
                    "write_ins": write_ins,
                    "void": None,
                }
                expect(teller.post(f"/api/batches/{batch}/papers", json=body), 201)

    def resolve(self, round_id: int, batch: int, final: Papers) -> None:
        queue = expect(self.scrutineer.get(f"/api/rounds/{round_id}/adjudication"), 200)
        item = next(b for b in queue["batches"] if b["batch_id"] == batch)
        assert item["records_needed"] == len(final)
        records = [
            {"marks": dict(zip([WANG, LIU, LI], marks, strict=True)), "write_ins": w, "void": None}
            for marks, w in final
        ]
        body = {"records": records, "reason": "监票人核对原票"}
        expect(self.scrutineer.post(f"/api/batches/{batch}/resolution", json=body), 200)


def whole_election(api: Api, settings: Settings) -> list[dict[str, Any]]:
    """One election through every kind of event: setup and its changes; round 1 void by an
    overcount while the quorum is missing, so its rerun waits; the rerun (round 2) voided by the
    presidium; round 3 counted with a discrepancy, unclear marks and a re-entry, decided, a
    written-in person ruled ineligible, a correction, signed, released; its supplementary round
    cancelled and the seats reduced. Returns the congress's events as a scrutineer reads them
    (paper records included)."""
    ready = make_ready_election(api, seats=2, candidates=[WANG, LIU, LI, ZHANG])  # 8 of 10 present
    congress, election = ready.congress.id, ready.election.id
    renamed = {"name": "第五次学生代表大会（正式）"}
    expect(api.patch(f"/api/congresses/{congress}", json=renamed), 200)
    expect(api.patch(f"/api/elections/{election}", json={"title": "主席团成员选举"}), 200)
    listed = expect(api.get(f"/api/elections/{election}/candidates"), 200)["candidates"]
    zhang = next(c["id"] for c in listed if c["name"] == ZHANG)
    expect(api.delete(f"/api/elections/{election}/candidates/{zhang}"), 204)
    auditor = make_official(api, congress, role="auditor", name="审计甲")
    expect(api.delete(f"/api/congresses/{congress}/officials/{auditor.id}"), 204)
    expect(api.delete(f"/api/congresses/{congress}/delegates/{ready.delegates[9].id}"), 204)
    teller_ids = [o.id for o in ready.officials["teller"][:2]]
    h = _Hall(
        api=api,
        settings=settings,
        election=election,
        tellers=[login_official(api, congress, i) for i in teller_ids],
        teller_ids=teller_ids,
        chief=login_official(api, congress, ready.officials["chief_scrutineer"][0].id),
        scrutineer=login_official(api, congress, ready.officials["scrutineer"][0].id),
        presidium=login_as(api, congress, "presidium"),
    )

    first = open_round(api, election)
    expect(api.post(f"/api/rounds/{first.id}/issuance", json={"printed": 10, "issued": 8}), 200)
    leaving = ready.delegates[0]
    expect(api.post(f"/api/congresses/{congress}/delegates/{leaving.id}/check-out"), 200)
    void = expect(api.post(f"/api/rounds/{first.id}/collection", json={"collected": 9}), 200)
    assert (void["void"], void["rerun"]) == (True, None)
    check_in(api, congress, [leaving])
    # Voting has begun: a teller's code needs a presidium member's confirmation.
    late = login_official(api, congress, ready.officials["teller"][2].id)
    expect(late.post("/api/auth/logout"), 204)

    second = open_round(api, election)
    issue_and_collect(api, second.id, printed=10, issued=8, collected=8)
    order = {"reason": "投票箱封条破损"}
    third: dict[str, Any] = expect(
        h.presidium.post(f"/api/rounds/{second.id}/void", json=order), 200
    )["rerun"]

    issue_and_collect(api, third["id"], printed=10, issued=8, collected=8)
    one = h.batch(third["id"], 4)
    h.enter(third, one, BATCH_1, BATCH_1_SLIP, "one")
    h.resolve(third["id"], one, [BATCH_1[3]])
    two = h.batch(third["id"], 4)
    h.enter(third, two, BATCH_2, BATCH_2, "two")
    expect(h.scrutineer.post(f"/api/batches/{two}/reentry", json={"reason": "重新录入"}), 200)
    h.enter(third, two, BATCH_2, BATCH_2, "two-again")
    h.resolve(third["id"], two, [([YES, ABSTAIN, NO], [])])
    decide = f"/api/rounds/{third['id']}/decide"
    expect(h.chief.post(decide), 200)
    ruling = {"name": WRITTEN_IN, "reason": "不具备被选举资格"}
    expect(h.presidium.post(f"/api/rounds/{third['id']}/ineligible", json=ruling), 200)
    expect(h.chief.post(decide), 200)
    correction = {"reason": "复核第 1 批", "batches": [one]}
    expect(h.presidium.post(f"/api/rounds/{third['id']}/correction", json=correction), 200)
    h.enter(third, one, BATCH_1, BATCH_1, "one-again")
    expect(h.chief.post(decide), 200)
    expect(h.chief.post(f"/api/rounds/{third['id']}/sign"), 200)
    expect(h.scrutineer.post(f"/api/rounds/{third['id']}/sign"), 200)
    expect(h.presidium.post(f"/api/rounds/{third['id']}/release"), 200)
    fourth = expect(h.presidium.post(f"/api/rounds/{third['id']}/follow-up", json={}), 201)
    assert (fourth["kind"], fourth["candidates"]) == ("supplementary", [LIU, LI])
    expect(h.presidium.post(f"/api/rounds/{fourth['id']}/cancel", json={"reason": "休会"}), 200)
    reduce = {"reason": "减少名额，不再选举"}
    expect(h.presidium.post(f"/api/elections/{election}/reduce-seats", json=reduce), 200)

    events: list[dict[str, Any]] = expect(h.chief.get(f"/api/congresses/{congress}/events"), 200)
    return events


def test_a_whole_election_appends_the_documented_payloads_and_the_rows_they_project(
    api: Api, settings: Settings, app: FastAPI
) -> None:
    events = whole_election(api, settings)
    documented = documented_events()
    payloads: dict[str, list[dict[str, Any]]] = {}
    roles: dict[str, set[str]] = {}
    for event in events:
        payloads.setdefault(event["type"], []).append(event["payload"])
        roles.setdefault(event["type"], set()).add(event["actor_role"])
    # The run reaches every type the code appends: a type it stops producing is noticed here.
    assert sorted(appended_event_types() - payloads.keys()) == []
    problems = []
    for kind, real in sorted(payloads.items()):
        doc = documented[kind]
        keys = set().union(*(p.keys() for p in real))
        if keys != doc.top():
            problems.append(f"{kind}: payload keys {sorted(keys)}, documented {sorted(doc.top())}")
        for payload in real:
            missing = {k for k in doc.top() if doc.keys[k]} - payload.keys()
            if missing:
                problems.append(f"{kind}: documented as always there, missing {sorted(missing)}")
        nested = set().union(*(_paths(p) for p in real)) - keys
        undocumented = sorted(path for path in nested if not doc.documents(path))
        if undocumented:
            problems.append(f"{kind}: undocumented keys {undocumented}")
        if not roles[kind] <= doc.roles:
            problems.append(f"{kind}: actor roles {sorted(roles[kind])}, documented "
                            f"{sorted(doc.roles)}")  # fmt: skip
    assert problems == []
    # The services wrote their rows beside these events; the consistency check derives the rows
    # from the events alone (app/audit/consistency.py: which rows each event type produces, said
    # once). Reaching every type, this run holds every service's rows to that one statement.
    (congress_id,) = [
        e["payload"]["congress_id"] for e in events if e["type"] == "congress.created"
    ]
    with app.state.sessionmaker.begin() as session:
        consistency = check_congress(session, congress_id=congress_id)
    assert consistency.ok, (consistency.chain_problems, consistency.mismatches)
