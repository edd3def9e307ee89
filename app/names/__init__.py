"""Surname-stroke ordering of names (按姓氏笔画为序), as STROKE_ORDER.md specifies.

Each character compares by stroke count, then stroke sequence (横1 竖2 撇3 点4 折5, GF 3003 rank),
then — for characters with the same count and sequence — 字形结构 (左右, 上下, 整体), as published
lists do (叶 before 申, 孔 before 巴), then 《通用规范汉字表》 order; the data and its sources are
described in data/README.md. Two name conventions:

* ``single_given_name_first`` (党/团 lists): a two-character name X Y compares as X, an empty slot,
  Y; the empty slot sorts first, so 王宁 comes before 王小洪.
* ``character_by_character`` (人大 lists): a prefix comes first, so 王长河 comes before 王刚.

Separators (·, •, ・, ‧, -), whitespace and trailing annotations such as （女） are not part of the
key; the original strings are returned. Pure: standard library only, data loaded on first use.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, repeat
from operator import ne
from typing import Literal, NamedTuple

from app.names._data import STRUCTURE_NAMES, CharStrokes, strokes_of

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


class NameWarning(NamedTuple):
    """A warning about one name; the messages are composed when read (sorting stays cheap).

    ``first`` is the earlier name of a ``duplicate_name``; ``strokes`` the Unicode total stroke
    count used for an ``approximate_stroke_data`` character.
    """

    name: str
    kind: Literal["approximate_stroke_data", "duplicate_name"]
    char: str | None
    first: str | None = None
    strokes: int | None = None

    @property
    def message_zh(self) -> str:
        if self.kind == "duplicate_name":
            return f"“{self.name}”与“{self.first}”同名，按输入顺序排列；请在选票上注明区别信息。"
        char = self.char or ""
        return (
            f"“{self.name}”中的“{char}”（U+{ord(char):04X}）不在笔顺数据中，"
            f"按 Unicode 总笔画数 {self.strokes} 排在同笔画字之后，请秘书处核对。"
        )

    @property
    def message_en(self) -> str:
        if self.kind == "duplicate_name":
            return (
                f"{self.name!r} has the same name as {self.first!r}; kept in input order. "
                "Tell them apart with a second field on the ballot."
            )
        char = self.char or ""
        return (
            f"{char!r} (U+{ord(char):04X}) in {self.name!r} has no stroke-order data; "
            f"placed by its Unicode total stroke count {self.strokes} after the known characters "
            "of that count. Please confirm."
        )


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


_CHAR_KEYS: dict[str, CharKey] = {}  # packed key of every character looked up so far
# The same keys as 8 big-endian bytes: a name's key is then one bytes object, compared by memcmp;
# bytes order is the order of the key tuples (a prefix sorts first, as for tuples).
_CHAR_BYTES: dict[str, bytes] = {}
_EMPTY_SLOT_BYTES = _EMPTY_SLOT.to_bytes(8, "big")
_SLOT_MARK = "\0"  # stands for the empty slot; never a name character (it has no stroke count)
_APPROXIMATE: set[str] = set()  # characters placed by their Unihan total stroke count only


def _char_key(name: str, char: str) -> CharKey:
    """The packed key of one character (cached); raises UnknownCharacterError."""
    data = strokes_of(char)
    if data is None:
        raise UnknownCharacterError(name, char)
    if data.approximate:
        _APPROXIMATE.add(char)
    key = _CHAR_KEYS[char] = data.key
    _CHAR_BYTES[char] = key.to_bytes(8, "big")
    return key


def _name_key(name: str, normalized: str, order: NameOrder) -> NameKey:
    try:
        keys = tuple(map(_CHAR_KEYS.__getitem__, normalized))
    except KeyError:
        keys = tuple(_CHAR_KEYS[c] if c in _CHAR_KEYS else _char_key(name, c) for c in normalized)
    if len(keys) == 2 and order == "single_given_name_first":
        return (keys[0], _EMPTY_SLOT, keys[1])
    return keys


def _normalized(name: str) -> str:
    # plain names (CJK letters only, the common case) skip the regular expressions
    return name if name.isalpha() else normalize_name(name)


def name_sort_key(name: str, order: NameOrder = DEFAULT_NAME_ORDER) -> NameKey:
    """A plain comparable key of one name; raises UnknownCharacterError.

    Edge case: under ``single_given_name_first`` 王刚 gets (王, empty slot, 刚) and sorts before
    王长河; under ``character_by_character`` 王长河 sorts first (长 4 strokes < 刚 6).
    """
    return _name_key(name, _normalized(name), order)


def _fill_cache(names: Sequence[str], normalized: list[str]) -> None:
    """Looks up every character not yet cached; raises for the first name with an unknown one."""
    missing = set("".join(normalized)).difference(_CHAR_KEYS)
    unknown = {char for char in missing if strokes_of(char) is None}
    if unknown:
        name, char = next(
            (name, char)
            for name, chars in zip(names, normalized, strict=True)
            for char in chars
            if char in unknown
        )
        raise UnknownCharacterError(name, char)
    for char in missing:
        _char_key("", char)


def sort_names(names: Sequence[str], order: NameOrder = DEFAULT_NAME_ORDER) -> SortedNames:
    """Sort names by surname strokes (按姓氏笔画为序); stable for identical keys.

    Warns about names that are identical after normalization (``duplicate_name``) and about
    characters placed only by their Unihan total stroke count (``approximate_stroke_data``).
    Raises UnknownCharacterError for a character with no stroke count at all.

    Each name's key is built in one pass from cached per-character keys; warnings are plain
    tuples whose messages are composed only when read.
    """
    # Hundreds of thousands of short-lived tuples: the cyclic collector would rescan them all
    # (they cannot form cycles), so it is paused for the call and restored afterwards.
    paused = gc.isenabled()
    gc.disable()
    try:
        return _sort_names(names, order)
    finally:
        if paused:
            gc.enable()


def _sort_names(names: Sequence[str], order: NameOrder) -> SortedNames:
    normalized = [name if name.isalpha() else normalize_name(name) for name in names]
    _fill_cache(names, normalized)
    if order == "single_given_name_first":
        chars_of = [s if len(s) != 2 else s[0] + _SLOT_MARK + s[1] for s in normalized]
        get = {**_CHAR_BYTES, _SLOT_MARK: _EMPTY_SLOT_BYTES}.__getitem__
    else:
        chars_of = normalized
        get = _CHAR_BYTES.__getitem__
    keys = list(map(b"".join, map(map, repeat(get), chars_of)))
    ranked = sorted(range(len(keys)), key=keys.__getitem__)
    result = tuple(map(names.__getitem__, ranked))

    found: list[tuple[int, NameWarning]] = []  # (input position, warning)
    suspects = _APPROXIMATE.intersection("".join(normalized)) if _APPROXIMATE else None
    if suspects:
        for i, chars in enumerate(normalized):
            for char in dict.fromkeys(c for c in chars if c in suspects):
                data = strokes_of(char)
                count = data.count if data else None
                found.append(
                    (i, NameWarning(names[i], "approximate_stroke_data", char, None, count))
                )
    n = len(normalized)
    if len(set(normalized)) < n:
        # first input position of each name: later positions overwrite earlier ones in reverse
        first = dict(zip(reversed(normalized), range(n - 1, -1, -1), strict=True))
        firsts = list(map(first.__getitem__, normalized))
        make = NameWarning._make
        found += [
            (i, make((names[i], "duplicate_name", None, names[firsts[i]], None)))
            for i in compress(range(n), map(ne, firsts, range(n)))
        ]
    if not found:
        return SortedNames(names=result, warnings=())
    rank = dict(zip(ranked, range(len(ranked)), strict=True))
    found.sort(key=lambda item: (rank[item[0]], item[1].kind != "approximate_stroke_data"))
    return SortedNames(names=result, warnings=tuple(warning for _, warning in found))


def _describe(data: CharStrokes) -> str:
    if data.approximate:
        # no stroke sequence known: placed by its Unihan total stroke count after the known ones
        return f"{data.char}({data.count}画 ? 近似:Unicode总笔画,排同笔画字后)"
    parts = [f"{data.count}画", data.sequence or "?", f"#{data.level}"]
    if data.structure is not None:  # shares count and sequence with other characters
        parts.append(STRUCTURE_NAMES[data.structure])
    if data.counted_as:
        parts.insert(0, f"按{data.counted_as}")
    return f"{data.char}({' '.join(parts)})"


def explain_name(name: str, order: NameOrder = DEFAULT_NAME_ORDER) -> str:
    """The key of a name on one line: per character its stroke count, stroke sequence (横1 竖2
    撇3 点4 折5) and collation rank ``#n`` (rank of count and sequence; characters sharing a rank
    also show their 字形结构 class), ``∅`` for the empty slot of a single given name, then the
    convention.

    >>> explain_name("王宁")
    '王(4画 1121 #88) ∅ 宁(5画 44512 #410) [single_given_name_first]'

    ``?`` stands for a sequence the shipped data does not carry (the order still follows the
    GF 3003 rank); ``按刘`` marks a traditional character counted as its simplified form;
    ``近似`` marks a character placed by its Unicode total stroke count only.
    """
    normalized = _normalized(name)
    parts = []
    for char in normalized:
        data = strokes_of(char)
        if data is None:
            raise UnknownCharacterError(name, char)
        parts.append(_describe(data))
    if order == "single_given_name_first" and len(parts) == 2:
        parts.insert(1, "∅")
    return f"{' '.join(parts)} [{order}]"
