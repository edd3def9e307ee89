"""Papers for a ROUND.json file (``jipiao ballot-paper``): the organizers' path without a server.

The input is the ``jipiao tally`` format (``app.rules.roundfile``); ``papers`` and ``collected``
are ignored. Descriptive keys used here: ``election`` — the election's integer id in the QR payload
(a string is taken as the election's name and printed as the title; the id is then 0), ``round``
— the round number (default 1), ``title`` and ``congress`` — printed in the title band.
"""

from dataclasses import dataclass
from typing import Any

from app.papers.definition import DefinitionError, FrozenRound, freeze_round
from app.papers.qr import encode_payload
from app.printing.ballot import BallotPaper, compose_paper, render_papers
from app.printing.layout import Layout, PaperSize
from app.rules.roundfile import RoundFileError, parse_round


@dataclass(frozen=True, slots=True)
class RenderedPapers:
    pdf: bytes
    frozen: FrozenRound
    payload: str
    copies: int


def _optional_text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise RoundFileError(f"{key}: must be a non-empty string")
    return value.strip()


@dataclass(frozen=True, slots=True)
class ComposedRound:
    """The paper a ROUND.json describes, before rendering (the printer's and the reader's input)."""

    paper: BallotPaper
    frozen: FrozenRound
    payload: str
    candidates: tuple[str, ...]  # ballot order
    issued: int


def compose_round_file(data: object, *, key: bytes, layout: Layout) -> ComposedRound:
    """The paper of the round a ROUND.json describes. Raises ``RoundFileError`` for a bad file."""
    if not isinstance(data, dict):
        raise RoundFileError("the round file must be a JSON object")
    counted = {name: value for name, value in data.items() if name != "papers"}
    counted.setdefault("collected", 0)
    round_input = parse_round(counted)
    election = data.get("election", 0)
    title = _optional_text(data, "title")
    if isinstance(election, str):
        title = title or election.strip() or None
        election = 0
    round_number = data.get("round", 1)
    try:
        frozen = freeze_round(
            round_input.definition,
            election_id=election,
            round_number=round_number,
        )
    except DefinitionError as exc:
        raise RoundFileError(str(exc)) from None
    payload = encode_payload(
        key=key, election_id=election, round_number=round_number, definition_hash=frozen.hash
    )
    paper = compose_paper(
        round_input.definition,
        layout,
        round_number=round_number,
        qr_payload=payload,
        title=title,
        logo_text=_optional_text(data, "congress"),
    )
    return ComposedRound(
        paper,
        frozen,
        payload,
        tuple(round_input.definition.candidates),
        round_input.attendance.issued,
    )


def render_round_file(
    data: object,
    *,
    key: bytes,
    layout: Layout,
    copies: int | None = None,
    paper_size: PaperSize | None = None,
    per_page: int | None = None,
) -> RenderedPapers:
    """Render the papers of the round a ROUND.json describes.

    ``copies`` defaults to the file's ``issued``, else ``present``. Raises ``RoundFileError`` for a
    bad file, ``LayoutError``/``PaperOverflowError`` when the paper cannot be laid out.
    """
    composed = compose_round_file(data, key=key, layout=layout)
    count = composed.issued if copies is None else copies
    if count < 1:
        raise RoundFileError("copies: nothing to print (issued/present is 0); pass --copies N")
    pdf = render_papers(
        composed.paper,
        copies=count,
        paper_size=paper_size or layout.paper_size,
        per_page=per_page or layout.per_page,
        font=layout.font,
    )
    return RenderedPapers(pdf, composed.frozen, composed.payload, count)
