"""released held rows: held usage a later licence covers, settled once in a later period

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 19:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("source_period_pk", sa.Integer(), nullable=False),
        sa.Column("applied_period_pk", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["platform_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["source_period_pk"], ["settlement_period.id"]),
        sa.ForeignKeyConstraint(["applied_period_pk"], ["settlement_period.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("held_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_release_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_held_release_source_period_pk"), ["source_period_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_held_release_applied_period_pk"), ["applied_period_pk"], unique=False)
    op.create_table(
        "released_row",
        sa.Column("row_pk", sa.Integer(), nullable=False),
        sa.Column("release_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["row_pk"], ["play_row.id"]),
        sa.ForeignKeyConstraint(["release_pk"], ["held_release.id"]),
        sa.PrimaryKeyConstraint("row_pk"),
    )
    with op.batch_alter_table("released_row", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_released_row_release_pk"), ["release_pk"], unique=False)
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("release_pk", sa.Integer(), nullable=True))
        batch_op.create_foreign_key("fk_adjustment_release_pk_held_release", "held_release", ["release_pk"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.drop_constraint("fk_adjustment_release_pk_held_release", type_="foreignkey")
        batch_op.drop_column("release_pk")
    with op.batch_alter_table("released_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_released_row_release_pk"))
    op.drop_table("released_row")
    with op.batch_alter_table("held_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_release_applied_period_pk"))
        batch_op.drop_index(batch_op.f("ix_held_release_source_period_pk"))
        batch_op.drop_index(batch_op.f("ix_held_release_platform_id"))
    op.drop_table("held_release")
