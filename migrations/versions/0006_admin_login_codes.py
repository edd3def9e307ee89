"""one-time login codes for the secretariat

Revision ID: 0006_admin_login_codes
Revises: 0005_login_code_issuance
Create Date: 2026-12-06 04:20:00

Issue 18 item 1: the secretariat logs in to the console pages with a one-time code (typed, or
opened from its QR code) printed by ``jipiao serve`` / ``jipiao demo``, instead of pasting the
admin token into a page. Only the code's hash is kept, until it is used or expires.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006_admin_login_codes'
down_revision: str | None = '0005_login_code_issuance'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'admin_login_code',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_admin_login_code')),
        sa.UniqueConstraint('code_hash', name=op.f('uq_admin_login_code_code_hash')),
    )


def downgrade() -> None:
    op.drop_table('admin_login_code')
