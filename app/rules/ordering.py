"""Ballot order (B1) and report order (M11) of persons, on top of ``app.names``.

The engine never fails on a name it cannot place: a name with a character that has no stroke data
is put after every other name, in input order, and the trace says so (never a silent guess).
"""

from collections.abc import Sequence

from app.names import NameOrder, UnknownCharacterError, name_sort_key, sort_names
from app.rules.model import TraceEntry


def stroke_order(
    names: Sequence[str], order: NameOrder
) -> tuple[tuple[str, ...], list[TraceEntry]]:
    """``names`` in surname-stroke order (B1, M11), with trace entries for anything uncertain."""
    known: list[str] = []
    unplaceable: list[str] = []
    for name in names:
        try:
            name_sort_key(name, order)
        except UnknownCharacterError:
            unplaceable.append(name)
        else:
            known.append(name)
    result = sort_names(known, order)
    trace = [
        TraceEntry("B1", warning.message_zh, warning.message_en) for warning in result.warnings
    ]
    for name in unplaceable:
        trace.append(
            TraceEntry(
                "B1",
                f"无法确定“{name}”的笔画，排在最后，请秘书处核对",
                f"no stroke data for {name!r}: placed last; the secretariat should check it",
            )
        )
    return result.names + tuple(unplaceable), trace


def by_votes(persons: Sequence[tuple[str, int]], order: NameOrder) -> tuple[tuple[str, int], ...]:
    """Persons by yes votes, most first; equal votes in stroke order (M11)."""
    ranked_names, _ = stroke_order([name for name, _ in persons], order)
    rank = {name: index for index, name in enumerate(ranked_names)}
    return tuple(sorted(persons, key=lambda person: (-person[1], rank[person[0]])))
