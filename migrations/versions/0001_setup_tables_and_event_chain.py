"""setup tables and event chain

Revision ID: 0001
Revises: 
Create Date: 2026-11-25 10:39:17.193159
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    
    op.create_table('congress',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('delegates_total', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=True),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('delegates_total > 0', name=op.f('ck_congress_delegates_total_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_congress'))
    )
    op.create_table('delegate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('congress_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('delegation', sa.String(length=100), nullable=False),
    sa.Column('student_id', sa.String(length=50), nullable=False),
    sa.Column('present', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], name=op.f('fk_delegate_congress_id_congress'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delegate')),
    sa.UniqueConstraint('congress_id', 'student_id', name=op.f('uq_delegate_congress_id_student_id'))
    )
    op.create_table('election',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('congress_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('seats', sa.Integer(), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('seats > 0', name=op.f('ck_election_seats_positive')),
    sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], name=op.f('fk_election_congress_id_congress'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_election')),
    sa.UniqueConstraint('congress_id', 'title', name=op.f('uq_election_congress_id_title'))
    )
    op.create_table('event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('congress_id', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('parent', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('type', sa.String(length=60), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('at', sa.String(length=17), nullable=False),
    sa.Column('actor_role', sa.String(length=30), nullable=False),
    sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], name=op.f('fk_event_congress_id_congress'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event')),
    sa.UniqueConstraint('congress_id', 'height', name=op.f('uq_event_congress_id_height')),
    sa.UniqueConstraint('hash', name=op.f('uq_event_hash'))
    )
    op.create_table('official',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('congress_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('student_id', sa.String(length=50), nullable=True),
    sa.Column('login_code_hash', sa.String(length=64), nullable=True),
    sa.Column('login_code_expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], name=op.f('fk_official_congress_id_congress'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_official')),
    sa.UniqueConstraint('congress_id', 'role', 'name', name=op.f('uq_official_congress_id_role_name')),
    sa.UniqueConstraint('login_code_hash', name=op.f('uq_official_login_code_hash'))
    )
    op.create_table('auth_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=30), nullable=False),
    sa.Column('official_id', sa.Integer(), nullable=True),
    sa.Column('congress_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], name=op.f('fk_auth_session_congress_id_congress'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['official_id'], ['official.id'], name=op.f('fk_auth_session_official_id_official'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_auth_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_auth_session_token_hash'))
    )
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_session_official_id'), ['official_id'], unique=False)

    op.create_table('candidate',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('election_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('student_id', sa.String(length=50), nullable=True),
    sa.ForeignKeyConstraint(['election_id'], ['election.id'], name=op.f('fk_candidate_election_id_election'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_candidate')),
    sa.UniqueConstraint('election_id', 'name', name=op.f('uq_candidate_election_id_name'))
    )



def downgrade() -> None:
    
    op.drop_table('candidate')
    with op.batch_alter_table('auth_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_session_official_id'))

    op.drop_table('auth_session')
    op.drop_table('official')
    op.drop_table('event')
    op.drop_table('election')
    op.drop_table('delegate')
    op.drop_table('congress')

