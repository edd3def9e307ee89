"""Deciding a round: quorum (Q1), overcount (I2), entered papers (I4), majority and seats (M1–M8).

A missed quorum, a void round, a tie or a shortfall is an outcome, never an exception; only
malformed input raises ``RoundInputError``.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, assert_never

from app.rules.model import (
    Attendance,
    PaperRecord,
    RoundDefinition,
    RoundInputError,
    TraceEntry,
)
from app.rules.ordering import stroke_order
from app.rules.profiles import MajorityBase, OvercountBase, Profile
from app.rules.tally import PersonTally, Tally, tally_papers


@dataclass(frozen=True, slots=True)
class QuorumCheck:
    met: bool
    required: int
    """The fewest delegates present for the round to be held."""


@dataclass(frozen=True, slots=True)
class Majority:
    base_kind: MajorityBase
    base: int
    threshold: int
    """The smallest yes count that is a majority: ``base // 2 + 1`` (M2)."""


@dataclass(frozen=True, slots=True)
class NextRound:
    """The round the rules call for next, with its seats and candidates in ballot order."""

    kind: Literal["tie", "supplementary", "rerun"]
    seats: int
    candidates: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class QuorumNotMet:
    """Q1: fewer present than the quorum; no paper may be issued, nothing is decided."""


@dataclass(frozen=True, slots=True)
class RoundVoid:
    """I2: more papers collected than present (or issued); the round is held again."""

    rerun: NextRound


@dataclass(frozen=True, slots=True)
class SeatsFilled:
    """M3/M4 (or M7 in a tie round): every seat of the round is filled."""

    elected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TieRoundNeeded:
    """M5: persons tied at the last seat go to a tie round; those above them are elected."""

    elected: tuple[str, ...]
    tie_round: NextRound


@dataclass(frozen=True, slots=True)
class SupplementaryNeeded:
    """M6/M8: too few had a majority; a supplementary round with the proposed slate."""

    elected: tuple[str, ...]
    supplementary: NextRound


@dataclass(frozen=True, slots=True)
class SeatsLeftVacant:
    """M7 with ``tie_policy: vacant``: the tied persons are not elected and the seats stay empty."""

    elected: tuple[str, ...]
    vacant: int


Outcome = (
    QuorumNotMet | RoundVoid | SeatsFilled | TieRoundNeeded | SupplementaryNeeded | SeatsLeftVacant
)


@dataclass(frozen=True, slots=True)
class RoundResult:
    definition: RoundDefinition
    attendance: Attendance
    quorum: QuorumCheck
    majority: Majority
    tally: Tally
    outcome: Outcome
    trace: tuple[TraceEntry, ...]

    @property
    def valid(self) -> bool:
        return not isinstance(self.outcome, QuorumNotMet | RoundVoid)

    @property
    def elected(self) -> tuple[str, ...]:
        return elected_of(self.outcome)

    @property
    def next_round(self) -> NextRound | None:
        return next_round_of(self.outcome)


def elected_of(outcome: Outcome) -> tuple[str, ...]:
    match outcome:
        case QuorumNotMet() | RoundVoid():
            return ()
        case SeatsFilled() | TieRoundNeeded() | SupplementaryNeeded() | SeatsLeftVacant():
            return outcome.elected
        case _:
            assert_never(outcome)


def next_round_of(outcome: Outcome) -> NextRound | None:
    match outcome:
        case QuorumNotMet() | SeatsFilled() | SeatsLeftVacant():
            return None
        case RoundVoid():
            return outcome.rerun
        case TieRoundNeeded():
            return outcome.tie_round
        case SupplementaryNeeded():
            return outcome.supplementary
        case _:
            assert_never(outcome)


def required_present(delegates_total: int, quorum: Fraction, strict: bool) -> int:
    """Q1: the fewest present that make a quorum of ``delegates_total``.

    以上 includes the number itself (民法典 第一千二百五十九条): 189 × 4/5 = 151.2 → 152.
    With ``strict`` (超过五分之四) the quorum figure itself is not enough: 190 × 4/5 = 152 → 153.
    """
    needed = quorum * delegates_total
    if strict:
        return needed.numerator // needed.denominator + 1
    return -(-needed.numerator // needed.denominator)


def check_quorum(attendance: Attendance, profile: Profile) -> QuorumCheck:
    """Q1: a round may be held only if ``present`` reaches the quorum (default 4/5, inclusive)."""
    required = required_present(attendance.delegates_total, profile.quorum, profile.quorum_strict)
    return QuorumCheck(met=attendance.present >= required, required=required)


def majority_threshold(base: int) -> int:
    """M2: the smallest yes count with ``2 × yes > base``.

    Edge: half is not a majority: base 180 → 91.
    """
    return base // 2 + 1


def majority_of(attendance: Attendance, valid_papers: int, profile: Profile) -> Majority:
    """M1: the base of the majority is, by default, the round's ``present`` (实到会议代表)."""
    bases = {
        "present": attendance.present,
        "delegates_total": attendance.delegates_total,
        "collected": attendance.collected,
        "valid_papers": valid_papers,
    }
    base = bases[profile.majority_base]
    return Majority(profile.majority_base, base, majority_threshold(base))


def slate_size(seats_left: int, profile: Profile) -> int:
    """M6: how many to propose for ``seats_left`` seats: L + 1 (差额), or ≥ 20% more (ratio_20)."""
    match profile.slate_size:
        case "plus_one":
            return seats_left + 1
        case "ratio_20":
            return max(seats_left + 1, -(-6 * seats_left // 5))
        case _:
            assert_never(profile.slate_size)


def count_round(
    definition: RoundDefinition, attendance: Attendance, papers: Sequence[PaperRecord]
) -> RoundResult:
    """Decide one round from its definition, its figures and its papers.

    Checks, in order: Q1 quorum, I2 overcount, I4 every collected paper entered; then tallies the
    papers (P1–P9) and applies M1–M8. Edge: a round below quorum or void by overcount is reported,
    not raised, and its papers (if any) are still tallied for the record.
    """
    profile = definition.profile
    trace: list[TraceEntry] = []
    quorum = check_quorum(attendance, profile)
    trace.append(_quorum_entry(attendance, profile, quorum))

    void: Outcome | None = None
    if not quorum.met:
        void = QuorumNotMet()
    else:
        void = _overcount(definition, attendance, trace)
        if void is None and len(papers) != attendance.collected:
            raise RoundInputError(
                "I4",
                "papers",
                f"录入选票 {len(papers)} 张，与收回选票 {attendance.collected} 张不符",
                f"{len(papers)} papers entered but {attendance.collected} collected",
            )
    tally = tally_papers(definition, papers)
    majority = majority_of(attendance, tally.papers.valid, profile)
    if void is not None:
        return RoundResult(definition, attendance, quorum, majority, tally, void, tuple(trace))

    trace.append(
        TraceEntry(
            "I4",
            f"录入选票 {len(papers)} 张，与收回选票数相符",
            f"{len(papers)} papers entered, equal to the papers collected",
        )
    )
    trace.extend(tally.trace)
    trace.append(_majority_entry(majority))
    if definition.kind == "tie":
        outcome = _decide_tie_round(definition, tally, trace)
    else:
        outcome = _decide_by_majority(definition, tally, majority, trace)
    return RoundResult(definition, attendance, quorum, majority, tally, outcome, tuple(trace))


def _quorum_entry(attendance: Attendance, profile: Profile, quorum: QuorumCheck) -> TraceEntry:
    fraction = f"{profile.quorum.numerator}/{profile.quorum.denominator}"
    word = "超过" if profile.quorum_strict else "以上"
    verdict_zh = (
        "符合法定人数，选举可以进行" if quorum.met else "不足法定人数，选举不能进行，不得发放选票"
    )
    verdict_en = "quorum met" if quorum.met else "quorum not met: no papers may be issued"
    return TraceEntry(
        "Q1",
        f"应到 {attendance.delegates_total} 人，实到 {attendance.present} 人，"
        f"须 {fraction} {word}即至少 {quorum.required} 人出席：{verdict_zh}",
        f"{attendance.present} of {attendance.delegates_total} present; quorum {fraction} "
        f"({'strict' if profile.quorum_strict else 'inclusive'}) needs {quorum.required}: "
        f"{verdict_en}",
    )


def overcount(
    *, collected: int, present: int, issued: int, base_name: OvercountBase
) -> TraceEntry | None:
    """I2: the entry voiding a round whose collected papers exceed present (or the profile's
    base, issued) or issued; None when they do not (I3)."""
    base = present if base_name == "present" else issued
    over_base = collected > base
    if not over_base and collected <= issued:
        return None
    what_zh = "实到人数" if over_base and base_name == "present" else "发出选票数"
    limit = base if over_base else issued
    return TraceEntry(
        "I2",
        f"收回选票 {collected} 张，多于{what_zh} {limit}：选举无效，应重新选举",
        f"{collected} papers collected exceed "
        f"{'present' if what_zh == '实到人数' else 'issued'} {limit}: the round is void "
        "and is held again",
    )


def _overcount(
    definition: RoundDefinition, attendance: Attendance, trace: list[TraceEntry]
) -> RoundVoid | None:
    """I2/I3: collected papers above present (or issued) void the round; otherwise it stands."""
    void = overcount(
        collected=attendance.collected,
        present=attendance.present,
        issued=attendance.issued,
        base_name=definition.profile.overcount_base,
    )
    if void is not None:
        trace.append(void)
        return RoundVoid(
            NextRound("rerun", definition.seats, definition.candidates),
        )
    trace.append(
        TraceEntry(
            "I3",
            f"收回选票 {attendance.collected} 张，不多于实到 {attendance.present} 人及发出 "
            f"{attendance.issued} 张：选举有效",
            f"{attendance.collected} collected ≤ present {attendance.present} and issued "
            f"{attendance.issued}: the round stands",
        )
    )
    return None


def _majority_entry(majority: Majority) -> TraceEntry:
    base_zh = {
        "present": "实到会议代表人数",
        "delegates_total": "应到代表人数",
        "collected": "参加投票人数（收回选票数）",
        "valid_papers": "有效票数",
    }[majority.base_kind]
    return TraceEntry(
        "M2",
        f"过半数以{base_zh} {majority.base} 为基数，"
        f"赞成票须超过半数，即至少 {majority.threshold} 票",
        f"majority base {majority.base_kind} = {majority.base}: more than half, "
        f"at least {majority.threshold} yes votes",
    )


def _eligible(
    definition: RoundDefinition, tally: Tally, trace: list[TraceEntry]
) -> list[PersonTally]:
    persons: list[PersonTally] = []
    for person in tally.persons:
        if person.name in definition.ineligible:
            trace.append(
                TraceEntry(
                    "P7",
                    f"{person.name} 经大会主席团裁定不具备被选举资格，不参加排名（选票仍有效）",
                    f"{person.name} was ruled ineligible by the presidium: struck from the "
                    "ranking (the papers stay valid)",
                )
            )
        else:
            persons.append(person)
    return persons


def _ranked(persons: list[PersonTally], definition: RoundDefinition) -> list[PersonTally]:
    order, _ = stroke_order([person.name for person in persons], definition.profile.name_order)
    rank = {name: index for index, name in enumerate(order)}
    return sorted(persons, key=lambda person: (-person.yes, rank[person.name]))


def _in_ballot_order(names: list[str], definition: RoundDefinition) -> tuple[str, ...]:
    ordered, _ = stroke_order(names, definition.profile.name_order)
    return ordered


def _decide_by_majority(
    definition: RoundDefinition, tally: Tally, majority: Majority, trace: list[TraceEntry]
) -> Outcome:
    seats = definition.seats
    persons = _ranked(_eligible(definition, tally, trace), definition)
    passing = [person for person in persons if 2 * person.yes > majority.base]
    for person in persons:
        short = majority.threshold - person.yes
        trace.append(
            TraceEntry(
                "M2",
                f"{person.name} 得赞成票 {person.yes} 票，"
                + ("超过半数" if short <= 0 else f"未超过半数（差 {short} 票）"),
                f"{person.name}: {person.yes} yes, "
                + ("a majority" if short <= 0 else f"no majority ({short} short)"),
            )
        )
    if len(passing) <= seats:
        elected = [person.name for person in passing]
        if len(passing) == seats:
            trace.append(
                TraceEntry(
                    "M3",
                    f"获得过半数赞成票者 {len(passing)} 人，不多于应选名额 {seats} 名，全部当选",
                    f"{len(passing)} with a majority for {seats} seat(s): all elected",
                )
            )
            return SeatsFilled(_in_ballot_order(elected, definition))
        return _shortfall(definition, persons, passing, trace)

    cut = passing[seats - 1].yes
    above = [person for person in passing if person.yes > cut]
    tied = [person for person in passing if person.yes == cut]
    if len(above) + len(tied) == seats:
        trace.append(
            TraceEntry(
                "M4",
                f"获得过半数赞成票者 {len(passing)} 人，多于应选名额 {seats} 名，"
                "按得票多少取足名额",
                f"{len(passing)} with a majority for {seats} seat(s): the {seats} with most votes "
                "are elected",
            )
        )
        return SeatsFilled(_in_ballot_order([p.name for p in above + tied], definition))
    return _tie(definition, above, tied, seats, "M5", trace)


def _tie(
    definition: RoundDefinition,
    above: list[PersonTally],
    tied: list[PersonTally],
    seats: int,
    rule: Literal["M5", "M7"],
    trace: list[TraceEntry],
) -> Outcome:
    left = seats - len(above)
    elected = _in_ballot_order([person.name for person in above], definition)
    tied_names = _in_ballot_order([person.name for person in tied], definition)
    trace.append(
        TraceEntry(
            rule,
            f"最后 {len(tied)} 人（{'、'.join(tied_names)}）得票相等（{tied[0].yes} 票），"
            f"超过剩余名额 {left} 名" + (f"；{'、'.join(elected)} 当选" if elected else ""),
            f"{len(tied)} tied at the last seat(s) with {tied[0].yes} votes for {left} seat(s) left"
            + (f"; elected: {', '.join(elected)}" if elected else ""),
        )
    )
    match definition.profile.tie_policy:
        case "tie_round":
            trace.append(
                TraceEntry(
                    "M7",
                    f"应对票数相等者重新投票，选出 {left} 名，以得赞成票多者当选",
                    f"a tie round among the tied for {left} seat(s), decided by most yes votes",
                )
            )
            return TieRoundNeeded(elected, NextRound("tie", left, tied_names))
        case "vacant":
            trace.append(
                TraceEntry(
                    "M7",
                    f"按本选举规则，票数相等者均不当选，{left} 个名额空缺",
                    f"under this profile the tied persons are not elected; {left} seat(s) stay "
                    "vacant",
                )
            )
            return SeatsLeftVacant(elected, left)
        case _:
            assert_never(definition.profile.tie_policy)


def _decide_tie_round(
    definition: RoundDefinition, tally: Tally, trace: list[TraceEntry]
) -> Outcome:
    """M7: the tied persons already had a majority; in their tie round the most yes votes win."""
    seats = definition.seats
    persons = _ranked(_eligible(definition, tally, trace), definition)
    for person in persons:
        trace.append(
            TraceEntry(
                "M7",
                f"{person.name} 得赞成票 {person.yes} 票",
                f"{person.name}: {person.yes} yes",
            )
        )
    if len(persons) <= seats:
        return SeatsFilled(_in_ballot_order([p.name for p in persons], definition))
    cut = persons[seats - 1].yes
    above = [person for person in persons if person.yes > cut]
    tied = [person for person in persons if person.yes == cut]
    if len(above) + len(tied) == seats:
        winners = _in_ballot_order([p.name for p in above + tied], definition)
        trace.append(
            TraceEntry(
                "M7",
                f"以得赞成票多者当选：{'、'.join(winners)}",
                f"most yes votes elected: {', '.join(winners)}",
            )
        )
        return SeatsFilled(winners)
    return _tie(definition, above, tied, seats, "M7", trace)


def _shortfall(
    definition: RoundDefinition,
    persons: list[PersonTally],
    passing: list[PersonTally],
    trace: list[TraceEntry],
) -> Outcome:
    """M6: fill the seats left by a supplementary round; propose the next persons by votes."""
    seats_left = definition.seats - len(passing)
    elected = _in_ballot_order([person.name for person in passing], definition)
    pool = [
        person
        for person in persons
        if person not in passing
        and (definition.profile.supplementary_pool == "all_persons" or not person.write_in)
    ]
    size = slate_size(seats_left, definition.profile)
    proposal = pool[:size]
    if proposal:
        cut = proposal[-1].yes
        proposal += [person for person in pool[size:] if person.yes == cut]
    names = _in_ballot_order([person.name for person in proposal], definition)
    rule: Literal["M6", "M8"] = "M8" if definition.kind == "supplementary" else "M6"
    trace.append(
        TraceEntry(
            rule,
            f"获得过半数赞成票者 {len(passing)} 人，少于应选名额 {definition.seats} 名"
            + (f"（{'、'.join(elected)} 当选）" if elected else "")
            + f"，不足的 {seats_left} 名另行选举",
            f"{len(passing)} with a majority for {definition.seats} seat(s): a supplementary "
            f"round for the {seats_left} seat(s) left",
        )
    )
    trace.append(
        TraceEntry(
            "M6",
            (
                f"建议另行选举候选人（按得票多少取 {size} 人，含末位票数相等者）："
                f"{'、'.join(names)}；由大会主席团确定"
                if names
                else "没有可提名的另行选举候选人，由大会主席团决定"
            ),
            (
                f"proposed candidates ({size} by votes, ties at the cut included): "
                f"{', '.join(names)}; the presidium confirms or edits the list"
                if names
                else "nobody is left to propose; the presidium decides"
            ),
        )
    )
    if rule == "M8":
        trace.append(
            TraceEntry(
                "M10",
                "另行选举后仍有名额不足：由大会主席团决定再次另行选举或减少名额",
                "seats still short after a supplementary round: the presidium decides another "
                "supplementary round or reduces the seats",
            )
        )
    return SupplementaryNeeded(elected, NextRound("supplementary", seats_left, names))
