"""customers.profile_fetched_at: when the LINE display name was last read (profile cache)

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 09:45:00
"""
from alembic import op
import sqlalchemy as sa
import shop.models.base

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('customers', sa.Column('profile_fetched_at', shop.models.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column('customers', 'profile_fetched_at')
