"""Read a photographed paper of a round for a teller: propose its marks, store nothing.

The image lives only in this request's memory; no table is read for writing and no event is
recorded — the teller still enters the paper (a tapped record, unchanged), so the reading is a
proposal and double entry and reconciliation stay as they are.
"""

import functools
from pathlib import Path

from sqlalchemy.orm import Session

from app.errors import InvalidInput
from app.papers import service as papers_service
from app.printing.layout import load_layout
from app.reader.locate import PaperNotFound
from app.reader.read import ExpectedPaper, PaperReading, expected_paper, read_paper
from app.rules.model import RoundDefinition
from app.setup import service as setup_service


@functools.lru_cache(maxsize=16)
def _expected(
    definition: RoundDefinition, round_number: int, payload: str, title: str, logo_text: str
) -> ExpectedPaper:
    """The round's paper in every size it can be printed (composing it loads the font: cached)."""
    from app.printing.ballot import compose_paper

    layout = load_layout()
    paper = compose_paper(
        definition,
        layout,
        round_number=round_number,
        qr_payload=payload,
        title=title,
        logo_text=logo_text,
    )
    return expected_paper(paper, definition.candidates, font=layout.font)


def read_round_paper(
    session: Session, *, round_id: int, image: bytes, data_dir: Path
) -> PaperReading:
    """The marks a photo or scan of one of the round's papers shows, each sure or not."""
    round_ = papers_service.get_round(session, round_id=round_id)
    election = setup_service.get_election(session, election_id=round_.election_id)
    congress = setup_service.get_congress(session, congress_id=election.congress_id)
    definition = papers_service.round_definition(round_)
    payload = papers_service.round_payload(round_, data_dir=data_dir)

    def paper_for(found: str) -> ExpectedPaper:
        papers_service.verify_scan(session, round_=round_, payload=found, data_dir=data_dir)
        return _expected(definition, round_.number, payload, election.title, congress.name)

    try:
        return read_paper(image, paper_for)
    except PaperNotFound as exc:
        raise InvalidInput("paper_not_read", exc.message_zh, exc.message_en, field="body") from None
