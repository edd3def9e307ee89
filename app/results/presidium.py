"""Decisions of the presidium that the procedure foresees (六.8, P7, C2, M10), inside the
request's transaction. Each is one recorded event of the congress's chain, with its reason and
its author (``author_role``, ``author_official_id``), and each is refused (4xx, nothing changed)
when it does not apply:

* ``round.follow_up_cancelled`` — a tie or supplementary round is cancelled before its papers are
  issued; the presidium may then open it again with another list, or reduce the seats (M10).
* ``round.ineligible_ruled`` — a written-in person of a decided round is ruled ineligible (P7):
  struck from the ranking of that round and of the election's later rounds, the papers stay
  valid; the round is decided anew (and certified anew, C2).
* ``round.void`` with ``"rule": "presidium"`` — a round is void for an irregularity; its rerun is
  opened as for an overcount (I2), if the quorum holds now (Q1).
* ``round.correction_ordered`` — a decided round is counted again: the named batches (default:
  all) are entered again by both passes (``batch.reentry_ordered`` each), then decided anew and
  certified anew (C2).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app import models
from app.auth.roles import ROLE_NAMES_ZH, Principal, Role
from app.counting import batches as counting_batches
from app.counting import reconciliation as counting_reconciliation
from app.errors import Conflict, InvalidInput
from app.ledger import store
from app.ledger.chain import JsonValue
from app.papers import service as papers_service
from app.results import service as results_service
from app.results.service import ROUND_CANCELLED, ROUND_CERTIFIED, ROUND_DECIDED, reason_text
from app.rules import normalize_name
from app.setup import service as setup_service

FOLLOW_UP_KINDS = ("tie", "supplementary")
# States in which papers have been issued and the round can be void for an irregularity.
VOIDABLE = (
    papers_service.ROUND_ISSUED,
    papers_service.ROUND_COLLECTED,
    papers_service.ROUND_COUNTING,
    ROUND_DECIDED,
    ROUND_CERTIFIED,
)
PRESIDIUM_EVENTS = (
    "round.follow_up_cancelled",
    "round.ineligible_ruled",
    "round.void",
    "round.correction_ordered",
)


def _with_author(actor: Principal, payload: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """The event's payload with its author: the presidium member's role and official id."""
    return payload | {"author_role": str(actor.role), "author_official_id": actor.official_id}


def _round_for_presidium(
    session: Session, *, actor: Principal, round_id: int
) -> tuple[models.Round, int]:
    round_ = papers_service.get_round(session, round_id=round_id)
    congress_id = papers_service.congress_of(session, round_)
    actor.ensure_congress(congress_id)
    store.lock_chain(session, congress_id=congress_id)
    session.refresh(round_)
    return round_, congress_id


def _no_later_round(session: Session, round_: models.Round, what_zh: str, what_en: str) -> None:
    later = [
        r
        for r in results_service.live_rounds(session, election_id=round_.election_id)
        if r.number > round_.number
    ]
    if later:
        raise Conflict(
            "follow_up_exists",
            f"第 {later[0].number} 轮已经开启，不能再{what_zh}第 {round_.number} 轮",
            f"round {later[0].number} is already open; round {round_.number} cannot be {what_en}",
        )


# ---------------------------------------------------------------- a. cancel a follow-up round


def cancel_follow_up(
    session: Session, *, actor: Principal, round_id: int, reason: str
) -> models.Round:
    """六.8/M10: a tie or supplementary round whose papers are not issued yet is cancelled
    (``round.follow_up_cancelled``); the round it follows may have its follow-up opened again."""
    round_, congress_id = _round_for_presidium(session, actor=actor, round_id=round_id)
    if round_.kind not in FOLLOW_UP_KINDS or round_.follows_round_id is None:
        raise Conflict(
            "not_a_follow_up",
            f"第 {round_.number} 轮不是票数相等重新投票或另行选举的轮次，不能撤销",
            f"round {round_.number} is not a tie or supplementary round: it cannot be cancelled",
        )
    if round_.status != papers_service.ROUND_OPEN:
        raise Conflict(
            "papers_already_issued" if round_.status != ROUND_CANCELLED else "round_cancelled",
            f"第 {round_.number} 轮已经撤销"
            if round_.status == ROUND_CANCELLED
            else f"第 {round_.number} 轮已经发出选票，不能撤销；如有违规，可宣布本轮无效",
            f"round {round_.number} is already cancelled"
            if round_.status == ROUND_CANCELLED
            else f"round {round_.number} has issued its papers: it cannot be cancelled (it may "
            "be declared void for an irregularity)",
        )
    text = reason_text(reason)
    store.append_event(
        session,
        congress_id=congress_id,
        type="round.follow_up_cancelled",
        payload=_with_author(
            actor,
            {
                "round_id": round_.id,
                "follows_round_id": round_.follows_round_id,
                "number": round_.number,
                "reason": text,
            },
        ),
        actor_role=actor.role,
    )
    round_.status = ROUND_CANCELLED
    session.flush()
    return round_


# ---------------------------------------------------------------- the proposed follow-up round


def follow_up_proposal(session: Session, round_: models.Round) -> dict[str, Any] | None:
    """The tie or supplementary round the round's decision calls for (M5, M6): the engine's
    list, the seats and the list rule in words (``results_service.follow_up_rule``), for the
    presidium who confirms or edits it; None when the decision calls for none."""
    decision = results_service.decision_of(session, round_)
    if decision is None:
        return None
    next_round = decision.result["next_round"]
    if next_round is None or next_round["kind"] not in FOLLOW_UP_KINDS:
        return None
    election = setup_service.get_election(session, election_id=round_.election_id)
    proposal: list[str] = next_round["candidates"]
    rule = results_service.follow_up_rule(
        next_round["kind"],
        next_round["seats"],
        setup_service.election_profile(election),
        tied=len(proposal),
    )
    return {
        "kind": next_round["kind"],
        "seats": next_round["seats"],
        "proposal": proposal,
        "needed": rule.needed,
        "rule_zh": rule.rule_zh,
        "rule_en": rule.rule_en,
    }


# ---------------------------------------------------------------- b. rule a write-in ineligible


@dataclass(frozen=True, slots=True)
class Flag:
    """A written-in person the presidium should look at: they are an official of the congress."""

    name: str
    official_roles: list[str]

    def json(self) -> dict[str, Any]:
        zh = "、".join(_role_zh(role) for role in self.official_roles)
        return {
            "name": self.name,
            "official_roles": self.official_roles,
            "message_zh": f"{self.name} 是本次大会的工作人员（{zh}），请大会主席团裁定其是否"
            "具备被选举资格（P7、O1）",
            "message_en": f"{self.name} is an official of the congress "
            f"({', '.join(self.official_roles)}): the presidium rules on eligibility (P7, O1)",
        }


def _role_zh(role: str) -> str:
    try:
        return ROLE_NAMES_ZH[Role(role)]
    except ValueError:
        return role


def write_in_flags(session: Session, round_: models.Round) -> list[Flag]:
    """The written-in persons of the round's decision who are officials of the congress and are
    not ruled on yet (shown with the decision, for the presidium's ruling)."""
    decision = results_service.decision_of(session, round_)
    if decision is None:
        return []
    congress_id = papers_service.congress_of(session, round_)
    roles: dict[str, list[str]] = {}
    for official in setup_service.list_officials(session, congress_id=congress_id):
        roles.setdefault(normalize_name(official.name), []).append(str(official.role))
    ruled = results_service.ruled_ineligible(session, round_)
    flags = []
    for row in decision.result["tallies"]:
        name = row["name"]
        if row.get("write_in") and name in roles and name not in ruled:
            flags.append(Flag(name, sorted(roles[name])))
    return flags


def rule_ineligible(
    session: Session, *, actor: Principal, round_id: int, name: str, reason: str
) -> models.Round:
    """P7: a person written in on the decided round's papers is ruled ineligible
    (``round.ineligible_ruled``): struck from the ranking of this round and of the election's later
    rounds, the papers stay valid. The round goes back to be decided anew (and certified anew)."""
    round_, congress_id = _round_for_presidium(session, actor=actor, round_id=round_id)
    decision = results_service.decision_of(session, round_)
    if decision is None or round_.status not in (ROUND_DECIDED, ROUND_CERTIFIED):
        raise Conflict(
            "round_not_decided",
            "本轮尚未作出决定，不能裁定被选举资格",
            "the round is not decided: eligibility is ruled on a decided round",
        )
    _no_later_round(session, round_, "裁定", "ruled on")
    key = normalize_name(name)
    written_in = {row["name"] for row in decision.result["tallies"] if row.get("write_in")}
    if key not in written_in:
        raise InvalidInput(
            "not_written_in",
            f"{key or name} 不是本轮选票上另选的人；只能裁定另选他人的被选举资格（P7）",
            f"{key or name!r} is not a written-in person of this round (P7)",
            field="body.name",
        )
    if key in results_service.ruled_ineligible(session, round_):
        raise Conflict(
            "already_ruled_ineligible",
            f"{key} 已经被裁定不具备被选举资格",
            f"{key} is already ruled ineligible",
        )
    text = reason_text(reason)
    store.append_event(
        session,
        congress_id=congress_id,
        type="round.ineligible_ruled",
        payload=_with_author(
            actor, {"round_id": round_.id, "name": key, "reason": text, "status_was": round_.status}
        ),
        actor_role=actor.role,
    )
    round_.status = papers_service.ROUND_COUNTING  # every batch stays reconciled: decide anew
    session.flush()
    return round_


# ---------------------------------------------------------------- c. void for an irregularity


def void_round(
    session: Session, *, actor: Principal, round_id: int, reason: str
) -> papers_service.CollectionResult:
    """六.8: the presidium declares a round void for an irregularity (``round.void``, rule
    ``presidium``); its rerun is opened as after an overcount (I2) when the quorum holds now
    (else ``round.rerun_not_opened``, and the rerun is opened later like any rerun)."""
    round_, _ = _round_for_presidium(session, actor=actor, round_id=round_id)
    if round_.status not in VOIDABLE:
        if round_.status == papers_service.ROUND_OPEN:
            raise Conflict(
                "papers_not_issued",
                f"第 {round_.number} 轮尚未发出选票，无须宣布无效"
                + ("；可撤销本轮" if round_.kind in FOLLOW_UP_KINDS else ""),
                f"round {round_.number} has not issued its papers: nothing to void"
                + (" (it may be cancelled)" if round_.kind in FOLLOW_UP_KINDS else ""),
            )
        raise Conflict(
            "round_state",
            f"第 {round_.number} 轮已经无效或已经撤销",
            f"round {round_.number} is already void or cancelled",
        )
    _no_later_round(session, round_, "宣布无效", "declared void")
    text = reason_text(reason)
    return papers_service.void_and_rerun(
        session,
        actor=actor,
        election=setup_service.get_election(session, election_id=round_.election_id),
        round_=round_,
        void_payload=_with_author(
            actor,
            {
                "round_id": round_.id,
                "rule": "presidium",
                "reason": text,
                "status_was": round_.status,
                "collected": round_.collected,
                "present": round_.present,
                "issued": round_.issued,
            },
        ),
    )


# ---------------------------------------------------------------- d. a correction that recounts


def _batches_to_correct(
    session: Session, round_: models.Round, batch_ids: Sequence[int] | None
) -> list[models.Batch]:
    """The round's batches named (in batch order), or all of them (``None``)."""
    batches = counting_batches.list_batches(session, round_id=round_.id)
    by_id = {batch.id: batch for batch in batches}
    if batch_ids is None:
        return list(batches)
    if not batch_ids:
        raise InvalidInput(
            "batches_required",
            "请指定需要重新录入的批次，或不指定（全部批次重新录入）",
            "name the batches to enter again, or none at all (every batch)",
            field="body.batches",
        )
    if len(set(batch_ids)) != len(batch_ids):
        raise InvalidInput(
            "batches_repeated",
            "批次重复",
            "a batch is named twice",
            field="body.batches",
        )
    unknown = [i for i in batch_ids if i not in by_id]
    if unknown:
        raise InvalidInput(
            "batch_not_in_round",
            f"批次 {unknown[0]} 不属于第 {round_.number} 轮",
            f"batch {unknown[0]} is not a batch of round {round_.number}",
            field="body.batches",
        )
    return sorted((by_id[i] for i in batch_ids), key=lambda b: b.number)


def order_correction(
    session: Session,
    *,
    actor: Principal,
    round_id: int,
    reason: str,
    batch_ids: Sequence[int] | None,
) -> models.Round:
    """C2: a decided (or certified) round is counted again by a recorded presidium order
    (``round.correction_ordered``): the named batches — by default every batch — are entered
    again by both passes (``batch.reentry_ordered`` each); once reconciled, the round is decided
    anew and certified anew."""
    round_, congress_id = _round_for_presidium(session, actor=actor, round_id=round_id)
    if round_.status not in (ROUND_DECIDED, ROUND_CERTIFIED):
        raise Conflict(
            "round_not_decided",
            "本轮尚未作出决定，不能下令更正",
            "the round is not decided yet: there is nothing to correct",
        )
    _no_later_round(session, round_, "更正", "corrected")
    chosen = _batches_to_correct(session, round_, batch_ids)
    text = reason_text(reason)
    store.append_event(
        session,
        congress_id=congress_id,
        type="round.correction_ordered",
        payload=_with_author(
            actor,
            {
                "round_id": round_.id,
                "reason": text,
                "status_was": round_.status,
                "batches": [batch.id for batch in chosen],
            },
        ),
        actor_role=actor.role,
    )
    for batch in chosen:
        counting_reconciliation.reopen_batch(
            session,
            actor=actor,
            batch=batch,
            congress_id=congress_id,
            reason=f"大会主席团下令更正：{text}",
        )
    round_.status = papers_service.ROUND_COUNTING
    session.flush()
    return round_


# ---------------------------------------------------------------- the round's history


def history(session: Session, round_: models.Round) -> list[dict[str, Any]]:
    """The round's decisions and the presidium's decisions on it, in the chain's order: each
    with its type, time, reason and author; a decision with the persons it elected and whether it
    was certified; a correction with the batch numbers it reopened."""
    congress_id = papers_service.congress_of(session, round_)
    kinds = ("round.decided", "round.certified", *PRESIDIUM_EVENTS)
    events = results_service._events_of_round(
        session, congress_id=congress_id, types=kinds, round_id=round_.id
    )
    numbers = {b.id: b.number for b in counting_batches.list_batches(session, round_id=round_.id)}
    certified = {payload["decision"] for row, payload in events if row.type == "round.certified"}
    entries: list[dict[str, Any]] = []
    for row, payload in events:
        if row.type == "round.certified":
            continue
        entry: dict[str, Any] = {"type": row.type, "at": row.at, "actor_role": row.actor_role}
        if row.type == "round.decided":
            entry |= {
                "decision_hash": row.hash,
                "elected": payload["result"]["elected"],
                "yes": [[t["name"], t["yes"]] for t in payload["result"]["tallies"]],
                "certified": row.hash in certified,
            }
        else:
            if row.type == "round.void" and payload.get("rule") != "presidium":
                entry["rule"] = payload.get("rule")
            for key in ("reason", "name", "author_role", "author_official_id"):
                if key in payload:
                    entry[key] = payload[key]
            if "batches" in payload:
                entry["batches"] = [numbers.get(i, i) for i in payload["batches"]]
        entries.append(entry)
    return entries


def history_lines(entries: Sequence[dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    """The history for the result report, (zh, en) per line; nothing when the round was simply
    decided once."""
    current = max((i for i, e in enumerate(entries) if e["type"] == "round.decided"), default=-1)
    shown = [e for i, e in enumerate(entries) if i != current]
    if not shown:
        return ()
    lines: list[tuple[str, str]] = []
    decisions = 0
    for entry in shown:
        kind = entry["type"]
        time = entry["at"].replace("T", " ").rstrip("Z")
        if kind == "round.decided":
            decisions += 1
            elected = "、".join(entry["elected"]) or "无"
            state_zh = "已认证" if entry["certified"] else "未认证"
            state_en = "certified" if entry["certified"] else "not certified"
            votes_zh = "、".join(f"{name} {yes}" for name, yes in entry["yes"])
            votes_en = ", ".join(f"{name} {yes}" for name, yes in entry["yes"])
            lines.append(
                (
                    f"{time} 第 {decisions} 次决定（{state_zh}，已被取代）：当选 {elected}；"
                    f"赞成票 {votes_zh}",
                    f"{time} decision {decisions} ({state_en}, superseded): elected "
                    f"{', '.join(entry['elected']) or 'none'}; yes votes {votes_en}",
                )
            )
        elif kind == "round.correction_ordered":
            numbers = "、".join(f"第 {n} 批" for n in entry.get("batches", [])) or "全部批次"
            lines.append(
                (
                    f"{time} 大会主席团下令更正，重新录入{numbers}；理由：{entry['reason']}",
                    f"{time} the presidium ordered a correction; batches entered again: "
                    f"{', '.join(str(n) for n in entry.get('batches', [])) or 'all'}; "
                    f"reason: {entry['reason']}",
                )
            )
        elif kind == "round.ineligible_ruled":
            lines.append(
                (
                    f"{time} 大会主席团裁定 {entry['name']} 不具备被选举资格（P7）；"
                    f"理由：{entry['reason']}",
                    f"{time} the presidium ruled {entry['name']} ineligible (P7); "
                    f"reason: {entry['reason']}",
                )
            )
        elif kind == "round.void":
            reason = entry.get("reason")
            lines.append(
                (
                    f"{time} 大会主席团宣布本轮选举无效；理由：{reason}"
                    if reason
                    else f"{time} 本轮选举无效（{entry.get('rule')}）",
                    f"{time} the presidium declared the round void; reason: {reason}"
                    if reason
                    else f"{time} the round is void ({entry.get('rule')})",
                )
            )
    return tuple(lines)
