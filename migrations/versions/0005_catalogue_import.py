"""products: active flag and catalogue revision time (the shop's own catalogue, CSV import)

Revision ID: 0005
Revises: 0001
Create Date: 2026-12-01 10:00:00
"""
from alembic import op
import sqlalchemy as sa
import shop.models.base

revision = '0005'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('products') as batch:
        batch.add_column(sa.Column('active', sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.add_column(sa.Column('revised_at', shop.models.base.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('products') as batch:
        batch.drop_column('revised_at')
        batch.drop_column('active')
