"""The provisional outcome while papers are being entered (pure: only ``app.rules``).

Provisional on purpose, and the snapshot says so:

* it counts the final records of the reconciled batches and pass A's records as entered of the
  others, before their passes are compared and reconciled (O3; see ``app.live.service``);
* an ``unclear`` mark (P6, not yet adjudicated) counts as abstaining for now;
* the engine is run as if the papers entered so far were all that was collected (I4 is not
  checked), so with a majority base of collected or valid papers the threshold moves as papers
  come in.

The decision itself is only ever ``round.decided`` on the reconciled papers (C1).
"""

from collections.abc import Mapping, Sequence
from typing import Any, cast

from app.rules import (
    Attendance,
    Copies,
    Mark,
    PaperRecord,
    RoundDefinition,
    VoidRule,
    WriteIn,
    count_round,
    paper_order,
)
from app.rules.model import UNCLEAR
from app.rules.roundfile import round_result_json


def provisional_paper(
    marks: Sequence[str], write_ins: Sequence[WriteIn], void: VoidRule | None
) -> PaperRecord:
    """A record as entered, with an unclear mark read as abstaining (provisionally)."""
    read = tuple("blank" if mark == UNCLEAR else mark for mark in marks)
    return PaperRecord(
        marks=cast(tuple[Mark, ...], read),
        write_ins=tuple(write_ins),
        void=void,
    )


def provisional_result(
    definition: RoundDefinition,
    *,
    delegates_total: int,
    present: int,
    issued: int | None,
    papers: Mapping[PaperRecord, int],
) -> dict[str, Any]:
    """The engine's result on the papers entered so far (each distinct paper and its count), as
    JSON, with per-person standing.

    Edge: no paper entered yet gives zero votes for everyone and no one elected.
    """
    copies = Copies(sorted(papers.items(), key=lambda item: paper_order(item[0])))
    attendance = Attendance(
        delegates_total=delegates_total,
        present=present,
        issued=present if issued is None else issued,
        collected=len(copies),
    )
    result = count_round(definition, attendance, copies)
    document = round_result_json(result)
    elected = set(document["elected"])
    next_round = document["next_round"]
    tied = set(next_round["candidates"]) if next_round and next_round["kind"] == "tie" else set()
    for tally in document["tallies"]:
        name = tally["name"]
        tally["standing"] = "elected" if name in elected else "tied" if name in tied else "short"
    document.pop("trace", None)
    return document


def standings(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A result's tallies (JSON), each with its ``standing``: ``elected``, ``tied`` (goes to a
    tie round) or ``short`` — as ``provisional_result`` marks them, for a decided round."""
    elected = set(result["elected"])
    next_round = result["next_round"]
    tied = set(next_round["candidates"]) if next_round and next_round["kind"] == "tie" else set()
    return [
        tally | {"standing": "elected" if name in elected else "tied" if name in tied else "short"}
        for tally in result["tallies"]
        for name in [tally["name"]]
    ]
