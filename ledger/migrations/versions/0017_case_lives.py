"""case lives: a re-found link keeps the lives before (found, gone, found again)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 02:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_life",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("found_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("gone_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("lifetime_seconds", sa.BigInteger(), nullable=False),
        sa.Column("found_again_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("crawler_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["piracy_case.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["crawler_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_life", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_life_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_life", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_life_case_id"))
    op.drop_table("case_life")
