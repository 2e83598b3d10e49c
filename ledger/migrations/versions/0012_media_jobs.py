"""media jobs: hashing masters and marking copies, run inline or on the Redis queue

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 16:30:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("queued", "running", "finishing", "done", "failed", name="jobstatus"),
            nullable=False,
        ),
        sa.Column("progress_done", sa.Float(), nullable=False),
        sa.Column("progress_total", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_holder", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("lease_until", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("output", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("distribution_id", sa.Integer(), nullable=True),
        sa.Column("error_code", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
        sa.Column("error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["distribution_id"], ["distribution.id"]),
        sa.ForeignKeyConstraint(["owner_id"], ["account.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "idempotency_key", name="uq_media_job_owner_idempotency"),
    )
    with op.batch_alter_table("media_job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_media_job_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_job_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_media_job_distribution_id"), ["distribution_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("media_job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_media_job_distribution_id"))
        batch_op.drop_index(batch_op.f("ix_media_job_status"))
        batch_op.drop_index(batch_op.f("ix_media_job_owner_id"))

    op.drop_table("media_job")
    sa.Enum(name="jobstatus").drop(op.get_bind(), checkfirst=True)
