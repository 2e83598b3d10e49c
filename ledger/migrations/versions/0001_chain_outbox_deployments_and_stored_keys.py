"""chain outbox, deployments and stored keys

Revision ID: 0001
Revises:
Create Date: 2026-11-25 06:26:55.188596
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chain_op",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("idempotency_key", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("sender", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("to", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True),
        sa.Column("data", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("value", sa.Numeric(precision=78, scale=0), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column(
            "status", sa.Enum("queued", "pending", "confirmed", "reverted", "rejected", name="opstatus"), nullable=False
        ),
        sa.Column("nonce", sa.BigInteger(), nullable=True),
        sa.Column("gas", sa.BigInteger(), nullable=True),
        sa.Column("tx_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=True),
        sa.Column("raw_tx", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("contract_address", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=True),
        sa.Column("error_name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=True),
        sa.Column("error_args", sa.JSON(), nullable=True),
        sa.Column("last_error", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("broadcasts", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "sender", "nonce", name="uq_chain_op_sender_nonce"),
    )
    with op.batch_alter_table("chain_op", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chain_op_block_number"), ["block_number"], unique=False)
        batch_op.create_index(batch_op.f("ix_chain_op_idempotency_key"), ["idempotency_key"], unique=True)
        batch_op.create_index(batch_op.f("ix_chain_op_sender"), ["sender"], unique=False)
        batch_op.create_index(batch_op.f("ix_chain_op_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_chain_op_tx_hash"), ["tx_hash"], unique=False)

    op.create_table(
        "stored_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("nonce", sa.LargeBinary(), nullable=False),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stored_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stored_key_address"), ["address"], unique=True)
        batch_op.create_index(batch_op.f("ix_stored_key_label"), ["label"], unique=True)

    op.create_table(
        "deployment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=42), nullable=False),
        sa.Column("code_hash", sqlmodel.sql.sqltypes.AutoString(length=66), nullable=False),
        sa.Column("op_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["op_id"],
            ["chain_op.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("chain_id", "name", name="uq_deployment_chain_name"),
    )


def downgrade() -> None:
    op.drop_table("deployment")
    with op.batch_alter_table("stored_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stored_key_label"))
        batch_op.drop_index(batch_op.f("ix_stored_key_address"))

    op.drop_table("stored_key")
    with op.batch_alter_table("chain_op", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_op_tx_hash"))
        batch_op.drop_index(batch_op.f("ix_chain_op_block_number"))
        batch_op.drop_index(batch_op.f("ix_chain_op_status"))
        batch_op.drop_index(batch_op.f("ix_chain_op_sender"))
        batch_op.drop_index(batch_op.f("ix_chain_op_idempotency_key"))

    op.drop_table("chain_op")
