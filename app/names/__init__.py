"""Surname-stroke ordering of names (按姓氏笔画为序), as STROKE_ORDER.md specifies.

Interface used by the rest of the app (implementation in progress in this package).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

NameOrder = Literal["single_given_name_first", "character_by_character"]
DEFAULT_NAME_ORDER: NameOrder = "single_given_name_first"


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


def sort_names(names: Sequence[str], order: NameOrder = DEFAULT_NAME_ORDER) -> SortedNames:
    raise NotImplementedError
