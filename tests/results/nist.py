"""Validation of the NIST exports against the official schemas (``schemas/``, origin in its README).

``problems(kind, document)`` lists everything wrong with a document, readably:

- JSON Schema draft-04 errors (``Draft4Validator``, the draft the files declare), with formats
  checked: ``date``, ``date-time`` and ``time`` (RFC 3339; ``jsonschema`` checks none of them for
  draft-04 without optional packages, so they are checked here);
- for a ``oneOf`` (e.g. a contest that is a ``CandidateContest`` or a ``RetentionContest``), the
  errors of the branch named by the object's ``@type``, instead of "not valid under any";
- references: ``@id`` unique in the document, and every property the schema marks with
  ``refTypes`` (``ElectionDistrictId``, ``CandidateIds``, ``CurrentSnapshotId``…) names an ``@id``
  of an object of one of those types.
"""

import datetime
import json
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any, Literal

from jsonschema import Draft4Validator, FormatChecker
from jsonschema.exceptions import ValidationError

SCHEMAS = Path(__file__).parent / "schemas"
FILES = {
    "err": "NIST_V2_election_results_reporting.json",
    "cvr": "NIST_V0_cast_vote_records.json",
}
Kind = Literal["err", "cvr"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIME = re.compile(r"\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")

FORMATS = FormatChecker(formats=())


@FORMATS.checks("date", raises=ValueError)
def _is_date(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_DATE.fullmatch(value)) and bool(datetime.date.fromisoformat(value))


@FORMATS.checks("date-time", raises=ValueError)
def _is_date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    date, _, time = value.partition("T")
    if not (_DATE.fullmatch(date) and _TIME.fullmatch(time)):
        return False
    return datetime.datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("time", raises=ValueError)
def _is_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return bool(_TIME.fullmatch(value)) and bool(datetime.time.fromisoformat(value))


@cache
def schema(kind: Kind) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((SCHEMAS / FILES[kind]).read_text(encoding="utf-8"))
    return loaded


@cache
def validator(kind: Kind) -> Draft4Validator:
    document = schema(kind)
    assert document["$schema"] == "http://json-schema.org/draft-04/schema#"
    Draft4Validator.check_schema(document)
    return Draft4Validator(document, format_checker=FORMATS)


def _leaves(error: ValidationError, instance: object) -> Iterator[ValidationError]:
    """The errors under a ``oneOf``/``anyOf`` branch chosen by the instance's ``@type``."""
    if not error.context:
        yield error
        return
    wanted = instance.get("@type") if isinstance(instance, dict) else None
    branches: dict[int, list[ValidationError]] = {}
    for sub in error.context:
        branches.setdefault(int(sub.schema_path[0]), []).append(sub)
    chosen = None
    for index, subs in branches.items():
        ref = error.schema[error.validator][index].get("$ref", "")
        if wanted is not None and ref.endswith(f"/{wanted}"):
            chosen = subs
    if chosen is None:
        yield error
        return
    for sub in chosen:
        yield from _leaves(sub, sub.instance)


def _ref_types(kind: Kind) -> dict[str, dict[str, list[str]]]:
    """For each ``@type``, its properties that reference ``@id`` values, with the allowed types."""
    found: dict[str, dict[str, list[str]]] = {}
    for name, definition in schema(kind)["definitions"].items():
        for prop, spec in definition.get("properties", {}).items():
            types = spec.get("refTypes") or spec.get("items", {}).get("refTypes")
            if types:
                found.setdefault(name, {})[prop] = types
    return found


def _objects(value: object) -> Iterator[dict[str, Any]]:
    if isinstance(value, dict):
        yield value
        for item in value.values():
            yield from _objects(item)
    elif isinstance(value, list):
        for item in value:
            yield from _objects(item)


def _reference_problems(kind: Kind, document: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    ids: dict[str, str] = {}
    for obj in _objects(document):
        if "@id" in obj:
            if obj["@id"] in ids:
                problems.append(f"@id {obj['@id']!r} is not unique")
            ids[obj["@id"]] = obj.get("@type", "")
    refs = _ref_types(kind)
    for obj in _objects(document):
        for prop, types in refs.get(obj.get("@type", ""), {}).items():
            if prop not in obj:
                continue
            values = obj[prop] if isinstance(obj[prop], list) else [obj[prop]]
            for value in values:
                if value not in ids:
                    problems.append(f"{obj['@type']}.{prop} {value!r} names no @id")
                elif ids[value] not in types:
                    problems.append(f"{obj['@type']}.{prop} {value!r} is a {ids[value]}")
    return problems


def problems(kind: Kind, document: dict[str, Any]) -> list[str]:
    found = [
        f"{'/'.join(map(str, leaf.absolute_path))}: {leaf.message}"
        for error in validator(kind).iter_errors(document)
        for leaf in _leaves(error, error.instance)
    ]
    return found + _reference_problems(kind, document)


def assert_valid(kind: Kind, document: dict[str, Any]) -> None:
    found = problems(kind, document)
    assert not found, f"{len(found)} problem(s): {found[:8]}"
