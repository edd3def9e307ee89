"""login code issuance on officials and sessions (separation of duties)

Revision ID: 0005_login_code_issuance
Revises: 0004_login_failures
Create Date: 2026-12-06 02:40:00

Issue 20 item 3: a signature names the session it was made with and how that session's login
code was issued (by whom, when, confirmed by which presidium member). The code's
``official.login_code_issued`` event hash is kept on the official while the code is pending and on
the session opened with it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005_login_code_issuance'
down_revision: str | None = '0004_login_failures'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('official', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_code_event', sa.String(length=64), nullable=True))
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('code_event', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_column('code_event')
    with op.batch_alter_table('official', schema=None) as batch_op:
        batch_op.drop_column('login_code_event')
