"""hardening: what a turn did per webhook event; worker heartbeats

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

import shop.models.base

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('turn_steps',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_key', sa.String(length=64), nullable=False),
    sa.Column('step', sa.String(length=120), nullable=False),
    sa.Column('result', sa.Text(), nullable=False),
    sa.Column('created_at', shop.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('event_key', 'step')
    )
    with op.batch_alter_table('turn_steps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turn_steps_created_at'), ['created_at'], unique=False)
    op.create_table('worker_heartbeats',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('seen_at', shop.models.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    op.drop_table('worker_heartbeats')
    with op.batch_alter_table('turn_steps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_turn_steps_created_at'))
    op.drop_table('turn_steps')
