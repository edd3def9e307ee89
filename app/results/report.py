"""The content of the result report (选举结果报告单, RULES.md C4), as pure data.

``compose_report`` turns a decided round and the report's descriptive figures into the lines that
``app.results.report_pdf`` draws: every count in digits and in capital numerals, invalid papers by
rule, every person (listed and written in) by yes votes with ties in stroke order (M11), the elected
in stroke order, the follow-up round, the signature roles, the event-log head hash and the
installation's public-key fingerprint. Pure: standard library and ``app.rules`` only.
"""

import datetime
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from app.results.numerals import capital_numeral
from app.rules.decide import (
    RoundResult,
)
from app.rules.model import RoundKind
from app.rules.ordering import by_votes
from app.rules.roundfile import (
    RoundFileError,
    RoundInput,
    count_round_input,
    parse_round,
    round_result_json,
)
from app.rules.tally import PersonTally
from app.rules.words import INVALID_REASON

HashSource = Literal["event_log", "round_file"]


class ReportInputError(ValueError):
    """The report's figures are inconsistent (e.g. more papers issued than printed)."""


@dataclass(frozen=True, slots=True)
class Officials:
    """Names printed under the signature lines; ``None`` (or a missing entry) is a blank line."""

    chief_scrutineer: str | None = None
    scrutineers: tuple[str | None, ...] = ()
    chief_teller: str | None = None
    tellers: tuple[str | None, ...] = ()

    def names_for(self, role: str) -> tuple[str | None, ...]:
        match role:
            case "chief_scrutineer":
                return (self.chief_scrutineer,)
            case "scrutineer":
                return self.scrutineers
            case "chief_teller":
                return (self.chief_teller,)
            case "teller":
                return self.tellers
        raise ValueError(f"unknown signature role {role!r}")


SIGNATURE_ROLES = ("chief_scrutineer", "scrutineer", "chief_teller", "teller")
_ISO_DATE = re.compile("[0-9]{4}-[0-9]{2}-[0-9]{2}")


@dataclass(frozen=True, slots=True)
class SignedBy:
    """A signature made in the service (``round.signed``): who, when, with which session, and how
    that session's login code was issued (issue 20 item 3)."""

    role: str
    name: str | None
    signed_at: str
    session_id: int | None
    code_issued_at: str | None = None
    code_issued_by: str | None = None
    confirmed_by: str | None = None  # the presidium member who confirmed the code, if any

    def line_zh(self, role_zh: str) -> str:
        who = f"{role_zh} {self.name or ''}".strip()
        session = "未记录会话" if self.session_id is None else f"会话 {self.session_id}"
        line = f"{who}：{self.signed_at} 签字（{session}）"
        if self.code_issued_at is not None:
            issuer = "大会秘书处" if self.code_issued_by == "admin" else (self.code_issued_by or "")
            line += f"；登录码 {self.code_issued_at} 由{issuer}签发"
            line += f"，主席团成员 {self.confirmed_by} 确认" if self.confirmed_by else "，无需确认"
        return line

    def line_en(self) -> str:
        session = "no session recorded" if self.session_id is None else f"session {self.session_id}"
        line = f"{self.role} {self.name or ''}: signed {self.signed_at} ({session})"
        if self.code_issued_at is not None:
            line += f"; code issued {self.code_issued_at} by {self.code_issued_by}"
            line += f", confirmed by {self.confirmed_by}" if self.confirmed_by else ""
        return line


@dataclass(frozen=True, slots=True)
class ReportInput:
    """What the report needs besides the engine's result: who, when, and the papers printed."""

    congress: str
    election_title: str
    round_number: int
    round_kind: RoundKind
    date: datetime.date
    printed: int
    result: RoundResult
    head_hash: str
    public_key_fingerprint: str | None = None
    officials: Officials = Officials()
    hash_source: HashSource = "event_log"
    """``round_file``: no event log exists (``jipiao report``); the hash is the round file's."""
    history: tuple[tuple[str, str], ...] = ()
    """(zh, en) lines: the round's earlier decisions and the presidium's decisions on it (C2)."""
    signed: tuple[SignedBy, ...] = ()
    """The signatures made in the service, with their sessions (issue 20 item 3)."""


@dataclass(frozen=True, slots=True)
class CountLine:
    """One figure of the report: label, the number, and the number in capital numerals."""

    key: str
    label_zh: str
    label_en: str
    value: int
    capital: str


@dataclass(frozen=True, slots=True)
class PersonLine:
    rank: int
    name: str
    write_in: bool
    yes: int
    no: int
    abstain: int
    majority: bool
    elected: bool


@dataclass(frozen=True, slots=True)
class SignatureLine:
    role: str
    name: str | None


@dataclass(frozen=True, slots=True)
class ResultReport:
    congress: str
    election_title: str
    round_number: int
    round_kind: RoundKind
    date: datetime.date
    counts: tuple[CountLine, ...]
    invalid_by_rule: tuple[CountLine, ...]
    threshold: CountLine | None
    """The majority threshold (M2); ``None`` in a tie round, decided by plurality (M7)."""
    rule_zh: str
    rule_en: str
    """How the round's persons are elected: 得赞成票超过半数 (M2) or 得赞成票多者当选 (M7)."""
    persons: tuple[PersonLine, ...]
    elected: tuple[str, ...]
    outcome_zh: str
    outcome_en: str
    follow_up_zh: str | None
    follow_up_en: str | None
    signatures: tuple[SignatureLine, ...]
    head_hash: str
    public_key_fingerprint: str | None
    hash_source: HashSource
    history: tuple[tuple[str, str], ...] = ()
    signed: tuple[SignedBy, ...] = ()


ROUND_KIND_ZH: dict[RoundKind, str] = {
    "regular": "正式选举",
    "tie": "票数相等重新投票",
    "supplementary": "另行选举",
    "rerun": "重新选举",
}


def _line(key: str, label_zh: str, label_en: str, value: int) -> CountLine:
    return CountLine(key, label_zh, label_en, value, capital_numeral(value))


def ranked_persons(result: RoundResult) -> tuple[PersonTally, ...]:
    """Every person (listed and written in) by yes votes, ties in stroke order (M11)."""
    persons = {person.name: person for person in result.tally.persons}
    order = by_votes(
        [(person.name, person.yes) for person in result.tally.persons],
        result.definition.profile.name_order,
    )
    return tuple(persons[name] for name, _ in order)


def outcome_text(result: RoundResult) -> tuple[str, str, str | None, str | None]:
    """(outcome zh, outcome en, follow-up zh, follow-up en) of a decided round."""
    return outcome_text_of(round_result_json(result))


def outcome_text_of(result: Mapping[str, Any]) -> tuple[str, str, str | None, str | None]:
    """``outcome_text`` of a decision as recorded (``round_result_json``, the ``result`` of
    ``round.decided``): the report and the console's pages word an outcome alike."""
    outcome = result["round"]["outcome"]
    elected_zh = "、".join(result["elected"])
    elected_en = ", ".join(result["elected"])
    nxt = result["next_round"]
    follow_zh = None if nxt is None else _follow_up_zh(nxt["kind"], nxt["seats"], nxt["candidates"])
    follow_en = None if nxt is None else _follow_up_en(nxt["kind"], nxt["seats"], nxt["candidates"])
    match outcome:
        case "quorum_not_met":
            required = result["quorum"]["required"]
            return (
                f"不足法定人数（至少 {required} 人），选举不能进行",
                f"quorum not met (needs {required}): no election held",
                None,
                None,
            )
        case "void":
            return (
                "收回选票多于实到人数（或发出选票数），本轮选举无效",
                "more papers collected than present (or issued): the round is void",
                follow_zh,
                follow_en,
            )
        case "seats_filled":
            return (
                f"{elected_zh} 当选，名额已满",
                f"elected: {elected_en}; seats filled",
                None,
                None,
            )
        case "tie_round" | "supplementary_round":
            return (
                f"{elected_zh} 当选" if elected_zh else "本轮无人当选",
                f"elected: {elected_en}" if elected_en else "nobody elected in this round",
                follow_zh,
                follow_en,
            )
        case "seats_vacant":
            vacant = result["vacant"]
            return (
                (f"{elected_zh} 当选；" if elected_zh else "") + f"空缺 {vacant} 名",
                (f"elected: {elected_en}; " if elected_en else "") + f"{vacant} vacant",
                None,
                None,
            )
    raise ValueError(f"unknown outcome {outcome!r}")


BASE_KIND_ZH = {
    "present": "实到人数",
    "delegates_total": "应到人数",
    "collected": "收回选票数",
    "valid_papers": "有效票数",
}


def election_rule(result: RoundResult) -> tuple[CountLine | None, str, str]:
    """(threshold line or None, rule zh, rule en): the rule the round was decided by.

    A tie round is decided by plurality (M7): its persons already had a majority, so it applies
    no threshold and the report prints none.
    """
    return election_rule_of(round_result_json(result))


def election_rule_of(result: Mapping[str, Any]) -> tuple[CountLine | None, str, str]:
    """``election_rule`` of a decision as recorded (``round_result_json``)."""
    if result["round"]["kind"] == "tie":
        return None, "得赞成票多者当选（M7）", "most yes votes elected (M7)"
    majority = result["majority"]
    base_kind, base = majority["base_kind"], majority["base"]
    base_zh = BASE_KIND_ZH.get(base_kind, base_kind)
    return (
        _line("threshold", "当选最低票数（过半数）", "majority threshold", majority["threshold"]),
        f"得赞成票超过半数者当选（M2），以{base_zh} {base} 为基数",
        f"elected with more than half of the base (M2): {base_kind} {base}",
    )


def _follow_up_zh(kind: str, seats: int, candidates: Sequence[str]) -> str:
    label = {"tie": "票数相等者重新投票", "supplementary": "另行选举", "rerun": "重新选举"}[kind]
    return f"须{label}：应选 {seats} 名，候选人 {'、'.join(candidates)}"


def _follow_up_en(kind: str, seats: int, candidates: Sequence[str]) -> str:
    label = {"tie": "tie round", "supplementary": "supplementary round", "rerun": "rerun"}[kind]
    return f"{label} for {seats} seat(s): {', '.join(candidates)}"


def compose_report(
    report: ReportInput, signature_counts: Sequence[tuple[str, int]] = ()
) -> ResultReport:
    """The report's content (C4) for one decided round.

    ``signature_counts`` gives, per role in printing order, how many signature lines the layout
    wants (``("scrutineer", 2)``); more names than lines print every name, fewer leave blank lines.
    Edge: a round void by overcount (I2) or below quorum (Q1) still gets its report, with nobody
    elected and the rerun named.
    """
    result = report.result
    attendance = result.attendance
    if report.printed < attendance.issued:
        raise ReportInputError(
            f"printed: {report.printed} papers printed but {attendance.issued} issued"
        )
    if report.round_number < 1:
        raise ReportInputError(f"round: must be at least 1, got {report.round_number}")
    threshold, rule_zh, rule_en = election_rule(result)
    outcome_zh, outcome_en, follow_zh, follow_en = outcome_text(result)
    return ResultReport(
        congress=report.congress,
        election_title=report.election_title,
        round_number=report.round_number,
        round_kind=report.round_kind,
        date=report.date,
        counts=_count_lines(report),
        invalid_by_rule=tuple(
            _line(rule, INVALID_REASON[rule][0], rule, count)
            for rule, count in result.tally.papers.invalid_by_rule.items()
        ),
        threshold=threshold,
        rule_zh=rule_zh,
        rule_en=rule_en,
        persons=_person_lines(result),
        elected=result.elected,
        outcome_zh=outcome_zh,
        outcome_en=outcome_en,
        follow_up_zh=follow_zh,
        follow_up_en=follow_en,
        signatures=_signature_lines(report.officials, signature_counts),
        head_hash=report.head_hash,
        public_key_fingerprint=report.public_key_fingerprint,
        hash_source=report.hash_source,
        history=report.history,
        signed=report.signed,
    )


def _count_lines(report: ReportInput) -> tuple[CountLine, ...]:
    """一、 the round's figures, each with its capital numeral."""
    attendance = report.result.attendance
    papers = report.result.tally.papers
    return (
        _line("seats", "应选名额", "seats", report.result.definition.seats),
        _line("delegates_total", "应到人数", "delegates", attendance.delegates_total),
        _line("present", "实到人数", "present", attendance.present),
        _line("printed", "印制选票", "papers printed", report.printed),
        _line("issued", "发出选票", "papers issued", attendance.issued),
        _line(
            "remaining",
            "剩余选票（当众销毁）",
            "remaining (destroyed)",
            report.printed - attendance.issued,
        ),
        _line("collected", "收回选票", "papers collected", attendance.collected),
        _line("valid", "有效票", "valid papers", papers.valid),
        _line("invalid", "无效票", "invalid papers", papers.invalid),
    )


def _person_lines(result: RoundResult) -> tuple[PersonLine, ...]:
    """二、 every person by yes votes (M11), with a majority (M2) and elected mark."""
    elected = set(result.elected)
    return tuple(
        PersonLine(
            rank=index,
            name=person.name,
            write_in=person.write_in,
            yes=person.yes,
            no=person.no,
            abstain=person.abstain,
            majority=result.valid and 2 * person.yes > result.majority.base,
            elected=person.name in elected,
        )
        for index, person in enumerate(ranked_persons(result), start=1)
    )


def _signature_lines(
    officials: Officials, signature_counts: Sequence[tuple[str, int]]
) -> tuple[SignatureLine, ...]:
    """The layout's lines per role, every name printed (blank lines where names run out)."""
    signatures: list[SignatureLine] = []
    for role, wanted in signature_counts:
        names = officials.names_for(role)
        for index in range(max(wanted, len(names))):
            signatures.append(SignatureLine(role, names[index] if index < len(names) else None))
    return tuple(signatures)


def round_file_hash(data: object) -> str:
    """SHA-256 of the round file's canonical JSON (sorted keys, no spaces, UTF-8)."""
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _descriptive_text(data: dict[str, object], key: str, default: str) -> str:
    value = data.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool) and key == "election":
        return default
    if not isinstance(value, str):
        raise RoundFileError(f"{key}: must be a string")
    return value.strip()


def report_input_from_round_file(
    data: object,
    *,
    printed: int | None = None,
    head_hash: str | None = None,
    public_key_fingerprint: str | None = None,
    officials: Officials = Officials(),
    today: datetime.date,
) -> tuple[ReportInput, RoundInput]:
    """Count a ROUND.json (``jipiao tally`` format) and gather the report's descriptive figures.

    Descriptive keys used: ``title`` (else a string ``election``), ``congress``, ``round`` (default
    1), ``date`` (ISO ``YYYY-MM-DD``, default ``today``). ``printed`` defaults to the papers issued.
    Without ``head_hash`` the report carries the round file's SHA-256 and says so (no event log).
    Raises ``RoundFileError`` naming the field.
    """
    round_input = parse_round(data)
    result = count_round_input(round_input)
    assert isinstance(data, dict)  # parse_round checked it
    title = _descriptive_text(data, "title", "") or _descriptive_text(data, "election", "选举")
    congress = _descriptive_text(data, "congress", "")
    round_number = data.get("round", 1)
    if isinstance(round_number, bool) or not isinstance(round_number, int) or round_number < 1:
        raise RoundFileError(f"round: must be a positive integer, got {round_number!r}")
    raw_date = data.get("date")
    if raw_date is None:
        date = today
    else:
        # Only YYYY-MM-DD as a string: fromisoformat also reads "20260501", and str() made the
        # number 20260501 a date.
        if not isinstance(raw_date, str) or not _ISO_DATE.fullmatch(raw_date):
            raise RoundFileError(f"date: must be YYYY-MM-DD, got {raw_date!r}")
        try:
            date = datetime.date.fromisoformat(raw_date)
        except ValueError:
            raise RoundFileError(f"date: must be YYYY-MM-DD, got {raw_date!r}") from None
    issued = result.attendance.issued
    if printed is None:
        printed = issued
    if printed < issued:
        raise RoundFileError(f"printed: {printed} papers printed but {issued} issued")
    return (
        ReportInput(
            congress=congress,
            election_title=title,
            round_number=round_number,
            round_kind=round_input.definition.kind,
            date=date,
            printed=printed,
            result=result,
            head_hash=head_hash or round_file_hash(data),
            public_key_fingerprint=public_key_fingerprint,
            officials=officials,
            hash_source="event_log" if head_hash else "round_file",
        ),
        round_input,
    )
