"""staff_requests: staff_replied_at (a chat taken over by a person)

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 10:10:00
"""
from alembic import op
import sqlalchemy as sa
import shop.models.base

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('staff_requests') as batch:
        batch.add_column(sa.Column('staff_replied_at', shop.models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('staff_requests') as batch:
        batch.drop_column('staff_replied_at')
