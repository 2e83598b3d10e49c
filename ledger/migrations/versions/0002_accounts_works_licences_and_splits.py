"""accounts, works, licences and splits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 07:06:47.397559
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column(
            "role", sa.Enum("rights_holder", "platform", "crawler", "auditor", "admin", name="role"), nullable=False
        ),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("custodial", sa.Boolean(), nullable=False),
        sa.Column("key_prefix", sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
        sa.Column("key_hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("key_revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_address"), ["address"], unique=True)
        batch_op.create_index(batch_op.f("ix_account_key_prefix"), ["key_prefix"], unique=True)
        batch_op.create_index(batch_op.f("ix_account_name"), ["name"], unique=True)
        batch_op.create_index(batch_op.f("ix_account_role"), ["role"], unique=False)

    op.create_table(
        "work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_id", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("kind", sa.Enum("film", "series", "episode", name="workkind"), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("parties", sa.JSON(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=True),
        sa.Column("fingerprint_kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("fingerprint_hashes", sa.JSON(), nullable=True),
        sa.Column("fingerprint_digest", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("metadata_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("near_duplicate_of", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("near_duplicate_distance", sa.Integer(), nullable=True),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("op_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["op_id"],
            ["chain_op.id"],
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["work.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("owner_id", "idempotency_key", name="uq_work_owner_idempotency"),
    )
    with op.batch_alter_table("work", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_kind"), ["kind"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_owner_id"), ["owner_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_title"), ["title"], unique=False)
        batch_op.create_index(batch_op.f("ix_work_work_id"), ["work_id"], unique=True)

    op.create_table(
        "licence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("parent_pk", sa.Integer(), nullable=True),
        sa.Column("chain_licence_id", sa.BigInteger(), nullable=True),
        sa.Column("grantor_id", sa.Integer(), nullable=False),
        sa.Column("licensee_id", sa.Integer(), nullable=False),
        sa.Column("territories", sa.JSON(), nullable=False),
        sa.Column("rights", sa.JSON(), nullable=False),
        sa.Column("start", sa.BigInteger(), nullable=False),
        sa.Column("end", sa.BigInteger(), nullable=False),
        sa.Column("exclusive", sa.Boolean(), nullable=False),
        sa.Column("sublicensable", sa.Boolean(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("op_id", sa.Integer(), nullable=False),
        sa.Column("revoke_op_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grantor_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["licensee_id"],
            ["account.id"],
        ),
        sa.ForeignKeyConstraint(
            ["op_id"],
            ["chain_op.id"],
        ),
        sa.ForeignKeyConstraint(
            ["parent_pk"],
            ["licence.id"],
        ),
        sa.ForeignKeyConstraint(
            ["revoke_op_id"],
            ["chain_op.id"],
        ),
        sa.ForeignKeyConstraint(
            ["work_pk"],
            ["work.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("grantor_id", "idempotency_key", name="uq_licence_grantor_idempotency"),
    )
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_licence_chain_licence_id"), ["chain_licence_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_licence_grantor_id"), ["grantor_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_licence_licensee_id"), ["licensee_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_licence_work_pk"), ["work_pk"], unique=False)

    op.create_table(
        "split",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_pk", sa.Integer(), nullable=False),
        sa.Column("setter_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("payees", sa.JSON(), nullable=False),
        sa.Column("effective_from", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True),
        sa.Column("op_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["op_id"],
            ["chain_op.id"],
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
        sa.UniqueConstraint("setter_id", "idempotency_key", name="uq_split_setter_idempotency"),
    )
    with op.batch_alter_table("split", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_split_work_pk"), ["work_pk"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("split", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_split_work_pk"))

    op.drop_table("split")
    with op.batch_alter_table("licence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_licence_work_pk"))
        batch_op.drop_index(batch_op.f("ix_licence_licensee_id"))
        batch_op.drop_index(batch_op.f("ix_licence_grantor_id"))
        batch_op.drop_index(batch_op.f("ix_licence_chain_licence_id"))

    op.drop_table("licence")
    with op.batch_alter_table("work", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_work_id"))
        batch_op.drop_index(batch_op.f("ix_work_title"))
        batch_op.drop_index(batch_op.f("ix_work_owner_id"))
        batch_op.drop_index(batch_op.f("ix_work_kind"))

    op.drop_table("work")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_account_role"))
        batch_op.drop_index(batch_op.f("ix_account_name"))
        batch_op.drop_index(batch_op.f("ix_account_key_prefix"))
        batch_op.drop_index(batch_op.f("ix_account_address"))

    op.drop_table("account")
