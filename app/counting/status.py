"""Whether every paper of a round is in and reconciled (RULES.md C1, I4)."""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app import models
from app.counting.batches import (
    ADJUDICATION,
    DISCREPANCY,
    RECONCILED,
    Progress,
    list_batches,
    progresses,
)
from app.papers import service as papers_service


@dataclass(frozen=True, slots=True)
class RoundCountStatus:
    round_id: int
    collected: int | None
    declared: int
    batches: int
    batches_open: int  # not yet reconciled
    discrepancies_open: int
    adjudications_open: int
    papers_entered: int  # pass A entries of the current generations
    papers_reconciled: int

    @property
    def all_declared(self) -> bool:
        """I4: the batches' declared counts add up to ``collected``."""
        return self.collected is not None and self.declared == self.collected

    @property
    def ready(self) -> bool:
        """C1 + I4: every batch reconciled and the reconciled papers equal ``collected``."""
        return (
            self.all_declared
            and self.batches_open == 0
            and self.papers_reconciled == self.collected
        )


def round_count_status(session: Session, *, round_id: int) -> RoundCountStatus:
    round_ = papers_service.get_round(session, round_id=round_id)
    batches = list_batches(session, round_id=round_id)
    return count_status_of(round_, batches, progresses(session, batches))


def count_status_of(
    round_: models.Round, batches: Sequence[models.Batch], progress: Sequence[Progress]
) -> RoundCountStatus:
    """The status from the round's batches and their progress, read once by a caller that shows
    them too (the live snapshot)."""
    return RoundCountStatus(
        round_id=round_.id,
        collected=round_.collected,
        declared=sum(b.declared_count for b in batches),
        batches=len(batches),
        batches_open=sum(b.status != RECONCILED for b in batches),
        discrepancies_open=sum(b.status == DISCREPANCY for b in batches),
        adjudications_open=sum(b.status == ADJUDICATION for b in batches),
        papers_entered=sum(p.pass_a for p in progress),
        papers_reconciled=sum(b.declared_count for b in batches if b.status == RECONCILED),
    )
