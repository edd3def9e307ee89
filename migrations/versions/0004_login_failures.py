"""login failures

Revision ID: 0004_login_failures
Revises: 0003
Create Date: 2026-12-06 02:30:00

The failed logins (wrong one-time codes) per client address, counted by ``app.loginguard`` to
rate-limit guessing across workers and instances (issue 20 item 6). Rows older than the window
are pruned as new failures come in.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_login_failures"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client", sa.String(length=64), nullable=False),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failure")),
    )
    op.create_index("ix_login_failure_failed_at", "login_failure", ["failed_at"], unique=False)
    op.create_index(
        "ix_login_failure_client_failed_at",
        "login_failure",
        ["client", "failed_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_login_failure_client_failed_at", table_name="login_failure")
    op.drop_index("ix_login_failure_failed_at", table_name="login_failure")
    op.drop_table("login_failure")
