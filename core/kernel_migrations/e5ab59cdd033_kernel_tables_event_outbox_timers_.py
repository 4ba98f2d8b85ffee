"""kernel tables: event outbox, timers, idempotency keys, meta

Component: kernel
Revision ID: e5ab59cdd033
Revises: 
Create Date: 2026-11-24 09:55:51.431628
"""

import sqlalchemy as sa
from alembic import op

revision = 'e5ab59cdd033'
down_revision = None
branch_labels = ('kernel',)
depends_on = None


def upgrade() -> None:
    op.create_table('kernel_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kernel_event'))
    )
    with op.batch_alter_table('kernel_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kernel_event_delivered_at'), ['delivered_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kernel_event_name'), ['name'], unique=False)

    op.create_table('kernel_idempotency',
    sa.Column('scope', sa.String(length=100), nullable=False),
    sa.Column('actor', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('scope', 'actor', 'key', name=op.f('pk_kernel_idempotency'))
    )
    op.create_table('kernel_meta',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_kernel_meta'))
    )
    op.create_table('kernel_timer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('job', sa.String(length=100), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kernel_timer')),
    sa.UniqueConstraint('job', 'key', name=op.f('uq_kernel_timer_job_key'))
    )
    with op.batch_alter_table('kernel_timer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kernel_timer_due_at'), ['due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_kernel_timer_state'), ['state'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('kernel_timer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kernel_timer_state'))
        batch_op.drop_index(batch_op.f('ix_kernel_timer_due_at'))

    op.drop_table('kernel_timer')
    op.drop_table('kernel_meta')
    op.drop_table('kernel_idempotency')
    with op.batch_alter_table('kernel_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kernel_event_name'))
        batch_op.drop_index(batch_op.f('ix_kernel_event_delivered_at'))

    op.drop_table('kernel_event')
