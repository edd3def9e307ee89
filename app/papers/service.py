"""Rounds and their papers: open a round (Q1 pre-check, frozen definition), verify a scanned QR
code (P1), print the papers, record issuance (Q1 checked again and ``present`` frozen, Q3; I1) and
collection (I2: an overcount voids the round and opens its rerun). Each use case runs in the
request's transaction, appends its event, flushes.

Events: ``round.opened`` (the frozen definition document and its hash; ``present`` = the count at
opening, informative), ``round.papers_issued`` (printed, issued, destroyed = printed − issued:
剩余选票当众销毁; ``present`` = the checked-in count at issuance, the round's 实到 for I1, I2 and
M1), ``round.papers_collected``, ``round.void`` (I2, with the numbers), ``round.rerun_not_opened``
(Q1 failed for the rerun).

Once an election has a round, its candidates, seats and profile are frozen: the setup service,
which alone changes them, refuses with 409 ``election_frozen`` (``app.setup.service
.refuse_if_frozen``).
"""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import models
from app.auth.roles import Principal
from app.errors import Conflict, InvalidInput, not_found
from app.keys import require_qr_key
from app.ledger import store
from app.ledger.chain import JsonValue
from app.papers import schemas
from app.papers.definition import freeze_round
from app.papers.qr import (
    Forged,
    OtherDefinition,
    OtherElection,
    OtherRound,
    ThisRound,
    Verdict,
    encode_payload,
    verify_payload,
)
from app.printing.ballot import PaperOverflowError, compose_paper, render_papers
from app.printing.layout import LayoutError, PaperSize, load_layout
from app.rules.decide import overcount, required_present
from app.rules.model import RoundDefinition, RoundKind
from app.rules.profiles import Profile, parse_profile
from app.setup import service as setup_service

ROUND_OPEN = "open"
ROUND_ISSUED = "issued"
ROUND_COLLECTED = "collected"
ROUND_COUNTING = "counting"
ROUND_VOID = "void"
ROUND_CANCELLED = "cancelled"  # a follow-up round the presidium cancelled before issuance
# What people in the hall call each state of a round (the one place: messages use these words).
ROUND_STATUS_ZH: dict[str, str] = {
    ROUND_OPEN: "已开启，尚未发出选票",
    ROUND_ISSUED: "已发出选票",
    ROUND_COLLECTED: "已收回选票",
    ROUND_COUNTING: "计票中",
    ROUND_VOID: "已宣布无效",
    "decided": "计票结果已确定",  # results.service.ROUND_DECIDED
    "certified": "已认证",  # results.service.ROUND_CERTIFIED (总监票人签字)
    ROUND_CANCELLED: "已撤销",
}


def round_status_zh(status: str) -> str:
    return ROUND_STATUS_ZH.get(status, status)


# ---------------------------------------------------------------- the QR key


@lru_cache(maxsize=8)
def _key_for(data_dir: Path) -> bytes:
    # Never created here: once a round exists a new key would refuse every printed paper.
    return require_qr_key(data_dir)


def qr_key(data_dir: Path) -> bytes:
    """The installation's QR key (read once per process and data directory)."""
    return _key_for(data_dir.resolve())


# ---------------------------------------------------------------- reading rounds


def get_round(session: Session, *, round_id: int) -> models.Round:
    round_ = session.get(models.Round, round_id)
    if round_ is None:
        raise not_found("轮次", "round", round_id)
    return round_


def list_rounds(session: Session, *, election_id: int) -> Sequence[models.Round]:
    setup_service.get_election(session, election_id=election_id)
    return session.scalars(
        select(models.Round)
        .where(models.Round.election_id == election_id)
        .order_by(models.Round.number)
    ).all()


def next_round_number(session: Session, *, election_id: int) -> int:
    """The number of the election's next round: after every round, cancelled ones included."""
    return max((r.number for r in list_rounds(session, election_id=election_id)), default=0) + 1


def round_document(round_: models.Round) -> dict[str, Any]:
    document = json.loads(round_.definition)
    assert isinstance(document, dict)
    return document


@lru_cache(maxsize=256)
def _definition(definition_hash: str, text: str) -> RoundDefinition:  # noqa: ARG001 (cache key)
    document = json.loads(text)
    return RoundDefinition(
        seats=document["seats"],
        candidates=tuple(document["candidates"]),
        kind=document["kind"],
        profile=parse_profile(document["profile"]),
    )


def round_definition(round_: models.Round) -> RoundDefinition:
    """The engine's definition of the round, rebuilt from the frozen document."""
    return _definition(round_.definition_hash, round_.definition)


def congress_of(session: Session, round_: models.Round) -> int:
    election = setup_service.get_election(session, election_id=round_.election_id)
    return election.congress_id


# ---------------------------------------------------------------- opening a round (Q1)


@dataclass(frozen=True, slots=True)
class QuorumFigures:
    delegates_total: int
    present: int
    required: int

    @property
    def met(self) -> bool:
        return self.present >= self.required


def _quorum_now(session: Session, *, election: models.Election, profile: Profile) -> QuorumFigures:
    attendance = setup_service.get_attendance(session, congress_id=election.congress_id)
    return QuorumFigures(
        delegates_total=attendance.delegates_total,
        present=attendance.present,
        required=required_present(
            attendance.delegates_total, profile.quorum, profile.quorum_strict
        ),
    )


def quorum_not_met(quorum: QuorumFigures) -> Conflict:
    return Conflict(
        "quorum_not_met",
        f"实到 {quorum.present} 人，不足法定人数 {quorum.required} 人（应到 "
        f"{quorum.delegates_total} 人），不能发出选票（Q1）",
        f"{quorum.present} present, {quorum.required} required of "
        f"{quorum.delegates_total} delegates: papers may not be issued (Q1)",
    )


def definition_text(document: Mapping[str, JsonValue]) -> str:
    """How ``Round.definition`` stores the frozen document (its hash is over canonical JSON)."""
    return json.dumps(document, ensure_ascii=False, sort_keys=True)


def _new_round(
    session: Session,
    *,
    actor: Principal,
    election: models.Election,
    number: int,
    kind: RoundKind,
    seats: int,
    candidates: tuple[str, ...],
    present: int,
    follows: models.Round | None,
    counted_as: RoundKind | None = None,
) -> models.Round:
    """``kind`` is the round's (``"rerun"`` for a rerun); ``counted_as`` the kind its definition
    is counted as when it differs (a rerun is counted as the round it reruns, I2/M7/M8).
    ``present`` is the count at opening; issuance replaces it by the count then (Q3)."""
    profile = setup_service.election_profile(election)
    definition = RoundDefinition(
        seats=seats, candidates=candidates, kind=counted_as or kind, profile=profile
    )
    frozen = freeze_round(definition, election_id=election.id, round_number=number)
    round_ = models.Round(
        election_id=election.id,
        number=number,
        kind=kind,
        seats=seats,
        candidates=list(candidates),
        definition=definition_text(frozen.document),
        definition_hash=frozen.hash,
        present=present,
        status=ROUND_OPEN,
        follows_round_id=None if follows is None else follows.id,
    )
    session.add(round_)
    session.flush()
    store.append_event(
        session,
        congress_id=election.congress_id,
        type="round.opened",
        payload={
            "round_id": round_.id,
            "election_id": election.id,
            "number": number,
            "kind": kind,
            "follows_round_id": round_.follows_round_id,
            "definition": frozen.document,
            "definition_hash": frozen.hash,
            "present": present,
        },
        actor_role=actor.role,
    )
    return round_


def open_round(session: Session, *, actor: Principal, election_id: int) -> models.Round:
    """Open the election's first round (regular), or the rerun of its last round if that was void
    and no rerun could be opened then. Requires the slate (六.4), O2 staffing and Q1 now."""
    election = setup_service.get_election(session, election_id=election_id)
    store.lock_chain(session, congress_id=election.congress_id)
    actor.ensure_congress(election.congress_id)
    rounds = [
        r for r in list_rounds(session, election_id=election_id) if r.status != ROUND_CANCELLED
    ]
    last = rounds[-1] if rounds else None
    if last is not None and last.status != ROUND_VOID:
        raise Conflict(
            "round_exists",
            f"本选举已有第 {last.number} 轮；后续轮次由计票结果产生",
            f"this election already has round {last.number}; later rounds follow from results",
        )
    profile = setup_service.election_profile(election)
    quorum = _quorum_now(session, election=election, profile=profile)
    if last is None:
        setup_service.require_slate(session, election_id=election_id)
        setup_service.require_staffing(session, congress_id=election.congress_id)
        if not quorum.met:
            raise quorum_not_met(quorum)
        ordered, _ = setup_service.sorted_candidates(session, election=election)
        return _new_round(
            session,
            actor=actor,
            election=election,
            number=1,
            kind="regular",
            seats=election.seats,
            candidates=tuple(c.name for c in ordered),
            present=quorum.present,
            follows=None,
        )
    if not quorum.met:
        raise quorum_not_met(quorum)
    return _open_rerun(session, actor=actor, election=election, void=last, present=quorum.present)


def _open_rerun(
    session: Session,
    *,
    actor: Principal,
    election: models.Election,
    void: models.Round,
    present: int,
) -> models.Round:
    """I2: the same round held again — same candidates, same seats, new papers, counted as the
    void round was: the rerun of a tie round is a tie round (M7: no write-in boxes, plurality),
    the rerun of a supplementary round a supplementary round (M8, M10)."""
    voided = round_definition(void)
    return _new_round(
        session,
        actor=actor,
        election=election,
        number=next_round_number(session, election_id=election.id),
        kind="rerun",
        seats=void.seats,
        candidates=tuple(void.candidates),
        present=present,
        follows=void,
        counted_as=voided.kind,
    )


# ---------------------------------------------------------------- QR verification (P1)


def verify_scan(
    session: Session,
    *,
    round_: models.Round,
    payload: str,
    data_dir: Path,
    field: str = "body.payload",
) -> ThisRound:
    """Judge a scanned code against the round; anything but this round's paper is a 422 on
    ``field`` (the body field that carried the code)."""
    verdict: Verdict = verify_payload(
        payload,
        key=qr_key(data_dir),
        election_id=round_.election_id,
        round_number=round_.number,
        definition_hash=round_.definition_hash,
    )
    match verdict:
        case ThisRound():
            return verdict
        case OtherRound(round_number=number):
            other = session.scalars(
                select(models.Round).where(
                    models.Round.election_id == round_.election_id, models.Round.number == number
                )
            ).one_or_none()
            raise InvalidInput(
                "qr_other_round",
                f"{verdict.message_zh}（本轮为第 {round_.number} 轮，P1）",
                f"{verdict.message_en} (this is round {round_.number}; P1)"
                + ("" if other is None else f"; round id {other.id}"),
                field=field,
            )
        case OtherElection():
            raise InvalidInput(
                "qr_other_election",
                f"{verdict.message_zh}，不是本选举的选票（P1）",
                f"{verdict.message_en}, not of this election (P1)",
                field=field,
            )
        case OtherDefinition():
            raise InvalidInput(
                "qr_other_definition",
                f"{verdict.message_zh}（P1）",
                f"{verdict.message_en} (P1)",
                field=field,
            )
        case Forged():
            raise InvalidInput(
                "qr_forged",
                f"{verdict.message_zh}（P1）",
                f"{verdict.message_en} (P1)",
                field=field,
            )


def round_payload(round_: models.Round, *, data_dir: Path) -> str:
    return encode_payload(
        key=qr_key(data_dir),
        election_id=round_.election_id,
        round_number=round_.number,
        definition_hash=round_.definition_hash,
    )


# ---------------------------------------------------------------- issuance and collection


def _ensure_status(
    round_: models.Round, allowed: tuple[str, ...], what_zh: str, what_en: str
) -> None:
    if round_.status not in allowed:
        raise Conflict(
            "round_state",
            f"第 {round_.number} 轮当前为“{round_status_zh(round_.status)}”，不能{what_zh}",
            f"round {round_.number} is {round_.status}: cannot {what_en}",
        )


def record_issuance(
    session: Session, *, actor: Principal, round_id: int, printed: int, issued: int
) -> models.Round:
    """Q1 checked again against the delegates checked in now, and that count frozen as the
    round's ``present`` (Q3): the base of I1, I2 and the majority (M1). I1: issued ≤ present and
    ≤ printed; the rest are destroyed in public (B4). Refused below quorum, nothing changed."""
    round_ = get_round(session, round_id=round_id)
    election = setup_service.get_election(session, election_id=round_.election_id)
    congress_id = election.congress_id
    actor.ensure_congress(congress_id)
    store.lock_chain(session, congress_id=congress_id)
    session.refresh(round_)
    _ensure_status(round_, (ROUND_OPEN,), "登记发票", "record issuance")
    quorum = _quorum_now(session, election=election, profile=round_definition(round_).profile)
    if not quorum.met:
        raise quorum_not_met(quorum)
    present = quorum.present
    if issued > present:
        raise InvalidInput(
            "issued_exceeds_present",
            f"发出选票 {issued} 张多于实到人数 {present} 人（I1）",
            f"issued {issued} exceeds present {present} (I1)",
            field="body.issued",
        )
    if issued > printed:
        raise InvalidInput(
            "issued_exceeds_printed",
            f"发出选票 {issued} 张多于印制的 {printed} 张（I1）",
            f"issued {issued} exceeds printed {printed} (I1)",
            field="body.issued",
        )
    round_.present = present
    round_.printed = printed
    round_.issued = issued
    round_.destroyed = printed - issued
    round_.status = ROUND_ISSUED
    session.flush()
    store.append_event(
        session,
        congress_id=congress_id,
        type="round.papers_issued",
        payload={
            "round_id": round_.id,
            "printed": printed,
            "issued": issued,
            "destroyed": printed - issued,
            "present": present,
        },
        actor_role=actor.role,
    )
    return round_


@dataclass(frozen=True, slots=True)
class CollectionResult:
    """The round as collected, or void with its rerun (or the Q1 refusal that kept it closed)."""

    round: models.Round
    rerun: models.Round | None
    rerun_refused: Conflict | None


def record_collection(
    session: Session, *, actor: Principal, round_id: int, collected: int
) -> CollectionResult:
    """Record the papers taken out of the box. I2: more than present (or the profile's base:
    issued), or more than issued, voids the round at once and opens its rerun if Q1 holds now."""
    round_ = get_round(session, round_id=round_id)
    election = setup_service.get_election(session, election_id=round_.election_id)
    actor.ensure_congress(election.congress_id)
    store.lock_chain(session, congress_id=election.congress_id)
    session.refresh(round_)
    _ensure_status(round_, (ROUND_ISSUED,), "登记收回选票", "record collection")
    assert round_.issued is not None
    profile = round_definition(round_).profile
    round_.collected = collected
    void = overcount(
        collected=collected,
        present=round_.present,
        issued=round_.issued,
        base_name=profile.overcount_base,
    )
    if void is None:
        round_.status = ROUND_COLLECTED
        session.flush()
        store.append_event(
            session,
            congress_id=election.congress_id,
            type="round.papers_collected",
            payload={"round_id": round_.id, "collected": collected, "issued": round_.issued},
            actor_role=actor.role,
        )
        return CollectionResult(round_, None, None)
    return void_and_rerun(
        session,
        actor=actor,
        election=election,
        round_=round_,
        void_payload={
            "round_id": round_.id,
            "rule": "I2",
            "collected": collected,
            "present": round_.present,
            "issued": round_.issued,
            "overcount_base": profile.overcount_base,
        },
    )


@dataclass(frozen=True, slots=True)
class VoidReason:
    rule: str | None  # "I2" for an overcount; None: the presidium's ruling (六.8)
    message_zh: str
    message_en: str


def void_reason(round_: models.Round) -> VoidReason | None:
    """Why a void round is void, in words: the overcount (I2, with its numbers, as the rules
    engine states it) or the presidium's ruling; None for a round that is not void."""
    if round_.status != ROUND_VOID:
        return None
    if round_.collected is not None and round_.issued is not None:
        entry = overcount(
            collected=round_.collected,
            present=round_.present,
            issued=round_.issued,
            base_name=round_definition(round_).profile.overcount_base,
        )
        if entry is not None:
            return VoidReason(entry.rule, entry.message_zh, entry.message_en)
    return VoidReason(
        None,
        "大会主席团宣布本轮选举无效，应重新选举",
        "the presidium declared the round void; it is held again",
    )


def void_and_rerun(
    session: Session,
    *,
    actor: Principal,
    election: models.Election,
    round_: models.Round,
    void_payload: dict[str, JsonValue],
) -> CollectionResult:
    """The round is void (``round.void`` with ``void_payload``: an overcount, I2, or the
    presidium's ruling, 六.8) and its rerun opens at once if Q1 holds now; else
    ``round.rerun_not_opened`` is recorded and the rerun is opened later (``open_round``)."""
    round_.status = ROUND_VOID
    session.flush()
    store.append_event(
        session,
        congress_id=election.congress_id,
        type="round.void",
        payload=void_payload,
        actor_role=actor.role,
    )
    quorum = _quorum_now(
        session, election=election, profile=setup_service.election_profile(election)
    )
    if not quorum.met:
        store.append_event(
            session,
            congress_id=election.congress_id,
            type="round.rerun_not_opened",
            payload={
                "round_id": round_.id,
                "rule": "Q1",
                "present": quorum.present,
                "required": quorum.required,
                "delegates_total": quorum.delegates_total,
            },
            actor_role=actor.role,
        )
        return CollectionResult(round_, None, quorum_not_met(quorum))
    rerun = _open_rerun(
        session, actor=actor, election=election, void=round_, present=quorum.present
    )
    return CollectionResult(round_, rerun, None)


# ---------------------------------------------------------------- printing (B1–B4)

MAX_COPIES = 5000


def render_round_papers(
    session: Session,
    *,
    round_id: int,
    data_dir: Path,
    paper_size: PaperSize | None,
    per_page: int | None,
    copies: int | None,
) -> tuple[models.Round, bytes]:
    """The round's papers as one PDF. ``copies`` defaults to the delegates checked in now (papers
    are printed before issuance, which freezes ``present``: Q3), and once the papers are issued to
    the round's frozen ``present``; nobody checked in asks for ``copies``."""
    round_ = get_round(session, round_id=round_id)
    election = setup_service.get_election(session, election_id=round_.election_id)
    congress = setup_service.get_congress(session, congress_id=election.congress_id)
    if copies is not None:
        count = copies
    elif round_.issued is not None:
        count = round_.present
    else:
        count = setup_service.get_attendance(session, congress_id=congress.id).present
    if not 1 <= count <= MAX_COPIES:
        raise InvalidInput(
            "invalid_copies",
            f"印制份数应在 1 到 {MAX_COPIES} 之间",
            f"copies must be between 1 and {MAX_COPIES}",
            field="query.copies",
        )
    try:
        layout = load_layout()
        paper = compose_paper(
            round_definition(round_),
            layout,
            round_number=round_.number,
            qr_payload=round_payload(round_, data_dir=data_dir),
            title=election.title,
            logo_text=congress.name,
        )
        pdf = render_papers(
            paper,
            copies=count,
            paper_size=paper_size or layout.paper_size,
            per_page=per_page or layout.per_page,
            font=layout.font,
        )
    except (LayoutError, PaperOverflowError) as exc:
        raise Conflict(
            "paper_layout",
            "选票无法按所选纸张排版：请改用更大的纸张或每页一张，或请秘书处检查版式文件",
            f"the paper cannot be laid out: {exc}",
            field="query.paper_size",
        ) from None
    return round_, pdf


def round_read(round_: models.Round) -> schemas.RoundRead:
    """The round as the API shows it (the papers' and the results' endpoints)."""
    return schemas.RoundRead(
        id=round_.id,
        election_id=round_.election_id,
        number=round_.number,
        kind=round_.kind,
        seats=round_.seats,
        candidates=list(round_.candidates),
        definition=json.loads(round_.definition),
        definition_hash=round_.definition_hash,
        present=round_.present,
        printed=round_.printed,
        issued=round_.issued,
        destroyed=round_.destroyed,
        collected=round_.collected,
        status=round_.status,
        follows_round_id=round_.follows_round_id,
        opened_at=round_.opened_at,
        void_reason=_void_reason_read(round_),
    )


def _void_reason_read(round_: models.Round) -> schemas.VoidReasonRead | None:
    reason = void_reason(round_)
    if reason is None:
        return None
    return schemas.VoidReasonRead(
        rule=reason.rule, message_zh=reason.message_zh, message_en=reason.message_en
    )
