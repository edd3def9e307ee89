"""The recount of an exported record (``replay_rounds``, ``RoundReplay``), pure: what it reports
for a record whose events were changed, reordered or left out, and for the signatures' sessions
(issue 20 item 3). ``replay_rounds`` does not check the chain (``verify_events`` does, before it),
so an event is changed here in place; the events added after the last one are chained."""

import gc
from typing import Any

import pytest

from app.ledger.chain import JsonValue, next_event
from app.ledger.replay import (
    CertifiedRound,
    Replay,
    RoundReplay,
    StoredEvent,
    gc_paused,
    replay_rounds,
)
from tests.builders import election_events, with_payload

EVENTS = election_events()
DECIDED = next(i for i, s in enumerate(EVENTS) if s.event.type == "round.decided")
DECISION = EVENTS[DECIDED].hash
RESULT: dict[str, Any] = dict(EVENTS[DECIDED].event.payload["result"])  # type: ignore[arg-type]
CERTIFIED = DECIDED + 2
NOT_REPLAYED = "事件内容无法重放"
DIFFERS = "第 1 轮：记录的决定与重新计票结果不一致"


def index(kind: str, **where: Any) -> int:
    """The first event of type ``kind`` whose payload has ``where``."""
    return next(
        i
        for i, stored in enumerate(EVENTS)
        if stored.event.type == kind
        and all(stored.event.payload.get(k) == v for k, v in where.items())
    )


def changed(at: int, **changes: Any) -> list[StoredEvent]:
    """The events, that at ``at`` with ``changes`` to its payload."""
    payload: dict[str, JsonValue] = {**EVENTS[at].event.payload, **changes}
    return [*EVENTS[:at], with_payload(EVENTS[at], payload), *EVENTS[at + 1 :]]


def with_result(**changes: Any) -> list[StoredEvent]:
    """The events, the recorded decision's result with ``changes``."""
    return changed(DECIDED, result={**RESULT, **changes})


def without(*kinds: str) -> list[StoredEvent]:
    return [stored for stored in EVENTS if stored.event.type not in kinds]


def extended(events: list[StoredEvent], *added: tuple[str, dict[str, JsonValue]]) -> list[str]:
    """Append ``added`` (type, payload) to ``events`` as the chain's next events: their hashes."""
    hashes = []
    for kind, payload in added:
        head = (events[-1].event.height, events[-1].hash)
        event, digest = next_event(
            chain=7, head=head, type=kind, payload=payload, at="2026-11-14T12:00Z",
            actor_role="admin",
        )  # fmt: skip
        events.append(StoredEvent(event, digest))
        hashes.append(digest)
    return hashes


def problem_of(events: list[StoredEvent]) -> tuple[str, str, str]:
    problem = replay_rounds(events).problem
    assert problem is not None
    return problem.where, problem.message_en, problem.message_zh


# ---------------------------------------------------------------- an intact record


def test_the_record_recounts_to_its_decision() -> None:
    replay = replay_rounds(EVENTS)
    assert replay.problem is None
    assert replay.decisions_checked == 1
    assert replay.certified == [CertifiedRound(1, 1, CERTIFIED, RESULT)]
    assert replay.certified[0].elected == []  # nobody has a majority of the 24 present


def test_progress_every_65536_events() -> None:
    note = EVENTS[index("note")]
    calls: list[int] = []
    replay = replay_rounds(EVENTS + [note] * 65536, progress=calls.append)
    assert calls == [65536]
    assert replay.problem is None
    assert replay.decisions_checked == 1


def test_the_elected_of_each_election_with_their_round() -> None:
    replay = Replay(
        3,
        [
            CertifiedRound(1, 1, 10, {"elected": ["王宁", "李强"]}),
            CertifiedRound(2, 1, 20, {"elected": []}),
            CertifiedRound(1, 2, 30, {"elected": ["丁一"]}),
        ],
        None,
    )
    assert replay.elected_by_election() == {1: [("王宁", 1), ("李强", 1), ("丁一", 2)], 2: []}


@pytest.mark.parametrize("enabled", [True, False])
def test_garbage_collection_is_paused_and_restored(enabled: bool) -> None:
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with gc_paused():
            assert not gc.isenabled()
        assert gc.isenabled() is enabled
        with pytest.raises(KeyError), gc_paused():
            raise KeyError("x")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


# ---------------------------------------------------------------- a decision not the recount


def test_a_changed_tally_names_the_person_and_the_figure() -> None:
    tallies = [dict(row) for row in RESULT["tallies"]]
    tallies[1]["no"] += 2
    name, no = tallies[1]["name"], tallies[1]["no"]
    replay = replay_rounds(with_result(tallies=tallies))
    assert replay.problem is not None
    assert replay.problem.where == f"event {DECIDED}"
    assert replay.problem.message_en == (
        f"round 1: {name} no {no} recorded, {no - 2} recomputed "
        "(the recorded decision differs from the recount)"
    )
    assert replay.problem.message_zh == DIFFERS
    assert replay.decisions_checked == 1
    assert replay.certified == []  # stopped before the certificate


def test_other_differences_are_named_by_their_path() -> None:
    where, en, zh = problem_of(with_result(elected=["王宁"]))
    assert (where, zh) == (f"event {DECIDED}", DIFFERS)
    assert en == (
        "round 1: elected: ['王宁'] recorded, [] recomputed "
        "(the recorded decision differs from the recount)"
    )
    tallies = [dict(row) for row in RESULT["tallies"]]
    tallies[0]["write_in"] = True
    name = tallies[0]["name"]
    _, en, _ = problem_of(with_result(tallies=tallies))
    assert en.startswith(f"round 1: tallies[{name}].write_in: True recorded, False recomputed (")


def test_more_than_three_differences_are_cut_short() -> None:
    changes = {"vacant": 9, "quorum": {"met": False, "required": 99}, "round": "void"}
    _, en, _ = problem_of(with_result(**changes))
    assert en == (
        "round 1: quorum.met: False recorded, True recomputed; "
        "quorum.required: 99 recorded, 22 recomputed; "
        "round: 'void' recorded, {'valid': True, 'void_rule': None, 'kind': 'regular', "
        "'seats': 2, 'outcome': 'supplementary_round'} recomputed … "
        "(the recorded decision differs from the recount)"
    )


def test_tallies_in_another_order_or_missing() -> None:
    tallies = list(RESULT["tallies"])
    first, second = tallies[0]["name"], tallies[1]["name"]
    _, en, _ = problem_of(with_result(tallies=[tallies[1], tallies[0], *tallies[2:]]))
    # Each person's figures are right, but the order is part of the decision.
    assert en.startswith(f"round 1: tallies[0].abstain: {tallies[1]['abstain']} recorded, ")
    assert f"tallies[0].name: '{second}' recorded, '{first}' recomputed" in en
    _, en, _ = problem_of(with_result(tallies=tallies[1:]))
    assert en.startswith(f"round 1: tallies: [{tallies[1]!r}, ")
    _, en, _ = problem_of(with_result(tallies="none"))
    assert en.startswith("round 1: tallies: 'none' recorded, [{")


def test_a_later_resolution_of_a_batch_replaces_the_earlier() -> None:
    resolved = index("batch.resolved")
    again = EVENTS[resolved]
    assert replay_rounds([*EVENTS[:resolved], again, *EVENTS[resolved:]]).problem is None
    record = dict(again.event.payload["records"][0])  # type: ignore[index, call-overload]
    record["void"] = "P4"
    other = with_payload(again, {**again.event.payload, "records": [record]})
    where, en, _ = problem_of([*EVENTS[: resolved + 1], other, *EVENTS[resolved + 1 :]])
    assert where == f"event {DECIDED}"
    # The resolved paper said yes to the first person; void, it counts for nobody.
    assert record["marks"][0] == "yes"
    first = RESULT["tallies"][0]
    assert en.startswith(f"round 1: {first['name']} yes {first['yes']} recorded, ")
    assert f"{first['yes'] - 1} recomputed" in en


def test_a_ruling_of_ineligibility_strikes_the_name_from_the_recount() -> None:
    ruled = ("round.ineligible_ruled", {"round_id": 1, "name": RESULT["tallies"][0]["name"]})
    before = EVENTS[:DECIDED]
    extended(before, ruled)
    ruling = before[-1]
    events = [*before, *EVENTS[DECIDED:]]
    where, en, _ = problem_of(events)
    assert where == f"event {DECIDED}"
    assert "(the recorded decision differs from the recount)" in en
    assert ruling.event.type == "round.ineligible_ruled"
    # After the certificate, the same ruling takes the round out of the certified ones.
    after = list(EVENTS)
    extended(after, ruled)
    replay = replay_rounds(after)
    assert (replay.problem, replay.certified, replay.decisions_checked) == (None, [], 1)


@pytest.mark.parametrize("kind", ["round.correction_ordered", "round.void"])
def test_a_correction_or_a_void_round_is_no_longer_certified(kind: str) -> None:
    events = list(EVENTS)
    extended(events, (kind, {"round_id": 1, "reason": "监票人发现错误"}))
    replay = replay_rounds(events)
    assert (replay.problem, replay.certified, replay.decisions_checked) == (None, [], 1)


# ---------------------------------------------------------------- a round that cannot be recounted


@pytest.mark.parametrize(
    ("events", "reason"),
    [
        (without("round.papers_issued"), "decided before its papers were issued"),
        (without("round.papers_collected"), "decided before its papers were collected"),
        (changed(index("round.papers_collected"), collected=25),
         "24 final papers in the reconciled batches, 25 collected"),
        ([s for i, s in enumerate(EVENTS) if i != index("batch.reconciled", batch_id=5)],
         "20 final papers in the reconciled batches, 24 collected"),
        (changed(index("batch.reconciled", batch_id=3), generation=2),
         "19 final papers in the reconciled batches, 24 collected"),
        (changed(index("round.opened"), definition={**EVENTS[1].event.payload["definition"],
                                                    "seats": 0}),  # type: ignore[dict-item]
         "seats: seats must be at least 1"),
    ],
    ids=["not-issued", "not-collected", "collected", "not-reconciled", "old-generation", "seats"],
)  # fmt: skip
def test_a_round_that_cannot_be_recounted(events: list[StoredEvent], reason: str) -> None:
    replay = replay_rounds(events)
    assert replay.problem is not None
    assert replay.problem.message_en == f"round 1: cannot be recounted from the record: {reason}"
    assert replay.problem.message_zh == "第 1 轮：无法根据记录重新计票"
    assert replay.decisions_checked == 0


def test_a_decision_before_the_congress_exists() -> None:
    where, en, zh = problem_of(without("congress.created"))
    assert (en, zh) == ("decided before the congress exists", "大会尚未建立")
    assert where == f"event {DECIDED}"


@pytest.mark.parametrize(
    ("at", "changes", "message"),
    [
        (index("paper.entered"), {"batch_id": 99},
         "paper.entered: the payload cannot be replayed (KeyError: 99)"),
        (index("paper.entered"), {"record": ["yes", "no", "no"]},
         "paper.entered: the payload cannot be replayed (TypeError: a paper record is an object)"),
        (index("batch.resolved"), {"records": [None]},
         "batch.resolved: the payload cannot be replayed (TypeError: a paper record is an object)"),
        (index("round.papers_issued"), {"round_id": 2},
         "round.papers_issued: the payload cannot be replayed (KeyError: 2)"),
        (index("batch.reentry_ordered"), {"discarded_generation": "1"},
         "batch.reentry_ordered: the payload cannot be replayed "
         "(TypeError: can only concatenate str (not \"int\") to str)"),
    ],
    ids=["batch", "record", "resolution", "round", "generation"],
)  # fmt: skip
def test_a_payload_that_cannot_be_replayed(at: int, changes: Any, message: str) -> None:
    replay = replay_rounds(changed(at, **changes))
    assert replay.problem is not None
    assert replay.problem.where == f"event {at}"
    assert (replay.problem.message_en, replay.problem.message_zh) == (message, NOT_REPLAYED)
    assert replay.decisions_checked == 0


def test_the_replay_stops_at_the_first_problem() -> None:
    replay = RoundReplay()
    opened = index("batch.created")
    for stored in EVENTS[: opened + 1]:
        assert replay.feed(stored.event.height, stored.event.type, stored.event.payload, "")
    text = '{"marks":["yes","no","no"],"void":null,"write_ins":[]}'
    assert replay.enter_papers(opened + 1, 1, 1, "a", [text, text])
    assert not replay.enter_papers(opened + 3, 9, 1, "a", [text])
    problem = replay.result().problem
    assert problem is not None
    assert problem.where == f"event {opened + 3}"
    assert problem.message_en == "paper.entered: the payload cannot be replayed (KeyError: 9)"
    # Nothing is replayed after it, whatever comes.
    assert not replay.enter_papers(opened + 4, 1, 1, "a", [text])
    assert not replay.feed(opened + 4, "batch.created", {}, "")
    assert replay.result().problem == problem


# ---------------------------------------------------------------- signatures and certificates


@pytest.mark.parametrize("kind", ["round.signed", "round.certified"])
def test_a_signature_or_certificate_must_name_a_decision_of_its_round(kind: str) -> None:
    at = CERTIFIED if kind == "round.certified" else CERTIFIED - 1
    where, en, zh = problem_of(changed(at, decision="f" * 64))
    assert where == f"event {at}"
    assert en == f"round 1: {kind} names ffffffffffff…, which is not a decision of this round"
    assert zh == "第 1 轮：签字或认证引用的不是本轮的决定"


CONFIRMATION: dict[str, JsonValue] = {
    "change_id": 2, "official_id": 8, "name": "吴芳", "session_id": 5,
}  # fmt: skip


def _signed_with_code(
    issued: dict[str, JsonValue], repeated: dict[str, JsonValue], confirmed: bool
) -> list[StoredEvent]:
    """The record, then the presidium's confirmation of change 2 (if ``confirmed``), a login
    code issued to official 4 (with ``issued`` changed) and official 4's signature with a session
    of that code, repeating its issuance facts (with ``repeated`` changed)."""
    events = list(EVENTS)
    if confirmed:
        extended(events, ("official.change_confirmed", CONFIRMATION))
    code: dict[str, JsonValue] = {
        "official_id": 4, "role": "scrutineer", "issued_by": "admin", "voting_begun": False,
        "confirmation": None, "sessions_ended": 0, **issued,
    }  # fmt: skip
    (event,) = extended(events, ("official.login_code_issued", code))
    session: dict[str, JsonValue] = {
        "event": event, "issued_at": "2026-11-14T12:00Z", "issued_by": "admin",
        "confirmation": code["confirmation"], **repeated,
    }  # fmt: skip
    signature: dict[str, JsonValue] = {
        "round_id": 1, "decision": DECISION, "official_id": 4, "role": "scrutineer",
        "session": {"id": 9, "code": session},
    }  # fmt: skip
    extended(events, ("round.signed", signature))
    return events


@pytest.mark.parametrize(
    ("issued", "repeated", "confirmed"),
    [
        ({}, {}, False),
        ({"voting_begun": True, "confirmation": CONFIRMATION}, {}, True),
        ({"role": "presidium", "voting_begun": True}, {}, False),
    ],
    ids=["before-voting", "confirmed", "not-counting"],
)
def test_a_signature_with_a_session_in_the_record(
    issued: dict[str, JsonValue], repeated: dict[str, JsonValue], confirmed: bool
) -> None:
    replay = replay_rounds(_signed_with_code(issued, repeated, confirmed))
    assert replay.problem is None
    assert len(replay.certified) == 1


def test_a_signature_without_a_recorded_code() -> None:
    events = list(EVENTS)
    signature: dict[str, JsonValue] = {
        "round_id": 1, "decision": DECISION, "official_id": 4, "role": "scrutineer",
        "session": {"id": 9, "code": None},
    }  # fmt: skip
    extended(events, ("round.signed", signature))
    assert replay_rounds(events).problem is None


NOT_THEIRS = "signed with a session whose login code is not theirs in the record"
OTHER_FACTS = "'s signature repeats other issuance facts than its login code's event"
UNCONFIRMED = "signed with a login code issued after voting began without a presidium confirmation"


@pytest.mark.parametrize(
    ("issued", "repeated", "confirmed", "en", "zh"),
    [
        ({}, {"event": "0" * 64}, False, f"official 4 {NOT_THEIRS}",
         "签字人会话的登录码在记录中找不到，或不属于本人"),
        ({"official_id": 5}, {}, False, f"official 4 {NOT_THEIRS}",
         "签字人会话的登录码在记录中找不到，或不属于本人"),
        ({}, {"issued_by": "presidium"}, False, f"official 4{OTHER_FACTS}",
         "签字记录的登录码签发情况与记录不符"),
        ({}, {"confirmation": CONFIRMATION}, False, f"official 4{OTHER_FACTS}",
         "签字记录的登录码签发情况与记录不符"),
        ({"voting_begun": True}, {}, False, f"official 4 {UNCONFIRMED}",
         "签字人的登录码在投票开始后签发，却没有大会主席团成员的确认"),
        ({"voting_begun": True, "confirmation": CONFIRMATION}, {}, False,
         f"official 4 {UNCONFIRMED}", "签字人的登录码在投票开始后签发，却没有大会主席团成员的确认"),
        ({"voting_begun": True, "confirmation": {**CONFIRMATION, "name": "郑华"}}, {}, True,
         f"official 4 {UNCONFIRMED}", "签字人的登录码在投票开始后签发，却没有大会主席团成员的确认"),
    ],
    ids=["unknown-code", "another-official", "issued-by", "confirmation-repeated",
         "unconfirmed", "confirmation-not-in-record", "confirmation-differs"],
)  # fmt: skip
def test_a_signature_whose_session_the_record_does_not_bear_out(
    issued: dict[str, JsonValue],
    repeated: dict[str, JsonValue],
    confirmed: bool,
    en: str,
    zh: str,
) -> None:
    events = _signed_with_code(issued, repeated, confirmed)
    where, message_en, message_zh = problem_of(events)
    assert where == f"event {events[-1].event.height}"
    assert (message_en, message_zh) == (f"round 1: {en}", f"第 1 轮：{zh}")
