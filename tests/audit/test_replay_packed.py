"""A reconciled batch keeps its passes packed as numbers (``_Batch.pack``, so that a record of
millions of papers is recounted in little memory, issue 21 item 5); packing must not change what
the recount sees. Checked against a plain model — every pass a Counter of texts, never packed —
over any sequence of papers entered, packings (``batch.reconciled``) and re-entries: each pass's
records and the batch's final records stay the model's, whatever was packed, shared between
passes or taken out of the packing again."""

from collections import Counter
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.ledger.replay import _Batch, _final_counts, _final_records, _Numbering

X, Y, Z = (
    f'{{"marks":["{mark}"],"void":null,"write_ins":[]}}' for mark in ("yes", "no", "unclear")
)
TEXTS = st.sampled_from([X, Y, Z])
KEYS = st.tuples(st.integers(1, 3), st.sampled_from(["a", "b"]))
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("enter"), KEYS, st.lists(TEXTS, max_size=6)),
        st.tuples(st.just("copy"), KEYS, KEYS),  # a pass entered as another: shared when packed
        st.tuples(st.just("pack")),
        st.tuples(st.just("generation"), st.integers(1, 3)),
        st.tuples(st.just("resolve"), st.integers(1, 3), st.lists(TEXTS, max_size=3)),
    ),
    max_size=30,
)


def model_final(
    model: dict[Any, Counter[str]], generation: int, double: bool, resolved: dict[int, list[str]]
) -> list[str]:
    a = model.get((generation, "a"), Counter())
    b = model.get((generation, "b"), Counter()) if double else None
    return sorted(_final_records(a, b, resolved.get(generation)))


@settings(max_examples=300, deadline=None)
@given(steps=STEPS, double=st.booleans())
def test_packed_passes_hold_what_was_entered(steps: list[tuple[Any, ...]], double: bool) -> None:
    passes: _Numbering[tuple[Any, Any]] = _Numbering()
    texts: _Numbering[str] = _Numbering()
    batch = _Batch(double, reconciled=True)
    model: dict[Any, Counter[str]] = {}
    resolved: dict[int, list[str]] = {}
    for step in steps:
        if step[0] == "enter":
            _, key, entered = step
            batch.counter(key, passes, texts).update(entered)
            model.setdefault(key, Counter()).update(entered)
        elif step[0] == "copy":
            _, key, source = step
            records = model.get(source, Counter())
            batch.counter(key, passes, texts).update(records.elements())
            model.setdefault(key, Counter()).update(records)
        elif step[0] == "pack":
            batch.pack(passes, texts)
        elif step[0] == "resolve":
            _, generation, records = step
            batch.resolution = resolved = {**resolved, generation: records}
        else:
            batch.generation = step[1]
        for key, records in model.items():
            assert batch._records(key, passes, texts) == +records, (key, steps)
        expected = model_final(model, batch.generation, double, resolved)
        assert sorted(batch.final(passes, texts)) == expected
        # As a round's decision gathers them: by numbers where the passes agree.
        assert sorted(_final_counts([batch], passes, texts).elements()) == expected


def test_passes_that_agree_are_packed_once() -> None:
    passes: _Numbering[tuple[Any, Any]] = _Numbering()
    texts: _Numbering[str] = _Numbering()
    batch = _Batch(True)
    for key in ((1, "a"), (1, "b")):
        batch.counter(key, passes, texts).update([Y, X, Y])
    batch.pack(passes, texts)
    # (1, a): 3 records, Y X Y numbered 0 1 0; (1, b): the same records.
    assert batch.packed is not None
    assert batch.packed.typecode == "H"
    assert batch.packed.tolist() == [0, 4, 0, 0, 1, 1, 0]
    # Taking pass A out to add to it leaves pass B its records.
    batch.counter((1, "a"), passes, texts)[Z] += 1
    assert batch.packed.tolist() == [1, 4, 0, 0, 1]
    batch.pack(passes, texts)
    assert batch._records((1, "a"), passes, texts) == Counter({X: 1, Y: 2, Z: 1})
    assert batch._records((1, "b"), passes, texts) == Counter({X: 1, Y: 2})


def test_an_unclear_record_of_agreeing_packed_passes_is_not_counted() -> None:
    """Gathered by numbers (``final_into``), the agreed unclear record is dropped by
    ``_final_counts`` as ``final`` drops it: it waits for the scrutineers' ruling (P6). Every run
    takes this branch, not only those where hypothesis happens to draw it."""
    passes: _Numbering[tuple[Any, Any]] = _Numbering()
    texts: _Numbering[str] = _Numbering()
    batch = _Batch(True, reconciled=True)
    for key in ((1, "a"), (1, "b")):
        batch.counter(key, passes, texts).update([X, Z, Y])
    batch.pack(passes, texts)
    assert sorted(batch.final(passes, texts)) == sorted([X, Y])
    assert _final_counts([batch], passes, texts) == Counter({X: 1, Y: 1})
