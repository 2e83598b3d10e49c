"""Tables of the off-chain system of record that the chain layer needs.

The outbox (`ChainOp`) is the heart of "never lose, never duplicate": an operation is
written here with its idempotency key before anything is sent, and its signed bytes and
nonce are written here before they are broadcast.
"""

from __future__ import annotations

import enum
from datetime import datetime, timezone

from sqlalchemy import JSON, BigInteger, Column, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class OpStatus(str, enum.Enum):
    """Lifecycle: queued -> pending -> confirmed | reverted; queued -> rejected when a dry run reverts."""

    queued = "queued"  # recorded, not yet signed (the node may be down)
    pending = "pending"  # signed with a nonce; broadcast at least once or about to be
    confirmed = "confirmed"  # mined with status 1 (and enough confirmations)
    reverted = "reverted"  # mined with status 0
    rejected = "rejected"  # the dry run reverted, so nothing was sent; resubmitting retries it


class ChainOp(SQLModel, table=True):
    __tablename__ = "chain_op"
    __table_args__ = (UniqueConstraint("chain_id", "sender", "nonce", name="uq_chain_op_sender_nonce"),)

    id: int | None = Field(default=None, primary_key=True)
    idempotency_key: str = Field(max_length=200, unique=True, index=True)
    chain_id: int = Field(sa_type=BigInteger)
    sender: str = Field(max_length=42, index=True)
    to: str | None = Field(default=None, max_length=42)
    data: str = Field(description="Hex calldata, or init code for a deployment.")
    value: int = Field(default=0, sa_column=Column(Numeric(78, 0), nullable=False, default=0))
    label: str = Field(max_length=120, description="Contract.function, for people reading the outbox.")
    status: OpStatus = Field(default=OpStatus.queued, index=True)
    nonce: int | None = Field(default=None, sa_type=BigInteger)
    gas: int | None = Field(default=None, sa_type=BigInteger)
    tx_hash: str | None = Field(default=None, max_length=66, index=True)
    raw_tx: str | None = None
    block_number: int | None = Field(default=None, sa_type=BigInteger, index=True)
    contract_address: str | None = Field(default=None, max_length=42)
    error_name: str | None = Field(default=None, max_length=120)
    error_args: dict | None = Field(default=None, sa_column=Column(JSON))
    last_error: str | None = None
    broadcasts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Deployment(SQLModel, table=True):
    """Where each contract lives on each chain, so deployment happens once per chain."""

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("chain_id", "name", name="uq_deployment_chain_name"),)

    id: int | None = Field(default=None, primary_key=True)
    chain_id: int = Field(sa_type=BigInteger)
    name: str = Field(max_length=80)
    address: str = Field(max_length=42)
    code_hash: str = Field(max_length=66, description="keccak of the deployed runtime code.")
    op_id: int = Field(foreign_key="chain_op.id")
    created_at: datetime = Field(default_factory=utcnow)


class StoredKey(SQLModel, table=True):
    """A private key held by ReelLedger, AES-GCM encrypted under the master key kept outside the database."""

    __tablename__ = "stored_key"

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(max_length=42, unique=True, index=True)
    label: str = Field(max_length=80, unique=True, index=True)
    nonce: bytes
    ciphertext: bytes
    created_at: datetime = Field(default_factory=utcnow)
