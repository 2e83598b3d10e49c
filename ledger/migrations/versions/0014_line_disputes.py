"""line disputes: each dispute of a statement line as the chain holds it; the arbiter role

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 19:15:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TYPE role ADD VALUE IF NOT EXISTS 'arbiter'")
    op.create_table(
        "line_dispute",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_pk", sa.Integer(), nullable=False),
        sa.Column("dispute_id", sa.BigInteger(), nullable=False),
        sa.Column("line_index", sa.Integer(), nullable=False),
        sa.Column("payee", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("work_id", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("line_amount", sa.Numeric(78, 0), nullable=False),
        sa.Column("claimed_amount", sa.Numeric(78, 0), nullable=False),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("reason_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("deadline", sa.BigInteger(), nullable=False),
        sa.Column("bond", sa.Numeric(78, 0), nullable=False),
        sa.Column("state", sa.Enum("open", "upheld", "rejected", name="disputestate"), nullable=False),
        sa.Column("by_default", sa.Boolean(), nullable=False),
        sa.Column("corrected_amount", sa.Numeric(78, 0), nullable=True),
        sa.Column("decision_reason", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("decision_reason_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("dispute_op_id", sa.Integer(), nullable=True),
        sa.Column("decision_op_id", sa.Integer(), nullable=True),
        sa.Column("carried_to_pk", sa.Integer(), nullable=True),
        sa.Column("carry_op_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["period_pk"], ["settlement_period.id"]),
        sa.ForeignKeyConstraint(["carried_to_pk"], ["settlement_period.id"]),
        sa.ForeignKeyConstraint(["dispute_op_id"], ["chain_op.id"]),
        sa.ForeignKeyConstraint(["decision_op_id"], ["chain_op.id"]),
        sa.ForeignKeyConstraint(["carry_op_id"], ["chain_op.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_pk", "dispute_id", name="uq_dispute_period_number"),
    )
    with op.batch_alter_table("line_dispute", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_line_dispute_period_pk"), ["period_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_line_dispute_payee"), ["payee"], unique=False)
        batch_op.create_index(batch_op.f("ix_line_dispute_work_id"), ["work_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_line_dispute_state"), ["state"], unique=False)
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dispute_pk", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_adjustment_dispute_pk", "line_dispute", ["dispute_pk"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.drop_constraint("fk_adjustment_dispute_pk", type_="foreignkey")
        batch_op.drop_column("dispute_pk")
    with op.batch_alter_table("line_dispute", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_line_dispute_state"))
        batch_op.drop_index(batch_op.f("ix_line_dispute_work_id"))
        batch_op.drop_index(batch_op.f("ix_line_dispute_payee"))
        batch_op.drop_index(batch_op.f("ix_line_dispute_period_pk"))
    op.drop_table("line_dispute")
    sa.Enum(name="disputestate").drop(op.get_bind(), checkfirst=True)
