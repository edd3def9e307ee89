"""All ORM tables. Relationships are ``lazy="raise"``: a query says what it loads.

Secrecy: nothing here links a delegate to a ballot paper. ``Delegate.present`` says who is
checked in (a count per delegate); no table of this module knows anything about papers.
"""

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every database (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        utc = value.astimezone(UTC)
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:  # noqa: ARG002
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Congress(Base):
    __tablename__ = "congress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    delegates_total: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (CheckConstraint("delegates_total > 0", name="delegates_total_positive"),)


class Delegate(Base):
    __tablename__ = "delegate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    delegation: Mapped[str] = mapped_column(String(100), default="")
    student_id: Mapped[str] = mapped_column(String(50))
    # Q3: checked in in person, counted once. Never anything about papers.
    present: Mapped[bool] = mapped_column(default=False)

    __table_args__ = (UniqueConstraint("congress_id", "student_id"),)


class Election(Base):
    __tablename__ = "election"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(200))
    seats: Mapped[int] = mapped_column(Integer)
    # Rules-profile options as RULES.md spells them (only those that differ from the seed).
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    candidates: Mapped[list["Candidate"]] = relationship(
        back_populates="election", lazy="raise", order_by="Candidate.id"
    )

    __table_args__ = (
        UniqueConstraint("congress_id", "title"),
        CheckConstraint("seats > 0", name="seats_positive"),
    )


class Candidate(Base):
    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    student_id: Mapped[str | None] = mapped_column(String(50))

    election: Mapped[Election] = relationship(back_populates="candidates", lazy="raise")

    __table_args__ = (UniqueConstraint("election_id", "name"),)


class Official(Base):
    __tablename__ = "official"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(30))
    student_id: Mapped[str | None] = mapped_column(String(50))
    # SHA-256 of the pending one-time login code; cleared when used.
    login_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    login_code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The hash of the pending code's ``official.login_code_issued`` event (who issued it, when,
    # confirmed by whom); a session opened with the code keeps it (``AuthSession.code_event``).
    login_code_event: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("congress_id", "role", "name"),)


class AuthSession(Base):
    """A logged-in official (or the admin token's holder); only the token's hash is stored."""

    __tablename__ = "auth_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(30))
    official_id: Mapped[int | None] = mapped_column(
        ForeignKey("official.id", ondelete="CASCADE"), index=True
    )
    congress_id: Mapped[int | None] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # None: does not expire (the admin token, printed once at first start).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The ``official.login_code_issued`` event of the code this session was opened with.
    code_event: Mapped[str | None] = mapped_column(String(64))


class AdminLoginCode(Base):
    """A pending one-time login code for the secretariat (大会秘书处): ``jipiao serve`` and
    ``jipiao demo`` print one with its QR code so that nobody pastes the admin token into a page.
    Only its hash is stored; logging in with it deletes the row and opens an admin session that
    expires like an official's."""

    __tablename__ = "admin_login_code"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Event(Base):
    """One event of a congress's hash chain (``app.ledger.chain`` defines the hash)."""

    __tablename__ = "event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    height: Mapped[int] = mapped_column(Integer)
    parent: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(60))
    # The payload's canonical JSON text, exactly the bytes that were hashed.
    payload: Mapped[str] = mapped_column(Text)
    at: Mapped[str] = mapped_column(String(17))
    actor_role: Mapped[str] = mapped_column(String(30))

    # No two events at one height: a fork is impossible even if serialization failed.
    __table_args__ = (UniqueConstraint("congress_id", "height"),)


class Round(Base):
    """One vote on one printed paper (轮次). ``definition`` is the canonical JSON frozen at opening
    (``app.papers.definition``); the counts stay null until recorded. Nothing here is per paper."""

    __tablename__ = "round"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    election_id: Mapped[int] = mapped_column(ForeignKey("election.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(20))  # regular | tie | supplementary | rerun
    seats: Mapped[int] = mapped_column(Integer)
    # The printed strings in ballot order (B1).
    candidates: Mapped[list[str]] = mapped_column(JSON)
    definition: Mapped[str] = mapped_column(Text)
    definition_hash: Mapped[str] = mapped_column(String(64))
    present: Mapped[int] = mapped_column(Integer)  # Q3: frozen at opening
    printed: Mapped[int | None] = mapped_column(Integer)
    issued: Mapped[int | None] = mapped_column(Integer)
    destroyed: Mapped[int | None] = mapped_column(Integer)  # printed − issued (剩余选票当众销毁)
    collected: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))  # open | issued | collected | counting | void
    follows_round_id: Mapped[int | None] = mapped_column(
        ForeignKey("round.id", ondelete="SET NULL")
    )
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("election_id", "number"),
        CheckConstraint("seats > 0", name="seats_positive"),
    )


class Batch(Base):
    """A bundle of collected papers (一扎选票) entered by pass A and, with double entry, pass B.

    ``generation`` grows when a scrutineer orders the batch re-entered: entries of older
    generations are kept (never edited) and no longer count.
    """

    __tablename__ = "batch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("round.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    declared_count: Mapped[int] = mapped_column(Integer)
    teller_a_id: Mapped[int] = mapped_column(ForeignKey("official.id"))
    teller_b_id: Mapped[int | None] = mapped_column(ForeignKey("official.id"))
    generation: Mapped[int] = mapped_column(Integer, default=1)
    # entering | discrepancy | adjudication | reconciled
    status: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("round_id", "number"),
        CheckConstraint("declared_count > 0", name="declared_count_positive"),
    )


class PaperEntry(Base):
    """One paper as entered by one pass. Secrecy: a random id (uuid4), a minute-coarse time, no
    sequence number; lists are sorted by the random id. Rows are never edited."""

    __tablename__ = "paper_entry"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"))
    entry_pass: Mapped[str] = mapped_column(String(1))  # "a" | "b"
    generation: Mapped[int] = mapped_column(Integer)
    idempotency_key: Mapped[str] = mapped_column(String(100))
    request_hash: Mapped[str] = mapped_column(String(64))
    # Canonical record (marks in ballot order, normalized sorted write-ins, void) as JSON text.
    record: Mapped[str] = mapped_column(Text)
    # "valid" | "invalid" | "pending" (an unclear mark awaits adjudication, P6)
    status: Mapped[str] = mapped_column(String(10))
    rule: Mapped[str | None] = mapped_column(String(4))
    answer: Mapped[str] = mapped_column(Text)  # the response, replayed on a retried request
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("batch_id", "entry_pass", "idempotency_key"),
        # A pass's progress is counted on every entry: from the index alone, not row by row.
        Index("ix_paper_entry_batch_pass_generation", "batch_id", "entry_pass", "generation"),
    )


class BatchResolution(Base):
    """A scrutineer's resolution of a batch (final records for the disputed papers, or an order
    to re-enter the batch). A new row, never an edit of the entries."""

    __tablename__ = "batch_resolution"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batch.id", ondelete="CASCADE"))
    generation: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(10))  # "records" | "reentry"
    records: Mapped[list[str]] = mapped_column(JSON)  # canonical record texts
    reason: Mapped[str] = mapped_column(Text)
    author_role: Mapped[str] = mapped_column(String(30))
    author_official_id: Mapped[int | None] = mapped_column(
        ForeignKey("official.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InstallationKey(Base):
    """The fingerprint of one of the installation's keys (``app.keys``: ``qr_key``,
    ``signing_key``), recorded by the first instance that starts on this database. Every
    instance on the same database must hold the same keys: one whose keys differ is refused at
    start, before it could print papers another instance refuses or sign with another key."""

    __tablename__ = "installation_key"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginFailure(Base):
    """A failed login (a wrong one-time code) from one client address: ``app.loginguard`` counts
    them to refuse guessing, in the database so the limit holds across workers and instances.
    Rows older than the window are deleted as new ones come in."""

    __tablename__ = "login_failure"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The client's address (IPv6: its /64 network), as ``app.loginguard.client_key`` makes it.
    client: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_login_failure_failed_at", "failed_at"),
        Index("ix_login_failure_client_failed_at", "client", "failed_at"),
    )
