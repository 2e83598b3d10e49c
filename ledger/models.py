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


class Role(str, enum.Enum):
    rights_holder = "rights_holder"  # registers and manages own works, licences and splits
    platform = "platform"  # reports plays for works it is licensed for
    crawler = "crawler"  # submits candidate media and evidence
    auditor = "auditor"  # reads everything, writes nothing
    admin = "admin"  # manages accounts


class Account(SQLModel, table=True):
    """Someone who uses ReelLedger: a role, an API key (kept only as a hash) and an EVM address."""

    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120, unique=True, index=True)
    role: Role = Field(index=True)
    address: str = Field(max_length=42, unique=True, index=True)
    custodial: bool = Field(description="True when ReelLedger holds the private key (encrypted).")
    key_prefix: str = Field(max_length=24, unique=True, index=True, description="Public part of the API key.")
    key_hash: str = Field(max_length=64, description="SHA-256 of the whole API key.")
    key_revoked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class WorkKind(str, enum.Enum):
    film = "film"
    series = "series"
    episode = "episode"


class Work(SQLModel, table=True):
    """A registered work as ReelLedger knows it; ownership itself is the chain's to say."""

    __tablename__ = "work"
    __table_args__ = (UniqueConstraint("owner_id", "idempotency_key", name="uq_work_owner_idempotency"),)

    id: int | None = Field(default=None, primary_key=True)
    work_id: str = Field(max_length=66, unique=True, index=True, description="0x + SHA-256 of the master file.")
    owner_id: int = Field(foreign_key="account.id", index=True)
    title: str = Field(max_length=300, index=True)
    kind: WorkKind = Field(index=True)
    parent_id: int | None = Field(default=None, foreign_key="work.id", description="The series of an episode.")
    parties: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    size_bytes: int | None = Field(default=None, sa_type=BigInteger)
    fingerprint_kind: str | None = Field(default=None, max_length=40)
    fingerprint_hashes: list | None = Field(default=None, sa_column=Column(JSON))
    fingerprint_digest: str = Field(max_length=66, description="The bytes32 registered on chain.")
    metadata_hash: str = Field(max_length=66)
    near_duplicate_of: str | None = Field(default=None, max_length=66)
    near_duplicate_distance: int | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)
    op_id: int = Field(foreign_key="chain_op.id")
    created_at: datetime = Field(default_factory=utcnow)


class LicenceRecord(SQLModel, table=True):
    """A licence or sub-licence granted through ReelLedger; the chain's licence id once confirmed."""

    __tablename__ = "licence"
    __table_args__ = (UniqueConstraint("grantor_id", "idempotency_key", name="uq_licence_grantor_idempotency"),)

    id: int | None = Field(default=None, primary_key=True)
    work_pk: int = Field(foreign_key="work.id", index=True)
    parent_pk: int | None = Field(default=None, foreign_key="licence.id")
    chain_licence_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    grantor_id: int = Field(foreign_key="account.id", index=True)
    licensee_id: int = Field(foreign_key="account.id", index=True)
    territories: list = Field(sa_column=Column(JSON, nullable=False))
    rights: list = Field(sa_column=Column(JSON, nullable=False))
    start: int = Field(sa_type=BigInteger)
    end: int = Field(sa_type=BigInteger)
    exclusive: bool = False
    sublicensable: bool = False
    idempotency_key: str | None = Field(default=None, max_length=200)
    op_id: int = Field(foreign_key="chain_op.id")
    revoke_op_id: int | None = Field(default=None, foreign_key="chain_op.id")
    created_at: datetime = Field(default_factory=utcnow)


class SplitRecord(SQLModel, table=True):
    """A split version set through ReelLedger; its version number once confirmed."""

    __tablename__ = "split"
    __table_args__ = (UniqueConstraint("setter_id", "idempotency_key", name="uq_split_setter_idempotency"),)

    id: int | None = Field(default=None, primary_key=True)
    work_pk: int = Field(foreign_key="work.id", index=True)
    setter_id: int = Field(foreign_key="account.id")
    version: int | None = None
    payees: list = Field(sa_column=Column(JSON, nullable=False), description="[{address, bps}]")
    effective_from: int = Field(sa_type=BigInteger)
    idempotency_key: str | None = Field(default=None, max_length=200)
    op_id: int = Field(foreign_key="chain_op.id")
    created_at: datetime = Field(default_factory=utcnow)
