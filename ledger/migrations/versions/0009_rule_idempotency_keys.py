"""rule idempotency keys

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 03:15:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("settlement_rule", schema=None) as batch_op:
        batch_op.add_column(sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column("request_digest", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True))
        batch_op.create_unique_constraint("uq_rule_setter_idempotency_key", ["setter_id", "idempotency_key"])


def downgrade() -> None:
    with op.batch_alter_table("settlement_rule", schema=None) as batch_op:
        batch_op.drop_constraint("uq_rule_setter_idempotency_key", type_="unique")
        batch_op.drop_column("request_digest")
        batch_op.drop_column("idempotency_key")
