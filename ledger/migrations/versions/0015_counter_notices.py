"""counter-notices: a case's counter-notice link, the counter-notices filed, the steps marked

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 19:20:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# created by 0006 for takedown_notice.delivery; the counter-notice's notification reuses it
NOTICE_DELIVERY = postgresql.ENUM("draft", "sending", "delivered", "failed", name="noticedelivery", create_type=False)


def upgrade() -> None:
    op.create_table(
        "counter_notice_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["piracy_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("counter_notice_link", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_notice_link_token_hash"), ["token_hash"], unique=True)

    op.create_table(
        "counter_notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("document_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("op_id", sa.Integer(), nullable=False),
        sa.Column("filed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("restoration_due_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("notify", NOTICE_DELIVERY, nullable=False),
        sa.Column("notify_attempts", sa.Integer(), nullable=False),
        sa.Column("notify_next_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("notified_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("notify_error", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["piracy_case.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["op_id"], ["chain_op.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
        sa.UniqueConstraint("document_hash"),
    )
    with op.batch_alter_table("counter_notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_counter_notice_notify"), ["notify"], unique=False)

    op.create_table(
        "case_step",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("acknowledged", "action_filed", "restored", "re_found", name="casestepkind"), nullable=False
        ),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=False),
        sa.Column("note", sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["actor_id"], ["account.id"]),
        sa.ForeignKeyConstraint(["case_id"], ["piracy_case.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "kind", name="uq_case_step_case_kind"),
    )
    with op.batch_alter_table("case_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_step_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_step_case_id"))
    op.drop_table("case_step")
    sa.Enum(name="casestepkind").drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table("counter_notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_notice_notify"))
    op.drop_table("counter_notice")
    with op.batch_alter_table("counter_notice_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_counter_notice_link_token_hash"))
    op.drop_table("counter_notice_link")
