"""Once more than ``HOT_BATCHES`` batches are in memory, the recount folds each batch reconciled
with agreeing passes into its round's final records and keeps the batch itself on disk
(``RoundReplay._fold``), so that its memory does not grow with the record (issue 21 item 5);
an event that names a folded batch takes it back first. Folding must not change what the recount
sees: over any sequence of batch events — created (again, in another round), papers entered,
reconciled, resolved, re-entries ordered, rounds opened again, ids that are not batches — a
recount that folds every batch it can gives every round the final records, and stops at the
problems, of one that folds none."""

import tracemalloc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import app.ledger.replay as replay_module
from app.ledger.replay import RoundReplay, replay_rounds
from tests.builders import election_events, with_payload

X, Y, Z = ({"marks": [mark], "void": None, "write_ins": []} for mark in ("yes", "no", "unclear"))
RECORDS = st.sampled_from([X, Y, Z])
ROUNDS = st.sampled_from([1, 2])
BATCHES = st.sampled_from([1, 1, 2, 2, True, "3", 2**60])  # True is batch 1 to a dict
GENERATIONS = st.sampled_from([1, 1, 2, True, "2"])


def event(kind: str, **fields: st.SearchStrategy[Any]) -> st.SearchStrategy[tuple[str, Any]]:
    return st.fixed_dictionaries(fields).map(lambda payload: (kind, payload))


PASSES = st.sampled_from("ab")
EVENTS = st.lists(
    st.one_of(
        event("round.opened", round_id=ROUNDS, election_id=st.just(1), number=ROUNDS,
              definition=st.just({})),
        event("batch.created", round_id=ROUNDS, batch_id=BATCHES,
              teller_b_id=st.sampled_from([None, 2])),
        st.tuples(st.just("enter"), st.tuples(BATCHES, GENERATIONS, PASSES,
                  st.lists(RECORDS, max_size=3))),
        st.tuples(st.just("agree"), st.tuples(BATCHES, GENERATIONS,
                  st.lists(RECORDS, max_size=3))),  # both passes: folded once reconciled
        event("paper.entered", batch_id=BATCHES, generation=GENERATIONS, record=RECORDS,
              **{"pass": PASSES}),
        event("batch.reconciled", batch_id=BATCHES, generation=GENERATIONS),
        event("batch.resolved", batch_id=BATCHES, generation=GENERATIONS,
              records=st.lists(RECORDS, max_size=2)),
        event("batch.reentry_ordered", batch_id=BATCHES, discarded_generation=GENERATIONS),
    ),
    max_size=40,
)  # fmt: skip


def folding(pending: int) -> RoundReplay:
    """A recount that folds every batch it can (``HOT_BATCHES`` 0), writing its rows to SQLite
    ``pending`` at a time."""
    replay = RoundReplay()
    replay._hot_batches = 0
    replay._cold.PENDING = pending
    return replay


# Two rounds and a batch in each, double and single entry: what most events then name.
OPENING: list[tuple[str, Any]] = [
    ("round.opened", {"round_id": 1, "election_id": 1, "number": 1, "definition": {}}),
    ("round.opened", {"round_id": 2, "election_id": 1, "number": 2, "definition": {}}),
    ("batch.created", {"round_id": 1, "batch_id": 1, "teller_b_id": 2}),
    ("batch.created", {"round_id": 2, "batch_id": 2, "teller_b_id": None}),
]


def feed(replay: RoundReplay, height: int, kind: str, payload: Any) -> bool:
    if kind == "agree":
        batch, generation, records = payload
        return all(
            feed(replay, height, "enter", (batch, generation, entry_pass, records))
            for entry_pass in "ab"
        )
    if kind == "enter":
        batch, generation, entry_pass, records = payload
        texts = [replay_module._record_text(record) for record in records]
        return replay.enter_papers(height, batch, generation, entry_pass, texts)
    return replay.feed(height, kind, payload, f"{height:064x}")


def finals(replay: RoundReplay) -> list[Counter[str]]:
    """The final records of every round opened, replaced ones too, in the order opened."""
    return [replay._finals(round_) for round_ in replay._opened]


@settings(max_examples=400, deadline=None)
@given(events=EVENTS, pending=st.sampled_from([1, 2, 256]))
def test_folding_batches_does_not_change_the_recount(
    events: list[tuple[str, Any]], pending: int
) -> None:
    in_memory, folded = RoundReplay(), folding(pending)
    for height, (kind, payload) in enumerate(OPENING + events):
        assert feed(folded, height, kind, payload) == feed(in_memory, height, kind, payload)
        assert finals(folded) == finals(in_memory), (OPENING + events)[: height + 1]
    assert folded.result() == in_memory.result()


@pytest.mark.parametrize("pending", [1, 256])  # taken back from SQLite, or before written
def test_a_folded_batch_named_again_is_taken_back(pending: int) -> None:
    """Every kind of event that names a batch takes a folded one back, in every run: not only
    those where hypothesis happens to draw it."""
    replay = folding(pending)
    x, y = (replay_module._record_text(record) for record in (X, Y))
    events: list[tuple[str, Any]] = [
        *OPENING[:2],
        ("batch.created", {"round_id": 2, "batch_id": 3, "teller_b_id": None}),
        ("agree", (3, 1, [Y])),
        ("batch.reconciled", {"batch_id": 3, "generation": 1}),  # folded
        ("batch.created", {"round_id": 1, "batch_id": 1, "teller_b_id": 2}),
        ("enter", (1, 1, "a", [X, X])),
        ("enter", (1, 1, "b", [X, X])),
    ]
    for height, (kind, payload) in enumerate(events):
        assert feed(replay, height, kind, payload)
    reconciled = ("batch.reconciled", {"batch_id": 1, "generation": 1})
    for kind, payload, expected, folded in (
        (*reconciled, {x: 2}, True),
        (
            "paper.entered",
            {"batch_id": 1, "generation": 1, "pass": "b", "record": X},
            {x: 2},
            False,
        ),
        ("enter", (1, 1, "a", [X]), {x: 3}, False),
        ("batch.resolved", {"batch_id": 1, "generation": 1, "records": [Y]}, {x: 3, y: 1}, False),
        ("batch.reconciled", {"batch_id": True, "generation": 1}, {x: 3, y: 1}, True),
        ("batch.resolved", {"batch_id": 1, "generation": 1, "records": []}, {x: 3}, False),
        (*reconciled, {x: 3}, True),
        # Created again: the round counts the new batch (twice: it was created there twice).
        ("batch.created", {"round_id": 1, "batch_id": 1, "teller_b_id": None}, {}, False),
        (*reconciled, {}, False),  # nothing entered: nothing agreed, not folded
        ("batch.reentry_ordered", {"batch_id": 1, "discarded_generation": 1}, {}, False),
    ):
        assert feed(replay, 9, kind, payload)
        assert finals(replay) == [Counter(expected), Counter({y: 1})], kind
        assert (replay._batches == {}) == folded, kind  # folded: no batch left in memory
    # Between the batches folded, but never a batch.
    assert not feed(replay, 10, "batch.reconciled", {"batch_id": 2, "generation": 1})
    problem = replay.result().problem
    assert problem is not None
    assert problem.message_en.endswith("(KeyError: 2)")


def batches(count: int, papers: int = 10) -> Iterator[tuple[str, Any]]:
    """One round of ``count`` batches of ``papers`` papers entered twice and reconciled, made as
    they are fed (the events themselves are not kept)."""
    yield "round.opened", {"round_id": 1, "election_id": 1, "number": 1, "definition": {}}
    texts = [replay_module._record_text({"marks": [m], "void": None, "write_ins": [n]})
             for m in ("yes", "no") for n in ("甲", "乙", "丙")]  # fmt: skip
    for batch in range(count):
        yield "batch.created", {"round_id": 1, "batch_id": batch, "teller_b_id": 2}
        chosen = [texts[(batch + n) % len(texts)] for n in range(papers)]
        yield "texts", (batch, 1, "a", chosen)
        yield "texts", (batch, 1, "b", chosen[::-1])
        yield "batch.reconciled", {"batch_id": batch, "generation": 1}


def peak_of_recounting(count: int) -> int:
    replay = RoundReplay()
    tracemalloc.start()
    try:
        for height, (kind, payload) in enumerate(batches(count)):
            if kind == "texts":
                assert replay.enter_papers(height, *payload)
            else:
                assert replay.feed(height, kind, payload, f"{height:064x}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert sum(replay._finals(replay._opened[0]).values()) == 10 * count
    return peak


def test_the_recount_does_not_grow_with_the_number_of_batches() -> None:
    """Kept in memory, even packed, every batch took some 400 bytes: 6,000 batches more, over
    2 MB. Folded, they take a row on disk each (SQLite's cache, outside tracemalloc's view, is a
    few MB whatever the size; ``test_verify_memory`` measures the process as a whole)."""
    small = peak_of_recounting(2_000)
    large = peak_of_recounting(8_000)
    assert large - small < 64_000, (small, large)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_an_election_recounts_the_same_folded(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """The builders' election, intact and with a changed paper: the same recount, the same
    problem, with every batch it can folded (all but its resolved and re-entered batches, whose
    passes disagree). Fails if a folded batch's records are left out of its round's."""
    events = election_events(papers=60, seed=seed, batch=5)
    at = max(i for i, s in enumerate(events) if s.event.type == "paper.entered")
    record = {"marks": ["no"] * 5, "void": None, "write_ins": []}
    changed = [*events[:at], with_payload(events[at], {**events[at].event.payload,
               "record": record}), *events[at + 1 :]]  # fmt: skip
    kept = [replay_rounds(events), replay_rounds(changed)]
    assert kept[0].problem is None
    assert kept[1].problem is not None
    monkeypatch.setattr(replay_module, "HOT_BATCHES", 0)
    folded: list[int] = []
    monkeypatch.setattr(replay_module._Cold, "put", counting(folded, replay_module._Cold.put))
    assert [replay_rounds(events), replay_rounds(changed)] == kept
    assert len(folded) > 10


def counting(calls: list[int], put: Any) -> Any:
    def counted(cold: Any, key: Any, home: int, batch: Any) -> None:
        calls.append(key)
        put(cold, key, home, batch)

    return counted
