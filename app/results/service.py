"""Deciding, certifying and following up a round (RULES.md C1–C3, M5–M10), inside the request's
transaction. The decision is the engine's (``app.rules.count_round``) on the reconciled papers;
it is recorded as the event ``round.decided`` with the full result and trace, and the service
reads it back from the chain: the event log is the source of truth.
"""

import dataclasses
import datetime
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import models
from app.auth.roles import Principal, Role
from app.counting import reconciliation as counting_reconciliation
from app.counting import status as counting_status
from app.errors import Conflict, InvalidInput
from app.keys import public_key_hex, signing_key
from app.ledger import store
from app.ledger.chain import JsonValue
from app.papers import service as papers_service
from app.results.exports import ElectionRecord, RoundRecord
from app.results.report import Officials, ReportInput, SignedBy, compose_report
from app.results.report_pdf import load_report_layout, render_report
from app.rules import (
    Attendance,
    RoundInputError,
    RoundResult,
    count_round,
    normalize_name,
    slate_size,
)
from app.rules.ordering import stroke_order
from app.rules.profiles import Profile
from app.rules.roundfile import round_result_json
from app.setup import service as setup_service
from app.setup.schemas import normalize_person_name

ROUND_DECIDED = "decided"
ROUND_CERTIFIED = "certified"
ROUND_RELEASED = "round.released"  # the event of C3 (app.live.service.release_round)
# C3: who sees a round's result before the presidium releases it to the hall: those who decide,
# certify or release it, the secretariat and the auditors (all of whom read the event log, where
# the decision is recorded anyway). Tellers and the chief teller learn it with the hall.
SEES_UNRELEASED = frozenset(
    {Role.presidium, Role.chief_scrutineer, Role.scrutineer, Role.admin, Role.auditor}
)
ROUND_CANCELLED = papers_service.ROUND_CANCELLED


@dataclass(frozen=True, slots=True)
class Decision:
    """The last ``round.decided`` event of a round: its hash and the engine's result as JSON."""

    event_hash: str
    result: dict[str, Any]


def _events_of_round(
    session: Session, *, congress_id: int, types: tuple[str, ...], round_id: int
) -> list[tuple[models.Event, dict[str, Any]]]:
    rows = session.scalars(
        select(models.Event)
        .where(models.Event.congress_id == congress_id, models.Event.type.in_(types))
        .order_by(models.Event.height)
    ).all()
    found = []
    for row in rows:
        payload = json.loads(row.payload)
        if payload.get("round_id") == round_id:
            found.append((row, payload))
    return found


def ruled_ineligible(session: Session, round_: models.Round) -> frozenset[str]:
    """P7: the names the presidium ruled ineligible (``round.ineligible_ruled``) in this round or
    an earlier round of its election: they are struck from this round's ranking."""
    rounds = {
        r.id
        for r in papers_service.list_rounds(session, election_id=round_.election_id)
        if r.number <= round_.number
    }
    rows = session.scalars(
        select(models.Event)
        .where(
            models.Event.congress_id == papers_service.congress_of(session, round_),
            models.Event.type == "round.ineligible_ruled",
        )
        .order_by(models.Event.height)
    ).all()
    payloads = [json.loads(row.payload) for row in rows]
    return frozenset(p["name"] for p in payloads if p["round_id"] in rounds)


def live_rounds(session: Session, *, election_id: int) -> list[models.Round]:
    """The election's rounds without the follow-up rounds the presidium cancelled."""
    return [
        r
        for r in papers_service.list_rounds(session, election_id=election_id)
        if r.status != ROUND_CANCELLED
    ]


def decision_of(session: Session, round_: models.Round) -> Decision | None:
    congress_id = papers_service.congress_of(session, round_)
    events = _events_of_round(
        session, congress_id=congress_id, types=("round.decided",), round_id=round_.id
    )
    if not events:
        return None
    row, payload = events[-1]
    return Decision(event_hash=row.hash, result=payload["result"])


def signatures_of(
    session: Session, round_: models.Round, decision: Decision
) -> list[dict[str, Any]]:
    congress_id = papers_service.congress_of(session, round_)
    return [
        payload
        for _, payload in _events_of_round(
            session, congress_id=congress_id, types=("round.signed",), round_id=round_.id
        )
        if payload["decision"] == decision.event_hash
    ]


def _count_not_ready(status: counting_status.RoundCountStatus) -> Conflict:
    return Conflict(
        "count_incomplete",
        f"计票尚未完成（C1/I4）：收回 {status.collected} 张，已核对 {status.papers_reconciled} 张；"
        f"未完成批次 {status.batches_open} 个（待裁定差异 {status.discrepancies_open} 个，"
        f"待裁定符号 {status.adjudications_open} 个）；各批声明张数合计 {status.declared}",
        f"the count is not complete (C1/I4): {status.collected} collected, "
        f"{status.papers_reconciled} reconciled; {status.batches_open} batch(es) open "
        f"({status.discrepancies_open} discrepancies, {status.adjudications_open} unclear marks); "
        f"declared {status.declared}",
    )


def compute_round(session: Session, round_: models.Round) -> RoundResult:
    """The engine's result on the round's reconciled papers (C1 and I4 must hold)."""
    status = counting_status.round_count_status(session, round_id=round_.id)
    if not status.ready:
        raise _count_not_ready(status)
    election = setup_service.get_election(session, election_id=round_.election_id)
    congress = setup_service.get_congress(session, congress_id=election.congress_id)
    assert round_.collected is not None  # ready implies collected
    attendance = Attendance(
        delegates_total=congress.delegates_total,
        present=round_.present,
        issued=round_.present if round_.issued is None else round_.issued,
        collected=round_.collected,
    )
    papers = counting_reconciliation.reconciled_papers(session, round_id=round_.id)
    definition = papers_service.round_definition(round_)
    ineligible = ruled_ineligible(session, round_)
    if ineligible:
        definition = dataclasses.replace(definition, ineligible=ineligible)
    try:
        return count_round(definition, attendance, papers)
    except RoundInputError:
        # The count status said every paper is in, yet the engine refuses the papers: a row was
        # changed behind the log's back (e.g. one pass's record edited in the database).
        raise _record_mismatch() from None


def _record_mismatch() -> Conflict:
    return Conflict(
        "record_mismatch",
        "数据库中的选票记录与事件日志中的决定不一致，请审计",
        "the stored papers no longer give the recorded decision: audit the record",
    )


def decide_round(session: Session, *, actor: Principal, round_id: int) -> Decision:
    """C1: decide a round whose every batch is reconciled; records ``round.decided``."""
    round_ = papers_service.get_round(session, round_id=round_id)
    congress_id = papers_service.congress_of(session, round_)
    actor.ensure_congress(congress_id)
    store.lock_chain(session, congress_id=congress_id)
    if round_.status in (ROUND_DECIDED, ROUND_CERTIFIED):
        raise Conflict(
            "round_already_decided",
            f"第 {round_.number} 轮已经作出决定；更正须由大会主席团下令（C2）",
            f"round {round_.number} is already decided; a correction needs a presidium order (C2)",
        )
    if round_.status == papers_service.ROUND_VOID:
        raise Conflict("round_void", "本轮选举无效（I2）", "this round is void (I2)")
    result = round_result_json(compute_round(session, round_))
    event = store.append_event(
        session,
        congress_id=congress_id,
        type="round.decided",
        payload={
            "round_id": round_.id,
            "definition_hash": round_.definition_hash,
            "result": result,
        },
        actor_role=actor.role,
    )
    round_.status = ROUND_DECIDED
    session.flush()
    return Decision(event_hash=event.hash, result=result)


# C2: certified once the chief scrutineer and at least one scrutineer have signed.
CERTIFYING_ROLES = frozenset({Role.chief_scrutineer.value, Role.scrutineer.value})


def sign_round(
    session: Session,
    *,
    actor: Principal,
    round_id: int,
    signer_session: Mapping[str, JsonValue] | None = None,
) -> list[dict[str, Any]]:
    """C2: the chief scrutineer and at least one scrutineer sign the decision; then it is
    certified (``round.certified``) and frozen. ``signer_session``: the session signed with (its
    id, never the token, and how its login code was issued: ``app.setup.duties``)."""
    round_ = papers_service.get_round(session, round_id=round_id)
    congress_id = papers_service.congress_of(session, round_)
    actor.ensure_congress(congress_id)
    store.lock_chain(session, congress_id=congress_id)
    decision = decision_of(session, round_)
    if decision is None or round_.status not in (ROUND_DECIDED, ROUND_CERTIFIED):
        raise Conflict("round_not_decided", "本轮尚未作出决定", "the round is not decided yet")
    if actor.official_id is None or actor.role not in (Role.chief_scrutineer, Role.scrutineer):
        raise Conflict(
            "signer_not_scrutineer",
            "只有总监票人和监票人本人可以签字",
            "only the chief scrutineer and the scrutineers sign, each with their own login",
        )
    signatures = signatures_of(session, round_, decision)
    if any(s["official_id"] == actor.official_id for s in signatures):
        raise Conflict("already_signed", "您已经签过字", "you have already signed this decision")
    payload: dict[str, JsonValue] = {
        "round_id": round_.id,
        "decision": decision.event_hash,
        "official_id": actor.official_id,
        "role": str(actor.role),
    }
    if signer_session is not None:
        payload["session"] = signer_session
    store.append_event(
        session,
        congress_id=congress_id,
        type="round.signed",
        payload=payload,
        actor_role=actor.role,
    )
    signatures.append(payload)
    roles = {signature["role"] for signature in signatures}
    if round_.status == ROUND_DECIDED and roles >= CERTIFYING_ROLES:
        store.append_event(
            session,
            congress_id=congress_id,
            type="round.certified",
            payload={
                "round_id": round_.id,
                "decision": decision.event_hash,
                "signers": sorted(int(str(s["official_id"])) for s in signatures),
            },
            actor_role=actor.role,
        )
        round_.status = ROUND_CERTIFIED
        session.flush()
    return signatures


def _follow_up_called_for(session: Session, round_: models.Round) -> dict[str, Any]:
    """The certified, released decision's ``next_round`` (tie or supplementary), if no later
    round is open yet; else 409."""
    decision = decision_of(session, round_)
    if decision is None or round_.status != ROUND_CERTIFIED:
        raise Conflict(
            "round_not_certified",
            "本轮结果尚未经总监票人和监票人签字确认（C2）",
            "the round's result is not certified yet (C2)",
        )
    next_round: dict[str, Any] | None = decision.result["next_round"]
    if next_round is None or next_round["kind"] == "rerun":
        raise Conflict("no_follow_up", "本轮不需要后续轮次", "no follow-up round is called for")
    if released_decision(session, round_) is None:
        # C3 before M5/M6: the result is announced on the spot (六.5), then the follow-up round is
        # held; opened earlier, its list (the tied persons) would reach the tablets first.
        raise Conflict(
            "round_not_released",
            "本轮结果尚未向会场公布（C3）：请先公布结果，再开启后续轮次",
            "the round's result is not released to the hall yet (C3): release it, then open the "
            "follow-up round",
        )
    later = [
        r for r in live_rounds(session, election_id=round_.election_id) if r.number > round_.number
    ]
    if later:
        raise Conflict(
            "follow_up_exists",
            f"已开启第 {later[0].number} 轮",
            f"round {later[0].number} is already open",
        )
    return next_round


def _follow_up_names(
    session: Session,
    round_: models.Round,
    next_round: Mapping[str, Any],
    candidates: list[str] | None,
) -> list[str]:
    """The engine's proposal, or the presidium's list normalized: exactly the tied persons for a
    tie round (M7); non-empty, no empty or repeated name, nobody ruled ineligible (P7)."""
    proposal: list[str] = next_round["candidates"]
    names = proposal if candidates is None else [normalize_person_name(n) for n in candidates]
    if next_round["kind"] == "tie" and candidates is not None and sorted(names) != sorted(proposal):
        raise InvalidInput(
            "tie_round_candidates",
            "票数相等重新投票只能在票数相等者之间进行（M7）",
            "a tie round is held among exactly the tied persons (M7)",
            field="candidates",
        )
    keys = [normalize_name(name) for name in names]
    if not names or any(not key for key in keys) or len(set(keys)) != len(keys):
        raise InvalidInput(
            "follow_up_candidates",
            "候选人名单不能为空、不能有空名或重复",
            "the list must be non-empty, without empty or repeated names",
            field="candidates",
        )
    struck = sorted(set(keys) & ruled_ineligible(session, round_))
    if struck:
        raise InvalidInput(
            "follow_up_ineligible",
            f"{'、'.join(struck)} 已被大会主席团裁定不具备被选举资格（P7），不能列入名单",
            f"{', '.join(struck)} ruled ineligible by the presidium (P7): not on the list",
            field="candidates",
        )
    return names


def open_follow_up(
    session: Session, *, actor: Principal, round_id: int, candidates: list[str] | None
) -> models.Round:
    """M5/M6/M7: open the tie or supplementary round the certified decision calls for.

    A tie round lists exactly the tied persons. A supplementary round takes the engine's proposal,
    or the presidium's edited list (六.8), names normalized like roster names: nobody elected
    already in this election, no official of the congress (O1), and a 差额 list — at least the
    profile's ``slate_size`` for the seats (M6), or as many as the seats when the profile allows
    uncontested elections. Nothing follows once the seats were reduced (M10). Both need the
    quorum now (Q1).
    """
    round_ = papers_service.get_round(session, round_id=round_id)
    congress_id = papers_service.congress_of(session, round_)
    actor.ensure_congress(congress_id)
    store.lock_chain(session, congress_id=congress_id)
    next_round = _follow_up_called_for(session, round_)
    election = setup_service.get_election(session, election_id=round_.election_id)
    if _seats_reduced_to(session, election) is not None:
        raise Conflict(
            "seats_reduced",
            "大会主席团已决定减少名额、不再选举，不能再开启后续轮次（M10）",
            "the presidium reduced the seats: no further round is held (M10)",
        )
    names = _follow_up_names(session, round_, next_round, candidates)
    profile = setup_service.election_profile(election)
    if next_round["kind"] == "supplementary":
        _check_supplementary_list(
            session, election=election, names=names, seats=next_round["seats"], profile=profile
        )
    quorum = papers_service._quorum_now(session, election=election, profile=profile)
    if not quorum.met:
        raise papers_service.quorum_not_met(quorum)
    ordered, _ = stroke_order(names, profile.name_order)
    return papers_service._new_round(
        session,
        actor=actor,
        election=election,
        number=papers_service.next_round_number(session, election_id=election.id),
        kind=next_round["kind"],
        seats=next_round["seats"],
        candidates=ordered,
        present=quorum.present,
        follows=round_,
    )


def released_decision(session: Session, round_: models.Round) -> Decision | None:
    """The round's decision if it is certified and the presidium released that decision (C3)."""
    if round_.status != ROUND_CERTIFIED:
        return None
    decision = decision_of(session, round_)
    if decision is None:
        return None
    congress_id = papers_service.congress_of(session, round_)
    for _, payload in _events_of_round(
        session, congress_id=congress_id, types=(ROUND_RELEASED,), round_id=round_.id
    ):
        if payload.get("decision") == decision.event_hash:
            return decision
    return None


def _check_supplementary_list(
    session: Session, *, election: models.Election, names: list[str], seats: int, profile: Profile
) -> None:
    """M6/M8 and O1 for a supplementary round's list (see ``open_follow_up``)."""
    elected = {
        normalize_name(str(e["name"])): e
        for e in election_result(session, election_id=election.id)["elected"]
    }
    for index, name in enumerate(names):
        before = elected.get(normalize_name(name))
        if before is not None:
            raise InvalidInput(
                "candidate_already_elected",
                f"{name} 已在第 {before['round']} 轮当选，不能再列为另行选举候选人（M9）",
                f"{name} was elected in round {before['round']} and cannot stand again (M9)",
                field=f"candidates.{index}",
            )
    officials = setup_service.list_officials(session, congress_id=election.congress_id)
    for index, name in enumerate(names):
        for official in officials:
            if setup_service.same_person(name, None, official.name, official.student_id):
                raise InvalidInput(
                    "candidate_is_official",
                    f"{name} 是本次大会的选举工作人员，不能作为候选人（O1）",
                    f"{name} is an official of this congress and cannot be a candidate (O1)",
                    field=f"candidates.{index}",
                )
    needed = follow_up_rule("supplementary", seats, profile).needed
    if len(names) < needed:
        raise InvalidInput(
            "follow_up_not_competitive",
            f"另行选举 {seats} 名，候选人应至少 {needed} 名（差额选举，M6）；现有 {len(names)} 名",
            f"a supplementary round for {seats} seat(s) needs at least {needed} candidates "
            f"(competitive slate, M6); the list has {len(names)}",
            field="candidates",
        )


@dataclass(frozen=True, slots=True)
class FollowUpRule:
    """What a follow-up round's list must be (M6, M7, 六.4), for the presidium who confirms it."""

    needed: int  # the fewest names the list may have (a tie round: exactly the tied persons)
    rule_zh: str
    rule_en: str


def follow_up_rule(
    kind: str, seats: int, profile: Profile, tied: int | None = None
) -> FollowUpRule:
    """The list rule of a tie round (exactly the ``tied`` persons, M7) or of a supplementary round
    for ``seats`` seats under the profile's ``slate_size``, ``supplementary_pool`` and
    ``allow_uncontested`` (M6, M8) — the same ``needed`` that ``open_follow_up`` enforces."""
    if kind == "tie":
        count = seats if tied is None else tied
        return FollowUpRule(
            count,
            f"票数相等重新投票（M7）：只在票数相等的 {count} 人之间进行，名单不能修改；"
            "选票上没有另选他人栏，得赞成票多者当选",
            f"tie round (M7): held among exactly the {count} tied persons, the list cannot be "
            "edited; no write-in boxes; the most yes votes win",
        )
    if profile.allow_uncontested:
        needed = seats
        slate_zh = (
            f"本选举允许等额选举：候选人不少于应选名额即可（另行选举 {seats} 名，至少 {needed} 名）"
        )
        slate_en = f"uncontested allowed: at least as many candidates as seats ({needed})"
    else:
        needed = slate_size(seats, profile)
        if profile.slate_size == "ratio_20":
            slate_zh = (
                "差额选举（M6）：候选人至少比应选名额多 20%，且至少多 1 名"
                f"（另行选举 {seats} 名，至少 {needed} 名）"
            )
            slate_en = f"competitive (M6): at least 20% and 1 more candidates than seats ({needed})"
        else:
            slate_zh = (
                "差额选举（M6）：候选人至少比应选名额多 1 名"
                f"（另行选举 {seats} 名，至少 {needed} 名）"
            )
            slate_en = f"competitive (M6): at least one more candidate than seats ({needed})"
    if profile.supplementary_pool == "listed_only":
        pool_zh = "引擎只从本轮选票上印的候选人中、按赞成票从多到少提出建议名单"
        pool_en = "the engine proposes from the printed candidates only, by yes votes"
    else:
        pool_zh = "引擎从未当选的人（含另选他人）中、按赞成票从多到少提出建议名单"
        pool_en = "the engine proposes from every person not elected (write-ins too), by yes votes"
    return FollowUpRule(
        needed,
        f"{slate_zh}；{pool_zh}，票数相等者一并列入；已当选的人和选举工作人员不能列入（M9、O1）；"
        "另行选举仍须得赞成票超过半数才能当选（M8）",
        f"{slate_en}; {pool_en}, ties at the cut included; nobody already elected and no "
        "official (M9, O1); a majority is still needed (M8)",
    )


def election_result(
    session: Session, *, election_id: int, released_only: bool = False
) -> dict[str, Any]:
    """M9: the union of every certified round's elected persons, each with its round.

    ``released_only`` (C3, for those not in ``SEES_UNRELEASED``): a round's outcome and elected
    persons count only once the presidium has released them to the hall.

    Guard: a person is listed once (the round that elected them first) and never more persons
    than seats; anything else a round's decision names is reported under ``disregarded`` (with
    the reason) for the presidium, never counted as a seat filled."""
    election = setup_service.get_election(session, election_id=election_id)
    reduced_to = _seats_reduced_to(session, election)
    seats = election.seats if reduced_to is None else reduced_to
    elected: list[dict[str, Any]] = []
    disregarded: list[dict[str, Any]] = []
    listed: set[str] = set()
    rounds = []
    open_follow_up_round: dict[str, Any] | None = None
    for round_ in papers_service.list_rounds(session, election_id=election_id):
        decision = (
            released_decision(session, round_) if released_only else decision_of(session, round_)
        )
        rounds.append(
            {
                "round_id": round_.id,
                "number": round_.number,
                "kind": round_.kind,
                "status": round_.status,
                "outcome": None if decision is None else decision.result["round"]["outcome"],
            }
        )
        if decision is not None and round_.status == ROUND_CERTIFIED:
            for name in decision.result["elected"]:
                key = normalize_name(name)
                entry = {"name": name, "round": round_.number}
                if key in listed:
                    disregarded.append(entry | {"reason": "already_elected"})
                elif len(elected) >= election.seats:
                    disregarded.append(entry | {"reason": "no_seat_left"})
                else:
                    listed.add(key)
                    elected.append(entry)
            open_follow_up_round = decision.result["next_round"]
    filled = len(elected)
    return {
        "election_id": election.id,
        "title": election.title,
        "seats": seats,
        "seats_reduced_from": None if reduced_to is None else election.seats,
        "elected": elected,
        "seats_filled": filled,
        "seats_open": max(0, seats - filled),
        "complete": filled >= seats,
        "next_round": None if filled >= seats else open_follow_up_round,
        "rounds": rounds,
        "disregarded": disregarded,
    }


def certified_result(session: Session, round_: models.Round) -> RoundResult:
    """The round's result recomputed from the reconciled papers, checked against the recorded
    decision: a row changed behind the log's back makes them differ, and nothing is reported."""
    decision = decision_of(session, round_)
    if decision is None:
        raise Conflict("round_not_decided", "本轮尚未作出决定", "the round is not decided yet")
    result = compute_round(session, round_)
    if round_result_json(result) != decision.result:
        raise _record_mismatch()
    return result


def _officials(session: Session, congress_id: int) -> Officials:
    officials = setup_service.list_officials(session, congress_id=congress_id)

    def names(role: Role) -> tuple[str | None, ...]:
        return tuple(o.name for o in officials if o.role == role)

    chief_scrutineer = names(Role.chief_scrutineer)
    chief_teller = names(Role.chief_teller)
    return Officials(
        chief_scrutineer=chief_scrutineer[0] if chief_scrutineer else None,
        scrutineers=names(Role.scrutineer),
        chief_teller=chief_teller[0] if chief_teller else None,
        tellers=names(Role.teller),
    )


def _signed(session: Session, round_: models.Round) -> tuple[SignedBy, ...]:
    """The decision's signatures with their sessions and login codes (``app.setup.duties``)."""
    decision = decision_of(session, round_)
    if decision is None:
        return ()
    congress_id = papers_service.congress_of(session, round_)
    events = _events_of_round(
        session, congress_id=congress_id, types=("round.signed",), round_id=round_.id
    )
    found = []
    for row, signature in events:
        if signature["decision"] != decision.event_hash:
            continue
        official = session.get(models.Official, signature["official_id"])
        signed_with = signature.get("session") or {}
        code = signed_with.get("code") or {}
        confirmation = code.get("confirmation") or {}
        found.append(
            SignedBy(
                role=str(signature["role"]),
                name=None if official is None else official.name,
                signed_at=row.at,
                session_id=signed_with.get("id"),
                code_issued_at=code.get("issued_at"),
                code_issued_by=code.get("issued_by"),
                confirmed_by=confirmation.get("name"),
            )
        )
    return tuple(found)


def report_pdf(
    session: Session,
    *,
    round_id: int,
    data_dir: Path,
    history: tuple[tuple[str, str], ...] = (),
) -> tuple[models.Round, bytes]:
    """C4: the 选举结果报告单 of a decided round, with the chain's head hash and the public key
    that signs exported records, and the round's ``history`` (earlier decisions, corrections)."""
    round_ = papers_service.get_round(session, round_id=round_id)
    election = setup_service.get_election(session, election_id=round_.election_id)
    congress = setup_service.get_congress(session, congress_id=election.congress_id)
    result = certified_result(session, round_)
    head = store.list_events(session, congress_id=congress.id)[-1]
    layout = load_report_layout()
    report = compose_report(
        ReportInput(
            congress=congress.name,
            election_title=election.title,
            round_number=round_.number,
            round_kind=papers_service.round_definition(round_).kind,
            date=head_date(head),
            printed=round_.printed if round_.printed is not None else round_.issued or 0,
            result=result,
            head_hash=head.hash,
            public_key_fingerprint=public_key_hex(signing_key(data_dir)),
            officials=_officials(session, congress.id),
            history=history,
            signed=_signed(session, round_),
        ),
        layout.signature_counts,
    )
    return round_, render_report(report, layout)


def head_date(head: models.Event) -> datetime.date:
    return datetime.date.fromisoformat(head.at[:10])


def election_record(session: Session, *, election_id: int) -> ElectionRecord:
    """Every decided round of an election, recomputed and checked, for the exports."""
    election = setup_service.get_election(session, election_id=election_id)
    congress = setup_service.get_congress(session, congress_id=election.congress_id)
    rounds = []
    for round_ in papers_service.list_rounds(session, election_id=election_id):
        if round_.status not in (ROUND_DECIDED, ROUND_CERTIFIED):
            continue
        result = certified_result(session, round_)
        papers = tuple(counting_reconciliation.reconciled_papers(session, round_id=round_.id))
        rounds.append(RoundRecord(round_.number, result.definition.kind, result, papers))
    events = store.list_events(session, congress_id=congress.id)
    return ElectionRecord(
        election_id=str(election.id),
        title=election.title,
        title_en=election.title,
        congress=congress.name,
        date=head_date(events[-1]),
        rounds=tuple(rounds),
    )


def reason_text(reason: str) -> str:
    text = reason.strip()
    if not text:
        raise InvalidInput("reason_required", "请写明理由", "a reason is required", field="reason")
    return text


def reduce_seats(
    session: Session, *, actor: Principal, election_id: int, reason: str
) -> dict[str, Any]:
    """M10: the presidium reduces the seats to those filled (减少名额，不再选举); the election is
    complete. Refused while a round of the election is still open or undecided."""
    election = setup_service.get_election(session, election_id=election_id)
    actor.ensure_congress(election.congress_id)
    store.lock_chain(session, congress_id=election.congress_id)
    rounds = papers_service.list_rounds(session, election_id=election_id)
    finished = (ROUND_CERTIFIED, papers_service.ROUND_VOID, ROUND_CANCELLED)
    unfinished = [r for r in rounds if r.status not in finished]
    if not rounds or unfinished:
        raise Conflict(
            "rounds_unfinished",
            "尚有未经确认的轮次，不能减少名额",
            "a round is still open or not certified: seats cannot be reduced now",
        )
    result = election_result(session, election_id=election_id)
    if result["complete"]:
        raise Conflict("election_complete", "名额已满", "every seat is already filled")
    store.append_event(
        session,
        congress_id=election.congress_id,
        type="election.seats_reduced",
        payload={
            "election_id": election.id,
            "seats_from": result["seats"],
            "seats_to": result["seats_filled"],
            "reason": reason_text(reason),
        },
        actor_role=actor.role,
    )
    return election_result(session, election_id=election_id)


def _seats_reduced_to(session: Session, election: models.Election) -> int | None:
    rows = session.scalars(
        select(models.Event)
        .where(
            models.Event.congress_id == election.congress_id,
            models.Event.type == "election.seats_reduced",
        )
        .order_by(models.Event.height)
    ).all()
    reduced = [json.loads(row.payload) for row in rows]
    mine = [p["seats_to"] for p in reduced if p["election_id"] == election.id]
    return mine[-1] if mine else None
