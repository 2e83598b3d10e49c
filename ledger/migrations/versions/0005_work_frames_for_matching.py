"""work frames for matching

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 15:23:32.402911
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_frames",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("variants", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("frames", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("times_ms", sa.LargeBinary(), nullable=False),
        sa.Column("hashes", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["work_pk"], ["work.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("work_frames", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_frames_work_pk"), ["work_pk"], unique=True)


def downgrade() -> None:
    with op.batch_alter_table("work_frames", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_frames_work_pk"))

    op.drop_table("work_frames")
