"""The rules engine's vocabulary: marks, papers, round definitions, attendance, trace entries.

Everything here is immutable. A paper is a ``NamedTuple`` so that identical papers hash and compare
in C: counting groups identical papers before judging them (most papers of a round repeat).
"""

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Final, Literal, NamedTuple, get_args

from app.rules.profiles import SEED_PROFILE, Profile

Mark = Literal["yes", "no", "abstain", "blank", "illegible"]
"""A printed candidate's mark after adjudication: ✓ 赞成, × 不赞成, △ 弃权, 未划, 无法辨认 (P6)."""
MARKS: tuple[Mark, ...] = get_args(Mark)

EnteredMark = Literal["yes", "no", "abstain", "blank", "unclear"]
"""A mark as a teller enters it: ``unclear`` (?) waits for the scrutineers, who rule it (P6)."""
UNCLEAR: Final = "unclear"

VoidRule = Literal["P1", "P4", "P9"]
"""A paper declared void as a whole: not authentic, identifying marks, wholly illegible."""
VOID_RULES: tuple[VoidRule, ...] = get_args(VoidRule)

RoundKind = Literal["regular", "tie", "supplementary", "rerun"]
ROUND_KINDS: tuple[RoundKind, ...] = get_args(RoundKind)

RuleId = Literal[
    "Q1", "Q2", "Q3",
    "I1", "I2", "I3", "I4",
    "P1", "P2", "P3", "P4", "P5", "P6", "P7", "P8", "P9",
    "M1", "M2", "M3", "M4", "M5", "M6", "M7", "M8", "M9", "M10", "M11",
    "O1", "O2", "O3",
    "C1", "C2", "C3", "C4",
    "B1", "B2", "B3", "B4",
]  # fmt: skip

WriteIn = str | None
"""A name written in a 另选他人 box; ``None`` is a write-in that cannot be read (P7)."""

_WHITESPACE = re.compile(r"\s+")


def normalize_name(name: str) -> str:
    """The identity of a written name (P7): Unicode NFKC with all whitespace removed.

    ``"王 小明"`` and ``"王小明"`` (or a full-width variant) are the same person.
    """
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", name))


class RoundInputError(ValueError):
    """The input to the engine is malformed or inconsistent (not an election outcome)."""

    def __init__(self, rule: RuleId | None, field: str, message_zh: str, message_en: str) -> None:
        super().__init__(f"{field}: {message_en}")
        self.rule = rule
        self.field = field
        self.message_zh = message_zh
        self.message_en = message_en


class PaperRecord(NamedTuple):
    """One collected paper as entered: a mark per printed candidate in ballot order, the write-ins
    in the 另选他人 boxes, and the rule under which the whole paper was declared void, if any."""

    marks: tuple[Mark, ...]
    write_ins: tuple[WriteIn, ...] = ()
    void: VoidRule | None = None


def write_in_order(name: WriteIn) -> tuple[bool, str]:
    """The order of write-ins: names by code point, an illegible write-in (``None``) last."""
    return (name is None, name or "")


PaperOrder = tuple[tuple[str, ...], tuple[tuple[bool, str], ...], tuple[bool, str]]


def paper_order(paper: PaperRecord) -> PaperOrder:
    """The one total order of paper records (sort with ``key=paper_order``, never bare).

    A record's optional fields cannot be compared as they are (``None`` against ``"P4"``, an
    illegible write-in against a name): here ``None`` sorts after every value of its field for a
    write-in and before every rule for ``void``, so records that compared before keep their order.
    """
    return (
        tuple(paper.marks),
        tuple(write_in_order(name) for name in paper.write_ins),
        (paper.void is not None, paper.void or ""),
    )


@dataclass(frozen=True, slots=True)
class RoundDefinition:
    """What the round's paper prints: seats, candidates in ballot order, the rules profile.

    ``ineligible`` holds normalized names the presidium ruled ineligible (P7): they are struck from
    the ranking while the papers naming them stay valid.
    """

    seats: int
    candidates: tuple[str, ...]
    kind: RoundKind = "regular"
    profile: Profile = SEED_PROFILE
    ineligible: frozenset[str] = frozenset()
    printed: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.seats < 1:
            raise RoundInputError(None, "seats", "应选名额至少为 1", "seats must be at least 1")
        if not self.candidates:
            raise RoundInputError(None, "candidates", "候选人名单为空", "no candidates")
        keys = [normalize_name(name) for name in self.candidates]
        for index, key in enumerate(keys):
            if not key:
                raise RoundInputError(
                    None, f"candidates[{index}]", "候选人姓名为空", "empty candidate name"
                )
            if key in keys[:index]:
                raise RoundInputError(
                    None,
                    f"candidates[{index}]",
                    f"候选人 {key} 重复；同名者请加注区分（如所在代表团）",
                    f"candidate {key} appears twice; tell namesakes apart (e.g. delegation)",
                )
        object.__setattr__(self, "printed", frozenset(keys))

    @property
    def has_write_ins(self) -> bool:
        """A tie-round paper lists only the tied persons and has no 另选他人 boxes (M7)."""
        return self.kind != "tie"


@dataclass(frozen=True, slots=True)
class Attendance:
    """The round's figures: 应到 ``delegates_total``, 实到 ``present`` (frozen at issuance, Q3),
    papers ``issued`` and ``collected``."""

    delegates_total: int
    present: int
    issued: int
    collected: int

    def __post_init__(self) -> None:
        for name in ("delegates_total", "present", "issued", "collected"):
            if getattr(self, name) < 0:
                raise RoundInputError(None, name, "人数不能为负数", "counts cannot be negative")
        if self.delegates_total < 1:
            raise RoundInputError(
                None, "delegates_total", "应到人数至少为 1", "delegates_total must be at least 1"
            )
        if self.present > self.delegates_total:
            raise RoundInputError(
                "Q3",
                "present",
                f"实到人数 {self.present} 多于应到人数 {self.delegates_total}",
                f"present {self.present} exceeds delegates_total {self.delegates_total}",
            )
        if self.issued > self.present:
            raise RoundInputError(
                "I1",
                "issued",
                f"发出选票 {self.issued} 张多于实到人数 {self.present}",
                f"issued {self.issued} exceeds present {self.present}",
            )


@dataclass(frozen=True, slots=True)
class TraceEntry:
    """One decision of the engine, citing the rule it applied."""

    rule: RuleId
    message_zh: str
    message_en: str
