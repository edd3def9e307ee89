"""Canonical paper records: a paper as entered, checked against the round's paper (read by name
as ``app.rules.by_name`` reads it), its canonical JSON text — what the two passes compare, as
multisets — and its judgement by the rules engine (RULES.md P1–P9); its write-ins against the
roster (P7)."""

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, cast

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from app import models
from app.counting.writein import check_write_ins
from app.errors import InvalidInput
from app.ledger.chain import JsonValue, canonical_json
from app.rules.by_name import PaperNameError, check_write_in_boxes, marks_in_ballot_order
from app.rules.model import (
    Mark,
    PaperRecord,
    RoundDefinition,
    RoundInputError,
    VoidRule,
    WriteIn,
    normalize_name,
    write_in_order,
)
from app.rules.validity import judge_paper

UNCLEAR = "unclear"


# A candidate's mark in words: as entered (``unclear`` waits for a scrutineer, P6) and as final
# (``illegible``: the scrutineers could not read it; it counts as abstaining, P6).
MARK_ZH: dict[str, str] = {
    "yes": "赞成",
    "no": "不赞成",
    "abstain": "弃权",
    "blank": "未划（按弃权计）",
    UNCLEAR: "无法辨认（待裁定）",
    "illegible": "无效（按弃权计）",
}


@dataclass(frozen=True, slots=True)
class Record:
    """One paper as the passes compare it (the canonical record)."""

    marks: tuple[str, ...]  # ballot order; entered marks may be "unclear"
    write_ins: tuple[WriteIn, ...]  # normalized (P7), sorted, illegible (None) last
    void: VoidRule | None

    @property
    def unclear(self) -> bool:
        return UNCLEAR in self.marks

    def document(self) -> dict[str, JsonValue]:
        return {"marks": list(self.marks), "void": self.void, "write_ins": list(self.write_ins)}

    def text(self) -> str:
        return canonical_json(self.document()).decode("utf-8")

    @classmethod
    def from_text(cls, text: str) -> "Record":
        data = json.loads(text)
        return cls(tuple(data["marks"]), tuple(data["write_ins"]), data["void"])

    def to_paper(self) -> PaperRecord:
        assert not self.unclear
        return PaperRecord(
            marks=cast(tuple[Mark, ...], self.marks), write_ins=self.write_ins, void=self.void
        )

    def shown(self, candidates: Sequence[str]) -> dict[str, Any]:
        """The record as the API shows it: marks by candidate name, in ballot order."""
        return {
            "marks": dict(zip(candidates, self.marks, strict=True)),
            "write_ins": list(self.write_ins),
            "void": self.void,
        }


def make_record(
    definition: RoundDefinition,
    *,
    marks: Mapping[str, str],
    write_ins: Sequence[str | None],
    void: VoidRule | None,
    field_prefix: str = "body",
) -> Record:
    """Check a paper as entered against the round's paper and make its canonical record.

    The marks by name as ``app.rules.by_name`` reads them (a candidate missing is blank, P5);
    whether each write-in is a name is ``check_names`` (it needs the roster).
    """
    try:
        ordered = marks_in_ballot_order(definition, marks)
        check_write_in_boxes(definition, write_ins)
    except PaperNameError as exc:
        raise InvalidInput(
            exc.code, exc.message_zh, exc.message_en, field=f"{field_prefix}.{exc.where}"
        ) from None
    if len(write_ins) > definition.seats:
        raise InvalidInput(
            "too_many_write_in_boxes",
            f"选票只有 {definition.seats} 个“另选他人”栏",
            f"the paper has only {definition.seats} write-in boxes",
            field=f"{field_prefix}.write_ins",
        )
    normalized: list[WriteIn] = []
    for position, written in enumerate(write_ins):
        if written is None:
            normalized.append(None)
            continue
        name = normalize_name(written)
        if not name:
            raise InvalidInput(
                "empty_write_in",
                "另选他人姓名为空；字迹无法辨认的姓名请点“字迹无法辨认”",
                "an empty write-in; send null for a name that cannot be read",
                field=f"{field_prefix}.write_ins.{position}",
            )
        normalized.append(name)
    return Record(tuple(ordered), tuple(sorted(normalized, key=write_in_order)), void)


@dataclass(frozen=True, slots=True)
class Judgement:
    status: Literal["valid", "invalid", "pending"]
    rule: str | None
    violations: tuple[str, ...]


def judge(record: Record, definition: RoundDefinition) -> Judgement:
    """P1–P9 through the engine; an unclear mark leaves the paper pending (P6) unless the whole
    paper is void anyway."""
    if record.unclear and record.void is None:
        return Judgement("pending", None, ())
    marks = tuple("illegible" if mark == UNCLEAR else mark for mark in record.marks)
    paper = PaperRecord(cast(tuple[Mark, ...], marks), record.write_ins, record.void)
    try:
        verdict = judge_paper(paper, definition)
    except RoundInputError as exc:  # checked in make_record; kept as a 422 should it change
        raise InvalidInput("invalid_paper", exc.message_zh, exc.message_en, field="body") from None
    if verdict.valid:
        return Judgement("valid", None, ())
    return Judgement("invalid", verdict.reason, verdict.violations)


@lru_cache(maxsize=4096)
def _roster_key(name: str) -> str:
    return normalize_name(name)


def roster_names(session: Session, *, congress_id: int) -> set[str]:
    """The congress's roster, P7-normalized, as write-ins are compared with it."""
    names = session.scalars(
        select(models.Delegate.name).where(models.Delegate.congress_id == congress_id)
    )
    return {_roster_key(name) for name in names}


def not_on_roster(record: Record, roster: set[str]) -> list[str]:
    """The record's write-ins that are not on ``roster`` (``roster_names``), once each."""
    written = [name for name in record.write_ins if name is not None]
    return [name for name in dict.fromkeys(written) if name not in roster]


def check_names(
    write_ins: Sequence[str | None],
    *,
    not_on_roster: Sequence[str],
    latin_confirmed: bool,
    field_prefix: str = "body",
) -> None:
    """Refuse (422) a write-in off the roster that is not a name in Chinese characters, or one
    in Latin letters the teller did not confirm (app/counting/writein.py). A roster name is a
    person's name as the roster spells it (王芳（女）, a foreign delegate's): always taken.
    ``write_ins`` as entered, in their order; ``not_on_roster`` P7-normalized."""
    if not not_on_roster:
        return
    unknown = set(not_on_roster)
    check_write_ins(
        [
            None if name is None or normalize_name(name) not in unknown else normalize_name(name)
            for name in write_ins
        ],
        latin_confirmed=latin_confirmed,
        field_prefix=field_prefix,
    )
