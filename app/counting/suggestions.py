"""Write-in name suggestions for the tablet: roster names by prefix or pinyin initials."""

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from app import models
from app.errors import not_found
from app.papers import service as papers_service
from app.rules.model import (
    normalize_name,
)
from app.setup import service as setup_service
from app.setup.search import name_matches


def suggest_names(
    session: Session, *, congress_id: int, q: str, limit: int, round_id: int | None = None
) -> list[str]:
    """Roster names starting with ``q`` (P7-normalized) or whose pinyin initials start with it
    (``wxm`` → 王小明); distinct, sorted by name. With ``round_id``, without the candidates
    printed on that round's paper (a write-in naming one is disregarded, P7)."""
    setup_service.get_congress(session, congress_id=congress_id)
    printed: set[str] = set()
    if round_id is not None:
        round_ = session.get(models.Round, round_id)
        election = None if round_ is None else session.get(models.Election, round_.election_id)
        if round_ is None or election is None or election.congress_id != congress_id:
            raise not_found("轮次", "round", round_id, field="query.round_id")
        definition = papers_service.round_definition(round_)
        printed = {normalize_name(name) for name in definition.candidates}
    if not normalize_name(q):
        return []
    names = sorted(
        set(
            session.scalars(
                select(models.Delegate.name).where(models.Delegate.congress_id == congress_id)
            )
        )
    )
    found = [
        name for name in names if normalize_name(name) not in printed and name_matches(name, q)
    ]
    return found[:limit]
