"""piracy cases, checks and takedown notices

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 17:56:59.964554
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "piracy_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("crawler_id", sa.Integer(), nullable=False),
        sa.Column("url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=False),
        sa.Column("url_key", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("page_url", sqlmodel.sql.sqltypes.AutoString(length=2048), nullable=True),
        sa.Column("content_sha256", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("content_size", sa.BigInteger(), nullable=False),
        sa.Column("media_kind", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("distribution_id", sa.Integer(), nullable=True),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.Column("evidence", sa.JSON(), nullable=False),
        sa.Column("evidence_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("op_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("open", "closed", name="casestatus"), nullable=False),
        sa.Column("first_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("sightings", sa.Integer(), nullable=False),
        sa.Column("gone_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("lifetime_seconds", sa.BigInteger(), nullable=True),
        sa.Column("last_checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("checks", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["crawler_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["distribution_id"],
            ["distribution.id"],
        ),
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
        sa.UniqueConstraint("work_pk", "url_key", name="uq_piracy_case_work_url"),
    )
    with op.batch_alter_table("piracy_case", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_piracy_case_content_sha256"), ["content_sha256"], unique=False)
        batch_op.create_index(batch_op.f("ix_piracy_case_crawler_id"), ["crawler_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_piracy_case_distribution_id"), ["distribution_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_piracy_case_evidence_hash"), ["evidence_hash"], unique=True)
        batch_op.create_index(batch_op.f("ix_piracy_case_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_piracy_case_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_piracy_case_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_piracy_case_url_key"), ["url_key"], unique=False)
        batch_op.create_index(batch_op.f("ix_piracy_case_work_pk"), ["work_pk"], unique=False)

    op.create_table(
        "case_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("checked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("alive", sa.Boolean(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("detail", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("crawler_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["piracy_case.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["crawler_id"],
            ["account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_check", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_check_case_id"), ["case_id"], unique=False)

    op.create_table(
        "takedown_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("format", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("language", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("subject", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column("body", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column(
            "delivery", sa.Enum("draft", "sending", "delivered", "failed", name="noticedelivery"), nullable=False
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["piracy_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "format", name="uq_takedown_notice_case_format"),
    )
    with op.batch_alter_table("takedown_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_takedown_notice_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_takedown_notice_delivery"), ["delivery"], unique=False)
        batch_op.create_index(batch_op.f("ix_takedown_notice_next_attempt_at"), ["next_attempt_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("takedown_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_takedown_notice_next_attempt_at"))
        batch_op.drop_index(batch_op.f("ix_takedown_notice_delivery"))
        batch_op.drop_index(batch_op.f("ix_takedown_notice_case_id"))

    op.drop_table("takedown_notice")
    with op.batch_alter_table("case_check", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_check_case_id"))

    op.drop_table("case_check")
    with op.batch_alter_table("piracy_case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_piracy_case_work_pk"))
        batch_op.drop_index(batch_op.f("ix_piracy_case_url_key"))
        batch_op.drop_index(batch_op.f("ix_piracy_case_status"))
        batch_op.drop_index(batch_op.f("ix_piracy_case_platform_id"))
        batch_op.drop_index(batch_op.f("ix_piracy_case_owner_id"))
        batch_op.drop_index(batch_op.f("ix_piracy_case_evidence_hash"))
        batch_op.drop_index(batch_op.f("ix_piracy_case_distribution_id"))
        batch_op.drop_index(batch_op.f("ix_piracy_case_crawler_id"))
        batch_op.drop_index(batch_op.f("ix_piracy_case_content_sha256"))

    op.drop_table("piracy_case")
