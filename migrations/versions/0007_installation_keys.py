"""the installation's key fingerprints

Revision ID: 0007_installation_keys
Revises: 0006_admin_login_codes
Create Date: 2026-12-06 08:00:00

Issue 21 item 4: several instances on one database must hold the same QR and signing keys (the
keys stay in each instance's data folder, never in the database). The first instance to start
records the keys' fingerprints; an instance whose keys differ is refused at start.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007_installation_keys'
down_revision: str | None = '0006_admin_login_codes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'installation_key',
        sa.Column('name', sa.String(length=32), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_installation_key')),
    )


def downgrade() -> None:
    op.drop_table('installation_key')
