"""play reports, rules, periods and statements

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 09:25:39.239032
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "settlement_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("first_day", sa.Integer(), nullable=False),
        sa.Column("end_day", sa.Integer(), nullable=False),
        sa.Column("status", sa.Enum("committing", "committed", "finalised", name="periodstatus"), nullable=False),
        sa.Column("pools", sa.JSON(), nullable=False),
        sa.Column("token", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("root", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("total", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("line_count", sa.Integer(), nullable=False),
        sa.Column("inputs", sa.JSON(), nullable=False),
        sa.Column("inputs_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("dispute_ends", sa.BigInteger(), nullable=True),
        sa.Column("op_id", sa.Integer(), nullable=False),
        sa.Column("finalise_op_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finalise_op_id"],
            ["chain_op.id"],
        ),
        sa.ForeignKeyConstraint(
            ["op_id"],
            ["chain_op.id"],
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["account.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform_id", "currency", "first_day", "end_day", name="uq_period_platform_currency_days"),
    )
    with op.batch_alter_table("settlement_period", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlement_period_period_id"), ["period_id"], unique=True)
        batch_op.create_index(batch_op.f("ix_settlement_period_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_settlement_period_status"), ["status"], unique=False)

    op.create_table(
        "play_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("report_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("status", sa.Enum("receiving", "accepted", "superseded", name="reportstatus"), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("first_day", sa.Integer(), nullable=False),
        sa.Column("end_day", sa.Integer(), nullable=False),
        sa.Column("supersedes_pk", sa.Integer(), nullable=True),
        sa.Column("row_count", sa.BigInteger(), nullable=False),
        sa.Column("held_rows", sa.BigInteger(), nullable=False),
        sa.Column("plays", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("valid_plays", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("watch_minutes", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("ad_revenue", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("rows_root", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("signature", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=True),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("period_pk", sa.Integer(), nullable=True),
        sa.Column("correction_inputs", sa.JSON(), nullable=True),
        sa.Column("op_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["op_id"],
            ["chain_op.id"],
        ),
        sa.ForeignKeyConstraint(
            ["period_pk"],
            ["settlement_period.id"],
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_pk"],
            ["play_report.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("platform_id", "report_id", name="uq_report_platform_report_id"),
    )
    with op.batch_alter_table("play_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_play_report_first_day"), ["first_day"], unique=False)
        batch_op.create_index(batch_op.f("ix_play_report_period_pk"), ["period_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_play_report_platform_id"), ["platform_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_play_report_status"), ["status"], unique=False)

    op.create_table(
        "settlement_rule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("effective_from", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("content_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("setter_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["setter_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_pk"],
            ["work.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_pk", "platform_id", "version", name="uq_rule_work_platform_version"),
    )
    with op.batch_alter_table("settlement_rule", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_settlement_rule_work_pk"), ["work_pk"], unique=False)

    op.create_table(
        "statement_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_pk", sa.Integer(), nullable=False),
        sa.Column("line_index", sa.Integer(), nullable=False),
        sa.Column("payee", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("work_id", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("amount", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("rule_version", sa.Integer(), nullable=False),
        sa.Column("split_version", sa.Integer(), nullable=False),
        sa.Column("adjustment", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_pk"],
            ["settlement_period.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("period_pk", "line_index", name="uq_line_period_index"),
    )
    with op.batch_alter_table("statement_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_statement_line_payee"), ["payee"], unique=False)
        batch_op.create_index(batch_op.f("ix_statement_line_period_pk"), ["period_pk"], unique=False)

    op.create_table(
        "adjustment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("platform_id", sa.Integer(), nullable=False),
        sa.Column("currency", sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column("source_period_pk", sa.Integer(), nullable=False),
        sa.Column("correction_pk", sa.Integer(), nullable=True),
        sa.Column("payee", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("work_id", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("amount", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("applied_period_pk", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["applied_period_pk"],
            ["settlement_period.id"],
        ),
        sa.ForeignKeyConstraint(
            ["correction_pk"],
            ["play_report.id"],
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["source_period_pk"],
            ["settlement_period.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_adjustment_applied_period_pk"), ["applied_period_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_adjustment_platform_id"), ["platform_id"], unique=False)

    op.create_table(
        "play_row",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_pk", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("territory", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("day", sa.Integer(), nullable=False),
        sa.Column("plays", sa.BigInteger(), nullable=False),
        sa.Column("valid_plays", sa.BigInteger(), nullable=False),
        sa.Column("watch_minutes", sa.BigInteger(), nullable=False),
        sa.Column("ad_revenue", sa.BigInteger(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_pk"],
            ["play_report.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_pk"],
            ["work.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("play_row", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_play_row_report_pk"), ["report_pk"], unique=False)

    op.create_table(
        "work_settlement",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_pk", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("rule_pk", sa.Integer(), nullable=False),
        sa.Column("earned", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("commission", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("recouped", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("payable", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("advance_after", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_pk"],
            ["settlement_period.id"],
        ),
        sa.ForeignKeyConstraint(
            ["rule_pk"],
            ["settlement_rule.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_pk"],
            ["work.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("work_settlement", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_settlement_period_pk"), ["period_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_settlement_work_pk"), ["work_pk"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("work_settlement", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_settlement_work_pk"))
        batch_op.drop_index(batch_op.f("ix_work_settlement_period_pk"))

    op.drop_table("work_settlement")
    with op.batch_alter_table("play_row", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_play_row_report_pk"))

    op.drop_table("play_row")
    with op.batch_alter_table("adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_adjustment_platform_id"))
        batch_op.drop_index(batch_op.f("ix_adjustment_applied_period_pk"))

    op.drop_table("adjustment")
    with op.batch_alter_table("statement_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_statement_line_period_pk"))
        batch_op.drop_index(batch_op.f("ix_statement_line_payee"))

    op.drop_table("statement_line")
    with op.batch_alter_table("settlement_rule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_rule_work_pk"))

    op.drop_table("settlement_rule")
    with op.batch_alter_table("play_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_play_report_status"))
        batch_op.drop_index(batch_op.f("ix_play_report_platform_id"))
        batch_op.drop_index(batch_op.f("ix_play_report_period_pk"))
        batch_op.drop_index(batch_op.f("ix_play_report_first_day"))

    op.drop_table("play_report")
    with op.batch_alter_table("settlement_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_settlement_period_status"))
        batch_op.drop_index(batch_op.f("ix_settlement_period_platform_id"))
        batch_op.drop_index(batch_op.f("ix_settlement_period_period_id"))

    op.drop_table("settlement_period")
