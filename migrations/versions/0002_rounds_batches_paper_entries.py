"""rounds batches paper entries

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 11:41:03.400579
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('round',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('candidates', sa.JSON(), nullable=False),
    sa.Column('definition', sa.Text(), nullable=False),
    sa.Column('definition_hash', sa.String(length=64), nullable=False),
    sa.Column('present', sa.Integer(), nullable=False),
    sa.Column('printed', sa.Integer(), nullable=True),
    sa.Column('issued', sa.Integer(), nullable=True),
    sa.Column('destroyed', sa.Integer(), nullable=True),
    sa.Column('collected', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('follows_round_id', sa.Integer(), nullable=True),
    sa.Column('opened_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('seats > 0', name=op.f('ck_round_seats_positive')),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], name=op.f('fk_round_election_id_election'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['follows_round_id'], ['round.id'], name=op.f('fk_round_follows_round_id_round'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_round')),
    sa.UniqueConstraint('election_id', 'number', name=op.f('uq_round_election_id_number'))
    )
    op.create_table('batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('declared_count', sa.Integer(), nullable=False),
    sa.Column('teller_a_id', sa.Integer(), nullable=False),
    sa.Column('teller_b_id', sa.Integer(), nullable=True),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('declared_count > 0', name=op.f('ck_batch_declared_count_positive')),
    sa.ForeignKeyConstraint(['round_id'], ['round.id'], name=op.f('fk_batch_round_id_round'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['teller_a_id'], ['official.id'], name=op.f('fk_batch_teller_a_id_official')),
    sa.ForeignKeyConstraint(['teller_b_id'], ['official.id'], name=op.f('fk_batch_teller_b_id_official')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch')),
    sa.UniqueConstraint('round_id', 'number', name=op.f('uq_batch_round_id_number'))
    )
    op.create_table('batch_resolution',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('action', sa.String(length=10), nullable=False),
    sa.Column('records', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('author_role', sa.String(length=30), nullable=False),
    sa.Column('author_official_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_official_id'], ['official.id'], name=op.f('fk_batch_resolution_author_official_id_official'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_batch_resolution_batch_id_batch'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_batch_resolution'))
    )
    op.create_table('paper_entry',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=False),
    sa.Column('entry_pass', sa.String(length=1), nullable=False),
    sa.Column('generation', sa.Integer(), nullable=False),
    sa.Column('idempotency_key', sa.String(length=100), nullable=False),
    sa.Column('request_hash', sa.String(length=64), nullable=False),
    sa.Column('record', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('rule', sa.String(length=4), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.Column('entered_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['batch_id'], ['batch.id'], name=op.f('fk_paper_entry_batch_id_batch'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_paper_entry')),
    sa.UniqueConstraint('batch_id', 'entry_pass', 'idempotency_key', name=op.f('uq_paper_entry_batch_id_entry_pass_idempotency_key'))
    )


def downgrade() -> None:

    op.drop_table('paper_entry')
    op.drop_table('batch_resolution')
    op.drop_table('batch')
    op.drop_table('round')
