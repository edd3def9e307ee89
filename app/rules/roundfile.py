"""The public ROUND.json contract of ``jipiao tally`` (auditors script against it).

Input::

    {"seats": 3, "candidates": ["王宁", ...], "delegates_total": 189, "present": 180,
     "issued": 180, "collected": 180, "round_kind": "regular", "profile": {"quorum": "4/5"},
     "ineligible": [], "papers": [{"marks": {"王宁": "yes"}, "write_ins": ["李四"], "void": null}]}

``issued`` defaults to ``present``; ``round_kind`` to ``regular``; a candidate missing from a
paper's ``marks`` is blank; a write-in ``null`` is a name that cannot be read (P7). Marks are
``yes``/``no``/``abstain``/``blank``/``illegible``; ``unclear`` must be adjudicated first (P6).
Descriptive keys (``title``, ``election``, ``round``, ``date``, ``congress``, ``note``, ``layout``)
are accepted and ignored by the count; any other key is an error, so a typo cannot silently fall
back to a default.

Output: see ``result_to_json``; the keys named in the contract are stable.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, assert_never, cast

from app.rules.by_name import PaperNameError, check_write_in_boxes, marks_in_ballot_order
from app.rules.decide import (
    Outcome,
    QuorumNotMet,
    RoundResult,
    RoundVoid,
    SeatsFilled,
    SeatsLeftVacant,
    SupplementaryNeeded,
    TieRoundNeeded,
    count_round,
)
from app.rules.model import (
    MARKS,
    ROUND_KINDS,
    VOID_RULES,
    Attendance,
    Mark,
    PaperRecord,
    RoundDefinition,
    RoundInputError,
    TraceEntry,
    VoidRule,
    WriteIn,
    normalize_name,
)
from app.rules.ordering import stroke_order
from app.rules.profiles import ProfileError, parse_profile

DESCRIPTIVE_KEYS = frozenset({"title", "election", "round", "date", "congress", "note", "layout"})
ROUND_KEYS = frozenset(
    {
        "seats",
        "candidates",
        "delegates_total",
        "present",
        "issued",
        "collected",
        "round_kind",
        "profile",
        "ineligible",
        "papers",
    }
)
PAPER_KEYS = frozenset({"marks", "write_ins", "void"})


class RoundFileError(ValueError):
    """A round file that cannot be counted; the message names the field or paper index."""


@dataclass(frozen=True, slots=True)
class RoundInput:
    definition: RoundDefinition
    attendance: Attendance
    papers: tuple[PaperRecord, ...]
    ordering_trace: tuple[TraceEntry, ...]


def _int(data: Mapping[str, Any], key: str, *, default: int | None = None) -> int:
    if key not in data:
        if default is not None:
            return default
        raise RoundFileError(f"{key}: missing (required integer)")
    value = data[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise RoundFileError(f"{key}: must be an integer, got {value!r}")
    if value < 0:
        raise RoundFileError(f"{key}: must not be negative, got {value}")
    return value


def _names(data: Mapping[str, Any], key: str, *, required: bool) -> list[str]:
    if key not in data:
        if required:
            raise RoundFileError(f"{key}: missing (required list of names)")
        return []
    value = data[key]
    if not isinstance(value, list):
        raise RoundFileError(f"{key}: must be a list of names")
    for index, name in enumerate(value):
        if not isinstance(name, str) or not normalize_name(name):
            raise RoundFileError(f"{key}[{index}]: must be a non-empty name, got {name!r}")
    return value


def parse_round(data: object) -> RoundInput:
    """Check and convert a decoded ROUND.json; raise RoundFileError naming the bad field."""
    if not isinstance(data, dict):
        raise RoundFileError("the round file must be a JSON object")
    unknown = set(data) - ROUND_KEYS - DESCRIPTIVE_KEYS
    if unknown:
        raise RoundFileError(f"{sorted(unknown)[0]}: unknown key")
    kind = data.get("round_kind", "regular")
    if kind not in ROUND_KINDS:
        raise RoundFileError(f"round_kind: must be one of {', '.join(ROUND_KINDS)}, got {kind!r}")
    profile_data = data.get("profile", {})
    if not isinstance(profile_data, dict):
        raise RoundFileError("profile: must be an object of options")
    try:
        profile = parse_profile(profile_data)
    except ProfileError as exc:
        raise RoundFileError(f"profile.{exc.option}: {exc.message_en}") from None

    seats = _int(data, "seats")
    candidates = _names(data, "candidates", required=True)
    ineligible = _names(data, "ineligible", required=False)
    present = _int(data, "present")
    try:
        attendance = Attendance(
            delegates_total=_int(data, "delegates_total"),
            present=present,
            issued=_int(data, "issued", default=present),
            collected=_int(data, "collected"),
        )
        ballot, ordering_trace = stroke_order(candidates, profile.name_order)
        definition = RoundDefinition(
            seats=seats,
            candidates=ballot,
            kind=kind,
            profile=profile,
            ineligible=frozenset(normalize_name(name) for name in ineligible),
        )
    except RoundInputError as exc:
        rule = f" ({exc.rule})" if exc.rule else ""
        raise RoundFileError(f"{exc.field}: {exc.message_en}{rule}") from None
    papers = data.get("papers", [])
    if not isinstance(papers, list):
        raise RoundFileError("papers: must be a list")
    records = tuple(_paper(definition, index, paper) for index, paper in enumerate(papers))
    return RoundInput(definition, attendance, records, tuple(ordering_trace))


def _paper(definition: RoundDefinition, index: int, data: object) -> PaperRecord:
    where = f"papers[{index}]"
    if not isinstance(data, dict):
        raise RoundFileError(f"{where}: must be an object")
    unknown = set(data) - PAPER_KEYS
    if unknown:
        raise RoundFileError(f"{where}.{sorted(unknown)[0]}: unknown key")
    marks_data = data.get("marks", {})
    if not isinstance(marks_data, dict):
        raise RoundFileError(f"{where}.marks: must be an object of candidate: mark")
    for name, mark in marks_data.items():
        if mark == "unclear":
            raise RoundFileError(
                f"{where}.marks.{name}: 'unclear' must be adjudicated first (P6): "
                "yes, no, abstain or illegible"
            )
        if mark not in MARKS:
            raise RoundFileError(
                f"{where}.marks.{name}: unknown mark {mark!r}; one of {', '.join(MARKS)}"
            )
    write_ins_data = data.get("write_ins", [])
    if not isinstance(write_ins_data, list):
        raise RoundFileError(f"{where}.write_ins: must be a list of names")
    write_ins: list[WriteIn] = []
    for w, name in enumerate(write_ins_data):
        if name is not None and (not isinstance(name, str) or not normalize_name(name)):
            raise RoundFileError(
                f"{where}.write_ins[{w}]: must be a name, or null for an illegible name"
            )
        write_ins.append(name)
    try:  # the reading a tablet's entry gets too (app.rules.by_name)
        marks = cast(list[Mark], marks_in_ballot_order(definition, marks_data))
        check_write_in_boxes(definition, write_ins)
    except PaperNameError as exc:
        raise RoundFileError(f"{where}.{exc.where}: {exc.message_en}") from None
    void = data.get("void")
    if void is not None and void not in VOID_RULES:
        raise RoundFileError(f"{where}.void: must be one of {', '.join(VOID_RULES)} or null")
    void_rule: VoidRule | None = void
    return PaperRecord(tuple(marks), tuple(write_ins), void_rule)


def count_round_input(round_input: RoundInput) -> RoundResult:
    """Count a parsed round file; an inconsistency found while counting becomes RoundFileError."""
    try:
        return count_round(round_input.definition, round_input.attendance, round_input.papers)
    except RoundInputError as exc:
        rule = f" ({exc.rule})" if exc.rule else ""
        raise RoundFileError(f"{exc.field}: {exc.message_en}{rule}") from None


def result_to_json(result: RoundResult, round_input: RoundInput) -> dict[str, Any]:
    """The output contract of ``jipiao tally``: the round's result, the ordering warnings of the
    file's names, and the index of every invalid paper in the file."""
    judgements = result.tally.judgements
    output = round_result_json(result)
    output["papers"]["invalid_papers"] = [
        {"index": index, "rules": list(judgements[paper].violations)}
        for index, paper in enumerate(round_input.papers)
        if not judgements[paper].valid
    ]
    output["trace"] = _trace_json(round_input.ordering_trace) + output["trace"]
    return output


def _trace_json(trace: tuple[TraceEntry, ...]) -> list[dict[str, str]]:
    return [
        {"rule": entry.rule, "message": entry.message_zh, "message_en": entry.message_en}
        for entry in trace
    ]


def _outcome_json(outcome: Outcome) -> tuple[str | None, str]:
    """(the rule that voids the round or None, the outcome's name) as the JSON says them."""
    match outcome:
        case QuorumNotMet():
            return "Q1", "quorum_not_met"
        case RoundVoid():
            return "I2", "void"
        case SeatsFilled():
            return None, "seats_filled"
        case TieRoundNeeded():
            return None, "tie_round"
        case SupplementaryNeeded():
            return None, "supplementary_round"
        case SeatsLeftVacant():
            return None, "seats_vacant"
        case _:
            assert_never(outcome)


def round_result_json(result: RoundResult) -> dict[str, Any]:
    """A decided round as JSON, without anything about the order papers were entered in."""
    outcome = result.outcome
    void_rule, status = _outcome_json(outcome)
    papers = result.tally.papers
    next_round = result.next_round
    return {
        "quorum": {"met": result.quorum.met, "required": result.quorum.required},
        "round": {
            "valid": result.valid,
            "void_rule": void_rule,
            "kind": result.definition.kind,
            "seats": result.definition.seats,
            "outcome": status,
        },
        "papers": {
            "entered": papers.entered,
            "valid": papers.valid,
            "invalid": papers.invalid,
            "invalid_by_rule": dict(papers.invalid_by_rule),
        },
        "majority": {
            "base": result.majority.base,
            "base_kind": result.majority.base_kind,
            "threshold": result.majority.threshold,
        },
        "tallies": [
            {
                "name": person.name,
                "write_in": person.write_in,
                "yes": person.yes,
                "no": person.no,
                "abstain": person.abstain,
            }
            for person in result.tally.persons
        ],
        "elected": list(result.elected),
        "vacant": outcome.vacant if isinstance(outcome, SeatsLeftVacant) else 0,
        "next_round": None
        if next_round is None
        else {
            "kind": next_round.kind,
            "seats": next_round.seats,
            "candidates": list(next_round.candidates),
        },
        "trace": _trace_json(result.trace),
    }
