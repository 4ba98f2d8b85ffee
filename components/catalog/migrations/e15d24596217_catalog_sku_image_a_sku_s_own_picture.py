"""catalog_sku.image: a SKU's own picture

Component: catalog
Revision ID: e15d24596217
Revises: 5f83af36fdb2
Create Date: 2026-12-03 16:57:08.564671
"""

import sqlalchemy as sa
from alembic import op

revision = 'e15d24596217'
down_revision = '5f83af36fdb2'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('catalog_sku', schema=None) as batch_op:
        batch_op.add_column(sa.Column('image', sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('catalog_sku', schema=None) as batch_op:
        batch_op.drop_column('image')
