"""Exports of an election's results: JSON, CSV, XLSX, NIST SP 1500-100 (ERR) and SP 1500-103 (CVR).

An ``ElectionRecord`` holds every round of one election (its number, kind, decided result and the
entered papers). The election's result is the union of every round's elected persons, each with the
round that elected them (M9).

NIST SP 1500-100 v2 Election Results Reporting and SP 1500-103 v1 Cast Vote Records (JSON), valid
against the official schemas of 2019-12-16 and 2019-07-08 (``tests/results/schemas/``). The mapping
of our concepts to the NIST vocabulary, what is left out and why: ``docs/exports.md``. In short,
ERR: each round is its own ``CandidateContest`` counted in its own ``ReportingUnit`` (yes =
``total``, no/abstain = ``other``); CVR: per printed candidate a ``RetentionContest`` with
selections yes/no/abstain, the 另选他人 boxes a ``CandidateContest``, one ``CVR`` per paper.

Secrecy (PRODUCT.md): papers are listed in a cryptographically random order (``secrets``), per
round, and carry no identifier of a paper (no ``BallotAuditId``/``UniqueId``/batch/device); the
snapshot ``@id`` the schema requires is the paper's place in that shuffled list.
"""

import csv
import datetime
import io
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, assert_never

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from app.results.report import ROUND_KIND_ZH, outcome_text, ranked_persons
from app.rules.decide import (
    QuorumNotMet,
    RoundResult,
    RoundVoid,
    SeatsFilled,
    SeatsLeftVacant,
    SupplementaryNeeded,
    TieRoundNeeded,
)
from app.rules.model import Mark, PaperRecord, RoundKind, RuleId, normalize_name
from app.rules.ordering import stroke_order
from app.rules.validity import PaperJudgement

VENDOR = "jipiao"
ROUND_KIND_EN: dict[RoundKind, str] = {
    "regular": "regular round",
    "tie": "tie round",
    "supplementary": "supplementary round",
    "rerun": "rerun",
}


@dataclass(frozen=True, slots=True)
class RoundRecord:
    number: int
    kind: RoundKind
    result: RoundResult
    papers: tuple[PaperRecord, ...]


@dataclass(frozen=True, slots=True)
class ElectionRecord:
    election_id: str
    title: str
    title_en: str
    congress: str
    date: datetime.date
    rounds: tuple[RoundRecord, ...]


@dataclass(frozen=True, slots=True)
class ElectedPerson:
    name: str
    round_number: int


def elected_across_rounds(record: ElectionRecord) -> tuple[ElectedPerson, ...]:
    """M9: the union of every round's elected persons, each with the round that elected them.

    Listed in stroke order (M11: lists of elected persons). Edge: a person elected twice (not
    possible under the rules, but a hand-made record could say so) keeps the first round.
    """
    first: dict[str, int] = {}
    for round_record in record.rounds:
        for name in round_record.result.elected:
            first.setdefault(name, round_record.number)
    if not record.rounds:
        return ()
    order = record.rounds[0].result.definition.profile.name_order
    ordered, _ = stroke_order(list(first), order)
    return tuple(ElectedPerson(name, first[name]) for name in ordered)


def _status(result: RoundResult) -> str:
    outcome = result.outcome
    match outcome:
        case QuorumNotMet():
            return "quorum_not_met"
        case RoundVoid():
            return "void"
        case SeatsFilled():
            return "seats_filled"
        case TieRoundNeeded():
            return "tie_round"
        case SupplementaryNeeded():
            return "supplementary_round"
        case SeatsLeftVacant():
            return "seats_vacant"
        case _:
            assert_never(outcome)


def _advanced(result: RoundResult) -> frozenset[str]:
    next_round = result.next_round
    if next_round is None or next_round.kind == "rerun":
        return frozenset()
    return frozenset(next_round.candidates)


# --- plain exports -----------------------------------------------------------------------------


def results_json(record: ElectionRecord) -> dict[str, Any]:
    """The election's results as one JSON document (every round, then the elected, M9)."""
    rounds = []
    for round_record in record.rounds:
        result = round_record.result
        papers = result.tally.papers
        attendance = result.attendance
        next_round = result.next_round
        outcome_zh, outcome_en, _, _ = outcome_text(result)
        rounds.append(
            {
                "round": round_record.number,
                "kind": round_record.kind,
                "seats": result.definition.seats,
                "outcome": _status(result),
                "outcome_zh": outcome_zh,
                "outcome_en": outcome_en,
                "delegates_total": attendance.delegates_total,
                "present": attendance.present,
                "issued": attendance.issued,
                "collected": attendance.collected,
                "valid": papers.valid,
                "invalid": papers.invalid,
                "invalid_by_rule": dict(papers.invalid_by_rule),
                "majority_base": result.majority.base,
                "majority_base_kind": result.majority.base_kind,
                "threshold": result.majority.threshold,
                "persons": [
                    {
                        "name": person.name,
                        "write_in": person.write_in,
                        "yes": person.yes,
                        "no": person.no,
                        "abstain": person.abstain,
                        "elected": person.name in result.elected,
                    }
                    for person in ranked_persons(result)
                ],
                "elected": list(result.elected),
                "next_round": None
                if next_round is None
                else {
                    "kind": next_round.kind,
                    "seats": next_round.seats,
                    "candidates": list(next_round.candidates),
                },
            }
        )
    return {
        "election": record.election_id,
        "title": record.title,
        "title_en": record.title_en,
        "congress": record.congress,
        "date": record.date.isoformat(),
        "rounds": rounds,
        "elected": [
            {"name": person.name, "round": person.round_number}
            for person in elected_across_rounds(record)
        ],
    }


# A spreadsheet reads a cell that starts with one of these as a formula (OWASP, CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A CSV/XLSX cell that a spreadsheet shows as written: a string that starts like a formula
    gets a leading ``'`` (a write-in ``=HYPERLINK(...)`` stays text); numbers are unchanged."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _safe_row(values: Iterable[Any]) -> list[Any]:
    return [safe_cell(value) for value in values]


CSV_HEADER = ("round", "round_kind", "rank", "name", "write_in", "yes", "no", "abstain", "elected")


def results_csv(record: ElectionRecord) -> str:
    """One row per person per round, by yes votes (M11); ``elected`` is 1 in the electing round."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_HEADER)
    for round_record in record.rounds:
        result = round_record.result
        for rank, person in enumerate(ranked_persons(result), start=1):
            writer.writerow(
                _safe_row(
                    (
                        round_record.number,
                        round_record.kind,
                        rank,
                        person.name,
                        int(person.write_in),
                        person.yes,
                        person.no,
                        person.abstain,
                        int(person.name in result.elected),
                    )
                )
            )
    return out.getvalue()


def _append(sheet: Worksheet, values: Iterable[Any]) -> None:
    """``sheet.append`` of ``safe_cell`` values, every string a string cell (never a formula)."""
    sheet.append(_safe_row(values))
    for cell in sheet[sheet.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def results_xlsx(record: ElectionRecord) -> bytes:
    """A workbook: 汇总 Summary (one row per round), 得票 Votes (per person), 当选 Elected (M9)."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "汇总 Summary"
    _summary_sheet(summary, record)
    votes = book.create_sheet("得票 Votes")
    _votes_sheet(votes, record)
    elected = book.create_sheet("当选 Elected")
    _append(elected, ["姓名 name", "当选轮次 round"])
    for cell in elected[1]:
        cell.font = _BOLD
    for elected_person in elected_across_rounds(record):
        _append(elected, [elected_person.name, elected_person.round_number])
    for sheet in (summary, votes, elected):
        sheet.column_dimensions["A"].width = 14
        sheet.column_dimensions["C"].width = 14
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


_BOLD = Font(bold=True)


def _summary_sheet(summary: Worksheet, record: ElectionRecord) -> None:
    """The title, the congress and date, then one row per round."""
    _append(summary, [record.title])
    _append(summary, [record.congress, record.date.isoformat()])
    header = [
        "轮次 round", "类别 kind", "应选 seats", "应到 delegates", "实到 present",
        "发出 issued", "收回 collected", "有效 valid", "无效 invalid", "过半数 threshold",
        "结果 outcome",
    ]  # fmt: skip
    _append(summary, header)
    for cell in summary[3]:
        cell.font = _BOLD
    for round_record in record.rounds:
        result = round_record.result
        papers = result.tally.papers
        attendance = result.attendance
        _append(
            summary,
            [
                round_record.number,
                ROUND_KIND_ZH[round_record.kind],
                result.definition.seats,
                attendance.delegates_total,
                attendance.present,
                attendance.issued,
                attendance.collected,
                papers.valid,
                papers.invalid,
                result.majority.threshold,
                outcome_text(result)[0],
            ],
        )


def _votes_sheet(votes: Worksheet, record: ElectionRecord) -> None:
    """Every person of every round by yes votes (M11)."""
    _append(votes, ["轮次 round", "名次 rank", "姓名 name", "另选他人 write-in", "赞成 yes",
                    "不赞成 no", "弃权 abstain", "当选 elected"])  # fmt: skip
    for cell in votes[1]:
        cell.font = _BOLD
    for round_record in record.rounds:
        result = round_record.result
        for rank, person in enumerate(ranked_persons(result), start=1):
            _append(
                votes,
                [
                    round_record.number,
                    rank,
                    person.name,
                    "是" if person.write_in else "",
                    person.yes,
                    person.no,
                    person.abstain,
                    "当选" if person.name in result.elected else "",
                ],
            )


# --- NIST SP 1500-100 Election Results Reporting -----------------------------------------------


def _text(zh: str, en: str | None = None) -> dict[str, Any]:
    """An ``InternationalizedText``: the Chinese text, and an English one only where we have one
    (a person's name has no English form here: we keep no transliteration)."""
    texts = [{"@type": "ElectionResults.LanguageString", "Content": zh, "Language": "zh"}]
    if en is not None:
        texts.append({"@type": "ElectionResults.LanguageString", "Content": en, "Language": "en"})
    return {"@type": "ElectionResults.InternationalizedText", "Text": texts}


def _vote_count(gp_unit: str, count: int, kind: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "@type": "ElectionResults.VoteCounts",
        "Count": count,
        "GpUnitId": gp_unit,
    }
    if kind is None:
        entry["Type"] = "total"
    else:
        entry["Type"] = "other"
        entry["OtherType"] = kind
    return entry


def _sent_on(record: ElectionRecord, index: int) -> frozenset[str]:
    """The persons round ``index`` sent to the tie or supplementary round it called for: that
    round's candidates once it is in the record (the presidium may have edited the engine's list,
    M8), the engine's proposal before. The round after it is that follow-up (or the rerun of a
    voided follow-up, I2): rounds of an election are opened one at a time."""
    result = record.rounds[index].result
    proposal = result.next_round
    if proposal is None or proposal.kind == "rerun":
        return frozenset()
    later = record.rounds[index + 1 : index + 2]
    if later and later[0].kind in (proposal.kind, "rerun"):
        return frozenset(later[0].result.definition.candidates)
    return _advanced(result)


def _post_election_status(result: RoundResult, sent_on: frozenset[str], name: str) -> str | None:
    """``winner`` / ``advanced-to-runoff`` / ``defeated`` for a decided round; none for a round
    that decided nothing (Q1, I2) nor for a person the presidium ruled ineligible (P7)."""
    if not result.valid:
        return None
    if name in result.elected:
        return "winner"
    if name in sent_on:
        return "advanced-to-runoff"
    if name in result.definition.ineligible:
        return None
    return "defeated"


_ERR_NOTES = (
    "Each round of the election is one CandidateContest (SequenceOrder = round) "
    "counted in its own ReportingUnit (OtherType round: VotersRegistered = delegates, "
    "VotersParticipated = present; BallotCounts: BallotsCast = papers collected, "
    "BallotsRejected = invalid papers). VoteCounts: total = yes (赞成), other/no = no "
    "(不赞成), other/abstain = abstain (弃权)."
)


def nist_err(
    record: ElectionRecord, *, generated_at: datetime.datetime, certified: bool = False
) -> dict[str, Any]:
    """The election as a NIST SP 1500-100 ``ElectionReport`` (one contest per round)."""
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    scope = "gpu-congress"
    # The service has no English title and passes the Chinese one: never labelled "en".
    english = record.title_en if record.title_en != record.title else None
    persons: dict[str, str] = {}  # filled round by round: a person keeps one id
    rounds = [
        _err_round(record, index, persons, english=english, scope=scope)
        for index in range(len(record.rounds))
    ]
    round_units = [unit for unit, _, _, _ in rounds]
    return {
        "@type": "ElectionResults.ElectionReport",
        "Format": "summary-contest",
        "GeneratedDate": generated_at.isoformat(timespec="seconds"),
        "Issuer": record.congress,
        "IssuerAbbreviation": VENDOR,
        "SequenceStart": 1,
        "SequenceEnd": 1,
        "Status": "certified" if certified else "unofficial-complete",
        "VendorApplicationId": VENDOR,
        "Notes": _ERR_NOTES,
        "Person": [
            {"@type": "ElectionResults.Person", "@id": person_id, "FullName": _text(name)}
            for name, person_id in persons.items()
        ],
        "GpUnit": [
            {
                "@type": "ElectionResults.ReportingUnit",
                "@id": scope,
                "Type": "other",
                "OtherType": "congress",
                "Name": _text(record.congress),
                "ComposingGpUnitIds": [unit["@id"] for unit in round_units],
            },
            *round_units,
        ],
        "Election": [
            {
                "@type": "ElectionResults.Election",
                "ElectionScopeId": scope,
                "Name": _text(record.title, english),
                "StartDate": record.date.isoformat(),
                "EndDate": record.date.isoformat(),
                "Type": "other",
                "OtherType": "congress-election",
                "BallotCounts": [ballots for _, ballots, _, _ in rounds],
                "Candidate": [
                    candidate
                    for _, _, round_candidates, _ in rounds
                    for candidate in round_candidates
                ],
                "Contest": [contest for _, _, _, contest in rounds],
            }
        ],
    }


def _err_round(
    record: ElectionRecord, index: int, persons: dict[str, str], *, english: str | None, scope: str
) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]], dict[str, Any]]:
    """One round of ``nist_err``: its reporting unit, ballot counts, candidates and contest
    (``persons`` gathers every person's id across the rounds)."""
    round_record = record.rounds[index]
    result = round_record.result
    number = round_record.number
    unit = f"gpu-r{number}"
    kind_zh = ROUND_KIND_ZH[round_record.kind]
    kind_en = ROUND_KIND_EN[round_record.kind]
    attendance = result.attendance
    unit_row: dict[str, Any] = {
        "@type": "ElectionResults.ReportingUnit",
        "@id": unit,
        "Type": "other",
        "OtherType": "round",
        "Name": _text(f"第{number}轮（{kind_zh}）", f"round {number} ({kind_en})"),
        "VotersRegistered": attendance.delegates_total,
        "VotersParticipated": attendance.present,
    }
    ballots: dict[str, Any] = {
        "@type": "ElectionResults.BallotCounts",
        "GpUnitId": unit,
        "Type": "total",
        "BallotsCast": attendance.collected,
    }
    if result.valid:
        ballots["BallotsRejected"] = result.tally.papers.invalid
    candidates, selections, write_in_votes = _err_selections(
        result, number, unit, _sent_on(record, index), persons
    )
    contest: dict[str, Any] = {
        "@type": "ElectionResults.CandidateContest",
        "@id": f"contest-r{number}",
        "Name": f"{record.title} 第{number}轮（{kind_zh}）",
        "BallotTitle": _text(
            f"{record.title} 第{number}轮（{kind_zh}）",
            None if english is None else f"{english}, round {number} ({kind_en})",
        ),
        "ElectionDistrictId": scope,
        "SequenceOrder": number,
        "VotesAllowed": result.definition.seats,
        "NumberElected": result.definition.seats,
        "VoteVariation": "plurality" if round_record.kind == "tie" else "majority",
        "CountStatus": [
            {
                "@type": "ElectionResults.CountStatus",
                "Status": "completed" if result.valid else "not-processed",
                "Type": "total",
            }
        ],
        "ContestSelection": selections,
    }
    if result.valid and result.definition.has_write_ins:
        contest["OtherCounts"] = [
            {"@type": "ElectionResults.OtherCounts", "GpUnitId": unit, "WriteIns": write_in_votes}
        ]
    return unit_row, ballots, candidates, contest


def _err_selections(
    result: RoundResult,
    number: int,
    unit: str,
    sent_on: frozenset[str],
    persons: dict[str, str],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """A round's candidates and their selections with vote counts, and its write-ins' votes."""
    candidates: list[dict[str, Any]] = []
    selections: list[dict[str, Any]] = []
    write_in_votes = 0
    for position, person in enumerate(result.tally.persons, start=1):
        person_id = persons.setdefault(person.name, f"per-{len(persons) + 1}")
        candidate_id = f"cand-r{number}-{position}"
        candidate: dict[str, Any] = {
            "@type": "ElectionResults.Candidate",
            "@id": candidate_id,
            "BallotName": _text(person.name),
            "PersonId": person_id,
        }
        status = _post_election_status(result, sent_on, person.name)
        if status is not None:
            candidate["PostElectionStatus"] = status
        candidates.append(candidate)
        selection: dict[str, Any] = {
            "@type": "ElectionResults.CandidateSelection",
            "@id": f"sel-r{number}-{position}",
            "CandidateIds": [candidate_id],
            "SequenceOrder": position,
        }
        if person.write_in:
            selection["IsWriteIn"] = True
        if result.valid:  # a void round (I2) or one below quorum (Q1) counts no vote
            counts = [_vote_count(unit, person.yes)]
            if person.write_in:
                write_in_votes += person.yes
            else:
                counts += [
                    _vote_count(unit, person.no, "no"),
                    _vote_count(unit, person.abstain, "abstain"),
                ]
            selection["VoteCounts"] = counts
        selections.append(selection)
    return candidates, selections, write_in_votes


# --- NIST SP 1500-103 Cast Vote Records --------------------------------------------------------

_MARK_SELECTIONS: tuple[Mark, ...] = ("yes", "no", "abstain")  # the marks that are a vote
DEVICE = "device-jipiao"


_CVR_NOTES = (
    "Papers in cryptographically random order; the only per-paper value is the "
    "snapshot @id, the paper's place in that order. Per printed candidate a "
    "RetentionContest with selections yes (赞成 ✓), no (不赞成 ×), abstain (弃权 △); "
    "blank = undervoted; write-ins in the round's CandidateContest (w0: a write-in credited "
    "to nobody)."
)


_CVR_DEVICE = {
    "@type": "CVR.ReportingDevice",
    "@id": DEVICE,
    "Application": VENDOR,
    "Notes": [
        "Papers entered by hand twice (two tellers), reconciled by the engine; "
        "no scanner, no ballot images."
    ],
}


class _CandidateIds:
    """A person's ``cand-N`` id, numbered in order of first mention; ``entries`` lists them."""

    def __init__(self) -> None:
        self.ids: dict[str, str] = {}
        self.entries: list[dict[str, Any]] = []

    def __call__(self, name: str) -> str:
        if name not in self.ids:
            self.ids[name] = f"cand-{len(self.ids) + 1}"
            self.entries.append({"@type": "CVR.Candidate", "@id": self.ids[name], "Name": name})
        return self.ids[name]


def nist_cvr(
    record: ElectionRecord,
    *,
    generated_at: datetime.datetime,
    shuffle: bool = True,
) -> dict[str, Any]:
    """The entered papers as a NIST SP 1500-103 ``CastVoteRecordReport`` (mapping: module doc).

    Papers of each round are shuffled with ``secrets.SystemRandom`` (``shuffle=False`` only for
    tests that need a fixed order); the only per-paper value, the snapshot ``@id`` the schema
    requires, is the paper's place in that shuffled list.
    """
    if generated_at.tzinfo is None:
        raise ValueError("generated_at must be timezone-aware")
    election_id = f"election-{record.election_id}"
    scope = "gpu-congress"
    candidate_id = _CandidateIds()
    contests: list[dict[str, Any]] = []
    cvrs: list[dict[str, Any]] = []
    for round_record in record.rounds:
        round_contests, write_in_ids = _cvr_contests(round_record, candidate_id)
        contests += round_contests
        papers = list(round_record.papers)
        if shuffle:
            secrets.SystemRandom().shuffle(papers)
        for place, paper in enumerate(papers, start=1):
            snapshot_id = f"r{round_record.number}-p{place}"
            cvrs.append(_paper_cvr(round_record, paper, election_id, snapshot_id, write_in_ids))
    return {
        "@type": "CVR.CastVoteRecordReport",
        "GeneratedDate": generated_at.isoformat(timespec="seconds"),
        "Version": "1.0.0",
        "ReportGeneratingDeviceIds": [DEVICE],
        "ReportingDevice": [_CVR_DEVICE],
        "ReportType": ["adjudicated"],
        "Notes": _CVR_NOTES,
        "GpUnit": [
            {
                "@type": "CVR.GpUnit",
                "@id": scope,
                "Type": "other",
                "OtherType": "congress",
                "Name": record.congress,
                "ReportingDeviceIds": [DEVICE],
            }
        ],
        "Election": [
            {
                "@type": "CVR.Election",
                "@id": election_id,
                "Name": record.title,
                "ElectionScopeId": scope,
                "Candidate": candidate_id.entries,
                "Contest": contests,
            }
        ],
        "CVR": cvrs,
    }


def _cvr_contests(
    round_record: RoundRecord, candidate_id: Callable[[str], str]
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """A round's contests in ``nist_cvr``: a RetentionContest per printed candidate and, unless a
    tie round (M7), the 另选他人 CandidateContest; and the write-ins' selection ids by name."""
    number = round_record.number
    definition = round_record.result.definition
    contests: list[dict[str, Any]] = []
    for index, name in enumerate(definition.candidates, start=1):
        contests.append(
            {
                "@type": "CVR.RetentionContest",
                "@id": f"r{number}-c{index}",
                "Name": f"第{number}轮 {name}（赞成/不赞成/弃权）",
                "CandidateId": candidate_id(name),
                "ContestSelection": [
                    {
                        "@type": "CVR.BallotMeasureSelection",
                        "@id": f"r{number}-c{index}-{mark}",
                        "Selection": mark,
                    }
                    for mark in _MARK_SELECTIONS
                ],
            }
        )
    write_in_ids: dict[str, str] = {}
    if definition.has_write_ins:
        write_ins = _written_in(round_record)
        for index, name in enumerate(write_ins, start=1):
            write_in_ids[name] = f"r{number}-w{index}"
        contests.append(
            {
                "@type": "CVR.CandidateContest",
                "@id": f"r{number}-write-ins",
                "Name": f"第{number}轮 另选他人",
                "VotesAllowed": definition.seats,
                "ContestSelection": [
                    {
                        "@type": "CVR.CandidateSelection",
                        "@id": f"r{number}-w0",
                        "IsWriteIn": True,
                    },
                    *(
                        {
                            "@type": "CVR.CandidateSelection",
                            "@id": selection_id,
                            "CandidateIds": [candidate_id(name)],
                            "IsWriteIn": True,
                        }
                        for name, selection_id in write_in_ids.items()
                    ),
                ],
            }
        )
    return contests, write_in_ids


def _written_in(round_record: RoundRecord) -> list[str]:
    """The persons the round's papers name in a 另选他人 box: the tallied ones in the tally's
    order, then those named only on invalid papers (no vote, P8), in stroke order."""
    tally = round_record.result.tally
    tallied = [person.name for person in tally.write_ins]
    others = {
        name
        for paper in round_record.papers
        for name in tally.judgements[paper].write_ins
        if name not in tallied
    }
    order = round_record.result.definition.profile.name_order
    return tallied + list(stroke_order(sorted(others), order)[0])


def _position(allocable: bool, *, status: str | None = None, **extra: Any) -> dict[str, Any]:
    """The one ``SelectionPosition`` of a mark or a write-in: an indication worth one vote."""
    position: dict[str, Any] = {
        "@type": "CVR.SelectionPosition",
        "HasIndication": "yes",
        "IsAllocable": "yes" if allocable else "no",
        "NumberVotes": 1,
    }
    if status is not None:
        position["Status"] = [status]
    position.update(extra)
    return position


def _paper_cvr(
    round_record: RoundRecord,
    paper: PaperRecord,
    election_id: str,
    snapshot_id: str,
    write_in_ids: dict[str, str],
) -> dict[str, Any]:
    """One paper as a ``CVR``: a contest per printed candidate's mark, then its write-ins."""
    number = round_record.number
    result = round_record.result
    judgement = result.tally.judgements[paper]
    counts = judgement.reason is None and result.valid  # P8; a void round (I2) counts no paper
    cvr_contests = [
        _mark_contest(f"r{number}-c{index}", mark, counts, judgement.reason)
        for index, mark in enumerate(paper.marks, start=1)
    ]
    if result.definition.has_write_ins:
        cvr_contests.append(_write_in_contest(number, paper, judgement, counts, write_in_ids))
    snapshot: dict[str, Any] = {
        "@type": "CVR.CVRSnapshot",
        "@id": snapshot_id,
        "Type": "interpreted",
        "CVRContest": cvr_contests,
    }
    if not result.valid:
        snapshot["Status"] = ["other"]
        snapshot["OtherStatus"] = "round-void-I2"
    return {
        "@type": "CVR.CVR",
        "ElectionId": election_id,
        "BallotStyleId": f"round-{number}",
        "CurrentSnapshotId": snapshot_id,
        "CVRSnapshot": [snapshot],
    }


def _mark_contest(
    contest_id: str, mark: Mark, counts: bool, invalid_rule: RuleId | None
) -> dict[str, Any]:
    """A printed candidate's ``CVRContest``: the mark's selection, or why there is none."""
    contest: dict[str, Any] = {"@type": "CVR.CVRContest", "ContestId": contest_id}
    statuses: list[str] = []
    if mark in _MARK_SELECTIONS:
        position_status = None if invalid_rule is None else "invalidated-rules"
        contest["CVRContestSelection"] = [
            {
                "@type": "CVR.CVRContestSelection",
                "ContestSelectionId": f"{contest_id}-{mark}",
                "SelectionPosition": [_position(counts, status=position_status)],
            }
        ]
    elif mark == "blank":
        statuses += ["not-indicated", "undervoted"]
    else:  # illegible (P6): voids only this mark
        statuses.append("other")
        contest["OtherStatus"] = "illegible"
    if invalid_rule is not None:
        statuses.insert(0, "invalidated-rules")
        contest["OtherStatus"] = invalid_rule
    if statuses:
        contest["Status"] = statuses
    return contest


def _write_in_contest(
    number: int,
    paper: PaperRecord,
    judgement: PaperJudgement,
    counts: bool,
    write_in_ids: dict[str, str],
) -> dict[str, Any]:
    """The paper's 另选他人 ``CVRContest``: a credited write-in selects its person; an illegible
    one, a printed candidate's name or a second mention of a person selects w0 (P7)."""
    invalid_rule = judgement.reason
    position_status = None if invalid_rule is None else "invalidated-rules"
    entries: list[dict[str, Any]] = []
    credited = set(judgement.write_ins)
    seen: set[str] = set()
    for name in paper.write_ins:
        key = None if name is None else normalize_name(name)
        write_in = (
            {"@type": "CVR.CVRWriteIn"}
            if name is None
            else {"@type": "CVR.CVRWriteIn", "Text": name}
        )
        entry: dict[str, Any] = {"@type": "CVR.CVRContestSelection"}
        if key is not None and key in credited and key not in seen and key in write_in_ids:
            entry["ContestSelectionId"] = write_in_ids[key]
            entry["SelectionPosition"] = [
                _position(counts, status=position_status, CVRWriteIn=write_in)
            ]
        else:
            entry["ContestSelectionId"] = f"r{number}-w0"
            if key is None:
                entry["Status"] = ["other"]
                entry["OtherStatus"] = "illegible"
            else:  # P7: a printed candidate's name, or a person written twice
                entry["Status"] = ["invalidated-rules"]
                entry["OtherStatus"] = "P7"
            entry["SelectionPosition"] = [
                _position(False, status=entry["Status"][0], CVRWriteIn=write_in)
            ]
        if key is not None:
            seen.add(key)
        entries.append(entry)
    contest: dict[str, Any] = {
        "@type": "CVR.CVRContest",
        "ContestId": f"r{number}-write-ins",
        "WriteIns": len(paper.write_ins),
    }
    if entries:
        contest["CVRContestSelection"] = entries
    if invalid_rule is not None:
        contest["Status"] = ["invalidated-rules"]
        contest["OtherStatus"] = invalid_rule
    return contest


def dump_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
