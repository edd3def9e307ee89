"""``compare_passes`` takes shortcuts for the usual batch (the passes agree, nothing unclear):
they give exactly what the multiset operators give, whatever the counts."""

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from app.ledger.chain import canonical_json
from app.ledger.replay import PassComparison, compare_passes, final_record_texts, record_is_unclear

TEXTS = [
    canonical_json({"marks": list(marks), "void": None, "write_ins": []}).decode()
    for marks in (["yes"], ["no"], ["unclear"], ["yes", "unclear"], ["abstain"])
]


def by_the_operators(pass_a: Counter[str], pass_b: Counter[str] | None) -> PassComparison:
    if pass_b is None:
        agreed, only_a, only_b = Counter(pass_a), Counter[str](), Counter[str]()
    else:
        agreed, only_a, only_b = pass_a & pass_b, pass_a - pass_b, pass_b - pass_a
    unclear = Counter({text: n for text, n in agreed.items() if record_is_unclear(text)})
    return PassComparison(agreed - unclear, only_a, only_b, unclear)


counters = st.dictionaries(st.sampled_from(TEXTS), st.integers(-2, 4)).map(Counter)
positive = st.dictionaries(st.sampled_from(TEXTS), st.integers(1, 4)).map(Counter)


def exactly(comparison: PassComparison) -> tuple[dict[str, int], ...]:
    return tuple(
        dict(c)
        for c in (
            comparison.agreed,
            comparison.only_in_pass_a,
            comparison.only_in_pass_b,
            comparison.unclear,
        )
    )


@given(counters, st.none() | counters)
def test_the_same_as_the_multiset_operators(a: Counter[str], b: Counter[str] | None) -> None:
    assert exactly(compare_passes(a, b)) == exactly(by_the_operators(a, b))


@given(positive, st.booleans())
def test_agreeing_passes(a: Counter[str], single: bool) -> None:
    b = None if single else Counter(a)
    assert exactly(compare_passes(a, b)) == exactly(by_the_operators(a, b))
    expected = sorted(by_the_operators(a, b).agreed.elements())
    assert final_record_texts(a, b, None) == expected
    assert final_record_texts(a, b, [TEXTS[0]]) == sorted([*expected, TEXTS[0]])
