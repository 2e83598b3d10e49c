"""watermarked distributions

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25 11:45:05.607938
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "distribution",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("session", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("payload", sa.BigInteger(), nullable=False),
        sa.Column("key_id", sqlmodel.sql.sqltypes.AutoString(length=18), nullable=False),
        sa.Column(
            "status", sa.Enum("embedding", "anchoring", "ready", "failed", name="distributionstatus"), nullable=False
        ),
        sa.Column("frames_done", sa.Integer(), nullable=False),
        sa.Column("frames_total", sa.Integer(), nullable=True),
        sa.Column("source_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("media_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=True),
        sa.Column("copy_name", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=True),
        sa.Column("copy_sha256", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("copy_size", sa.BigInteger(), nullable=True),
        sa.Column("record", sa.JSON(), nullable=True),
        sa.Column("record_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("op_id", sa.Integer(), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["op_id"],
            ["chain_op.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_pk"],
            ["work.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "idempotency_key", name="uq_distribution_owner_idempotency"),
    )
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_distribution_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distribution_payload"), ["payload"], unique=True)
        batch_op.create_index(batch_op.f("ix_distribution_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_distribution_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_distribution_work_pk"), ["work_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("distribution", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_distribution_work_pk"))
        batch_op.drop_index(batch_op.f("ix_distribution_status"))
        batch_op.drop_index(batch_op.f("ix_distribution_platform_id"))
        batch_op.drop_index(batch_op.f("ix_distribution_payload"))
        batch_op.drop_index(batch_op.f("ix_distribution_owner_id"))

    op.drop_table("distribution")
