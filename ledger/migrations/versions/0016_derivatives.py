"""derivatives: a licence's upstream terms, the derivative graph's edges, a line's derivative

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 22:50:00.000000
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

DERIVATIVE_KIND = sa.Enum("re_edit", "dub", "subtitle", "remake", "trailer", "compilation", name="derivativekind")


def upgrade() -> None:
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.add_column(sa.Column("derivative_kinds", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("upstream_bps", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("upstream_min_micro", sa.BigInteger(), nullable=True))

    op.create_table(
        "work_parent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("parent_pk", sa.Integer(), nullable=False),
        sa.Column("licence_pk", sa.Integer(), nullable=False),
        sa.Column("kind", DERIVATIVE_KIND, nullable=False),
        sa.Column("share_bps", sa.Integer(), nullable=False),
        sa.Column("min_per_valid_play_micro", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("op_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["licence_pk"], ["licence.id"]),
        sa.ForeignKeyConstraint(["op_id"], ["chain_op.id"]),
        sa.ForeignKeyConstraint(["parent_pk"], ["work.id"]),
        sa.ForeignKeyConstraint(["work_pk"], ["work.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("work_pk", "parent_pk", name="uq_work_parent_edge"),
    )
    with op.batch_alter_table("work_parent", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_parent_parent_pk"), ["parent_pk"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_parent_work_pk"), ["work_pk"], unique=False)

    with op.batch_alter_table("statement_line", schema=None) as batch_op:
        batch_op.add_column(sa.Column("via_work_id", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("statement_line", schema=None) as batch_op:
        batch_op.drop_column("via_work_id")
    with op.batch_alter_table("work_parent", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_parent_work_pk"))
        batch_op.drop_index(batch_op.f("ix_work_parent_parent_pk"))
    op.drop_table("work_parent")
    DERIVATIVE_KIND.drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.drop_column("upstream_min_micro")
        batch_op.drop_column("upstream_bps")
        batch_op.drop_column("derivative_kinds")
