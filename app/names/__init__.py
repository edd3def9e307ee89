"""Surname-stroke ordering of names (按姓氏笔画为序), as STROKE_ORDER.md specifies.

Each character compares by (stroke count, stroke sequence 横1 竖2 撇3 点4 折5, GF 3003 tie order);
the data and its sources are described in data/README.md. Two name conventions:

* ``single_given_name_first`` (党/团 lists): a two-character name X Y compares as X, an empty slot,
  Y; the empty slot sorts first, so 王宁 comes before 王小洪.
* ``character_by_character`` (人大 lists): a prefix comes first, so 王长河 comes before 王刚.

Separators (·, •, ・, ‧, -), whitespace and trailing annotations such as （女） are not part of the
key; the original strings are returned. Pure: standard library only, data loaded on first use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from app.names._data import CharStrokes, strokes_of

__all__ = [
    "DEFAULT_NAME_ORDER",
    "CharStrokes",
    "NameOrder",
    "NameWarning",
    "SortedNames",
    "UnknownCharacterError",
    "explain_name",
    "name_sort_key",
    "normalize_name",
    "sort_names",
    "strokes_of",
]

NameOrder = Literal["single_given_name_first", "character_by_character"]
DEFAULT_NAME_ORDER: NameOrder = "single_given_name_first"

CharKey = int  # CharStrokes.key: (count, level, tie) packed
NameKey = tuple[CharKey, ...]

# The empty slot of a single given name (单名) sorts before every character: counts start at 1.
_EMPTY_SLOT: CharKey = 0

_SEPARATORS = re.compile(r"[\s·•・‧\-‐‑－・]+")
_ANNOTATION = re.compile(r"\s*[（(][^（）()]*[）)]\s*$")


class UnknownCharacterError(ValueError):
    """A character of a name has no known stroke count at all."""

    def __init__(self, name: str, char: str) -> None:
        super().__init__(f"no stroke data for {char!r} (U+{ord(char):04X}) in {name!r}")
        self.name = name
        self.char = char


@dataclass(frozen=True, slots=True)
class NameWarning:
    name: str
    kind: Literal["approximate_stroke_data", "duplicate_name"]
    char: str | None
    message_zh: str
    message_en: str


@dataclass(frozen=True, slots=True)
class SortedNames:
    names: tuple[str, ...]
    warnings: tuple[NameWarning, ...]


def normalize_name(name: str) -> str:
    """The characters that are compared: annotations, separators and whitespace removed.

    >>> normalize_name("艾力更·依明巴海（维吾尔族）")
    '艾力更依明巴海'
    """
    stripped = name.strip()
    while True:
        shorter = _ANNOTATION.sub("", stripped)
        if shorter == stripped or not shorter:
            break
        stripped = shorter
    return _SEPARATORS.sub("", stripped)


def _char_data(name: str, chars: str) -> list[CharStrokes]:
    found = []
    for char in chars:
        data = strokes_of(char)
        if data is None:
            raise UnknownCharacterError(name, char)
        found.append(data)
    return found


def _key(chars: list[CharStrokes], order: NameOrder) -> NameKey:
    keys = tuple(c.key for c in chars)
    if order == "single_given_name_first" and len(keys) == 2:
        return (keys[0], _EMPTY_SLOT, keys[1])
    return keys


def name_sort_key(name: str, order: NameOrder = DEFAULT_NAME_ORDER) -> NameKey:
    """A plain comparable key of one name; raises UnknownCharacterError.

    Edge case: under ``single_given_name_first`` 王刚 gets (王, empty slot, 刚) and sorts before
    王长河; under ``character_by_character`` 王长河 sorts first (长 4 strokes < 刚 6).
    """
    return _key(_char_data(name, normalize_name(name)), order)


def sort_names(names: Sequence[str], order: NameOrder = DEFAULT_NAME_ORDER) -> SortedNames:
    """Sort names by surname strokes (按姓氏笔画为序); stable for identical keys.

    Warns about names that are identical after normalization (``duplicate_name``) and about
    characters placed only by their Unihan total stroke count (``approximate_stroke_data``).
    Raises UnknownCharacterError for a character with no stroke count at all.
    """
    keyed: list[tuple[NameKey, int, str]] = []
    approximate: list[tuple[int, str, str]] = []
    seen: dict[str, int] = {}
    duplicates: list[tuple[int, str, str]] = []
    memo: dict[str, tuple[str, list[CharStrokes], NameKey]] = {}
    for position, name in enumerate(names):
        known = memo.get(name)
        if known is None:
            normalized = normalize_name(name)
            chars = _char_data(name, normalized)
            known = memo[name] = (normalized, chars, _key(chars, order))
        normalized, chars, key = known
        keyed.append((key, position, name))
        warned: set[str] = set()
        for data in chars:
            if data.approximate and data.char not in warned:
                warned.add(data.char)
                approximate.append((position, name, data.char))
        if normalized in seen:
            duplicates.append((position, name, names[seen[normalized]]))
        else:
            seen[normalized] = position
    keyed.sort(key=lambda item: (item[0], item[1]))
    rank = {position: i for i, (_, position, _) in enumerate(keyed)}

    warnings: list[tuple[int, NameWarning]] = []
    for position, name, char in approximate:
        count = strokes_of(char)
        n = count.count if count else 0
        warnings.append(
            (
                rank[position],
                NameWarning(
                    name=name,
                    kind="approximate_stroke_data",
                    char=char,
                    message_zh=(
                        f"“{name}”中的“{char}”（U+{ord(char):04X}）不在笔顺数据中，"
                        f"按 Unicode 总笔画数 {n} 排在同笔画字之后，请秘书处核对。"
                    ),
                    message_en=(
                        f"{char!r} (U+{ord(char):04X}) in {name!r} has no stroke-order data; "
                        f"placed by its Unicode total stroke count {n} after the known characters "
                        "of that count. Please confirm."
                    ),
                ),
            )
        )
    for position, name, first in duplicates:
        warnings.append(
            (
                rank[position],
                NameWarning(
                    name=name,
                    kind="duplicate_name",
                    char=None,
                    message_zh=f"“{name}”与“{first}”同名，按输入顺序排列；请在选票上注明区别信息。",
                    message_en=(
                        f"{name!r} has the same name as {first!r}; kept in input order. "
                        "Tell them apart with a second field on the ballot."
                    ),
                ),
            )
        )
    warnings.sort(key=lambda item: item[0])
    return SortedNames(
        names=tuple(name for _, _, name in keyed),
        warnings=tuple(warning for _, warning in warnings),
    )


def _describe(data: CharStrokes) -> str:
    sequence = data.sequence or "?"
    if data.approximate:
        return f"{data.char}\t{data.count}\t{sequence}\t(approximate: Unicode total strokes only)"
    note = f"\t(counted as {data.counted_as})" if data.counted_as else ""
    return f"{data.char}\t{data.count}\t{sequence}\tlevel {data.level} tie {data.tie}{note}"


def explain_name(name: str, order: NameOrder = DEFAULT_NAME_ORDER) -> str:
    """The key of a name, one line per slot: char, stroke count, sequence (1–5), rank and tie.

    ``?`` stands for a sequence the shipped data does not carry; the order still follows the
    GF 3003 rank. Example line: ``王	4	1121	level 88 tie 1``.
    """
    chars = _char_data(name, normalize_name(name))
    lines = [f"{name}\t[{order}]"]
    for i, data in enumerate(chars):
        if order == "single_given_name_first" and len(chars) == 2 and i == 1:
            lines.append("∅\t0\t-\tempty slot of a single given name (单名), sorts first")
        lines.append(_describe(data))
    return "\n".join(lines)
