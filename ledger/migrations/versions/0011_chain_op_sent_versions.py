"""chain op sent versions: every hash signed for an operation's nonce (fee bumps replace it)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 09:00:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chain_op", schema=None) as batch_op:
        batch_op.add_column(sa.Column("sent_txs", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chain_op", schema=None) as batch_op:
        batch_op.drop_column("sent_txs")
