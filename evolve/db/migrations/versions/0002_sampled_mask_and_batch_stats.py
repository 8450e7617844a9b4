"""per-token sampled mask on rollouts (scaffolded generation), accounting stats on batches,
the operator of each prompt (evolve.operators)

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sampled', sa.JSON(), nullable=True))
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stats', sa.JSON(), nullable=True))
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operator', sa.String(length=20), nullable=False,
                                      server_default='refine'))


def downgrade() -> None:
    with op.batch_alter_table('prompts', schema=None) as batch_op:
        batch_op.drop_column('operator')
    with op.batch_alter_table('batches', schema=None) as batch_op:
        batch_op.drop_column('stats')
    with op.batch_alter_table('rollouts', schema=None) as batch_op:
        batch_op.drop_column('sampled')
