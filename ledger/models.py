"""The tables of the off-chain system of record, in the order the data flows: the chain
layer's own (outbox, deployments, held keys), accounts, works and their licences, splits and
rules, play reports and settlement periods with their statement lines, watermarked
distributions, piracy cases with their checks and notices, console sessions, and kept
Idempotency-Keys. Alembic's migrations (`ledger/migrations/versions`) create exactly these
(tests/ledger/test_db.py compares them).

The outbox (`ChainOp`) is the heart of "never lose, never duplicate": an operation is
written here with its idempotency key before anything is sent, and its signed bytes, nonce
and every hash sent for that nonce are written here before they are broadcast.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Integer, LargeBinary, Numeric, UniqueConstraint
from sqlmodel import Field, SQLModel

from ledger.choices import DerivativeKind as DerivativeKind
from ledger.choices import Role as Role  # the tables' enums, importable from here too
from ledger.choices import WorkKind as WorkKind


def utcnow() -> datetime:
    return datetime.now(UTC)


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

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
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
    tx_hash: str | None = Field(
        default=None,
        max_length=66,
        index=True,
        description="The newest signed version's hash while pending; the mined one's once final.",
    )
    raw_tx: str | None = Field(default=None, description="The newest signed version, what a resend broadcasts.")
    sent_txs: list[Any] | None = Field(
        default=None,
        sa_column=Column(JSON),
        description="Every version signed for this nonce, oldest first: [{hash, at}] (at: Unix seconds). A "
        "receipt for any of them confirms the op; a fee bump appends one.",
    )
    block_number: int | None = Field(default=None, sa_type=BigInteger, index=True)
    contract_address: str | None = Field(default=None, max_length=42)
    error_name: str | None = Field(default=None, max_length=120)
    error_args: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    last_error: str | None = None
    broadcasts: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Deployment(SQLModel, table=True):
    """Where each contract lives on each chain, so deployment happens once per chain."""

    __tablename__ = "deployment"
    __table_args__ = (UniqueConstraint("chain_id", "name", name="uq_deployment_chain_name"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    chain_id: int = Field(sa_type=BigInteger)
    name: str = Field(max_length=80)
    address: str = Field(max_length=42)
    code_hash: str = Field(max_length=66, description="keccak of the deployed runtime code.")
    op_id: int = Field(foreign_key="chain_op.id")
    created_at: datetime = Field(default_factory=utcnow)


class StoredKey(SQLModel, table=True):
    """A private key held by ReelLedger, AES-GCM encrypted under the master key kept outside the database."""

    __tablename__ = "stored_key"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    address: str = Field(max_length=42, unique=True, index=True)
    label: str = Field(max_length=80, unique=True, index=True)
    nonce: bytes
    ciphertext: bytes
    created_at: datetime = Field(default_factory=utcnow)


class Account(SQLModel, table=True):
    """Someone who uses ReelLedger: a role, an API key (kept only as a hash) and an EVM address."""

    __tablename__ = "account"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    name: str = Field(max_length=120, unique=True, index=True)
    role: Role = Field(index=True)
    address: str = Field(max_length=42, unique=True, index=True)
    custodial: bool = Field(description="True when ReelLedger holds the private key (encrypted).")
    key_prefix: str = Field(max_length=24, unique=True, index=True, description="Public part of the API key.")
    key_hash: str = Field(max_length=64, description="SHA-256 of the whole API key.")
    key_revoked_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class Work(SQLModel, table=True):
    """A registered work as ReelLedger knows it; ownership itself is the chain's to say."""

    __tablename__ = "work"
    __table_args__ = (UniqueConstraint("owner_id", "idempotency_key", name="uq_work_owner_idempotency"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    work_id: str = Field(max_length=66, unique=True, index=True, description="0x + SHA-256 of the master file.")
    owner_id: int = Field(foreign_key="account.id", index=True)
    title: str = Field(max_length=300, index=True)
    kind: WorkKind = Field(index=True)
    parent_id: int | None = Field(default=None, foreign_key="work.id", description="The series of an episode.")
    parties: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    size_bytes: int | None = Field(default=None, sa_type=BigInteger)
    fingerprint_kind: str | None = Field(default=None, max_length=40)
    fingerprint_hashes: list[Any] | None = Field(default=None, sa_column=Column(JSON))
    fingerprint_digest: str = Field(max_length=66, description="The bytes32 registered on chain.")
    metadata_hash: str = Field(max_length=66)
    near_duplicate_of: str | None = Field(default=None, max_length=66)
    near_duplicate_distance: int | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_digest: str | None = Field(
        default=None, max_length=66, description="SHA-256 of the canonical request made under the idempotency key."
    )
    op_id: int = Field(foreign_key="chain_op.id")
    created_at: datetime = Field(default_factory=utcnow)


class WorkFrames(SQLModel, table=True):
    """A registered work's frame hashes with their times: what the matcher's index is built from.

    Packed, one row per work (an hour of video is some 7,200 frames): `times_ms` holds
    little-endian int64 milliseconds, `hashes` 8 bytes per variant per frame, variants in
    the order `variants` names them. A row goes only with its work (a registration the
    chain refused); ids are never reused, so the match index, keyed by them, stays right."""

    __tablename__ = "work_frames"
    __table_args__ = {"sqlite_autoincrement": True}  # an id is never reused: the match index is keyed by it

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    work_pk: int = Field(
        sa_column=Column(Integer, ForeignKey("work.id", ondelete="CASCADE"), nullable=False, unique=True, index=True)
    )
    kind: str = Field(max_length=10)  # image or video
    variants: str = Field(max_length=200)  # comma-separated
    frames: int
    duration_ms: int = Field(sa_type=BigInteger)
    times_ms: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    hashes: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class LicenceRecord(SQLModel, table=True):
    """A licence or sub-licence granted through ReelLedger; the chain's licence id once confirmed."""

    __tablename__ = "licence"
    __table_args__ = (UniqueConstraint("grantor_id", "idempotency_key", name="uq_licence_grantor_idempotency"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    work_pk: int = Field(foreign_key="work.id", index=True)
    parent_pk: int | None = Field(default=None, foreign_key="licence.id")
    chain_licence_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    grantor_id: int = Field(foreign_key="account.id", index=True)
    licensee_id: int = Field(foreign_key="account.id", index=True)
    territories: list[Any] = Field(sa_column=Column(JSON, nullable=False))
    rights: list[Any] = Field(sa_column=Column(JSON, nullable=False))
    start: int = Field(sa_type=BigInteger)
    end: int = Field(sa_type=BigInteger)
    exclusive: bool = False
    sublicensable: bool = False
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_digest: str | None = Field(
        default=None, max_length=66, description="SHA-256 of the canonical request made under the idempotency key."
    )
    op_id: int = Field(foreign_key="chain_op.id")
    revoke_op_id: int | None = Field(default=None, foreign_key="chain_op.id")
    derivative_kinds: list[Any] | None = Field(
        default=None,
        sa_column=Column(JSON),
        description="DerivativeKind names the licensee may make of the work; None: no derivative rights.",
    )
    upstream_bps: int | None = Field(default=None, description="The parent's share of a derivative's payable amount.")
    upstream_min_micro: int | None = Field(
        default=None, sa_type=BigInteger, description="Optional floor per valid play, micro-units of the minor unit."
    )
    created_at: datetime = Field(default_factory=utcnow)


class WorkParent(SQLModel, table=True):
    """One edge of the derivative graph: `work_pk` derives from `parent_pk` under `licence_pk`,
    whose upstream terms are copied here (a licence's terms never change once granted)."""

    __tablename__ = "work_parent"
    __table_args__ = (UniqueConstraint("work_pk", "parent_pk", name="uq_work_parent_edge"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    work_pk: int = Field(foreign_key="work.id", index=True, description="The derivative.")
    parent_pk: int = Field(foreign_key="work.id", index=True)
    licence_pk: int = Field(foreign_key="licence.id")
    kind: DerivativeKind
    share_bps: int
    min_per_valid_play_micro: int = Field(default=0, sa_type=BigInteger)
    position: int = Field(description="The parent's place in the registration's list of parents.")
    op_id: int = Field(foreign_key="chain_op.id", description="The on-chain registration of the derivative.")
    created_at: datetime = Field(default_factory=utcnow)


class SplitRecord(SQLModel, table=True):
    """A split version set through ReelLedger; its version number and start as the chain recorded
    them, once confirmed."""

    __tablename__ = "split"
    __table_args__ = (UniqueConstraint("setter_id", "idempotency_key", name="uq_split_setter_idempotency"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    work_pk: int = Field(foreign_key="work.id", index=True)
    setter_id: int = Field(foreign_key="account.id")
    version: int | None = None
    payees: list[Any] = Field(sa_column=Column(JSON, nullable=False), description="[{address, bps}]")
    effective_from: int = Field(
        sa_type=BigInteger,
        description="Unix seconds: as asked until confirmed, then as the chain recorded it (0: from the start).",
    )
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_digest: str | None = Field(
        default=None, max_length=66, description="SHA-256 of the canonical request made under the idempotency key."
    )
    op_id: int = Field(foreign_key="chain_op.id")
    created_at: datetime = Field(default_factory=utcnow)


class SettlementRuleRecord(SQLModel, table=True):
    """One immutable version of how a work earns from platforms (or from one platform: a
    licence's own deal). The body is what `ledger.settlement.rules` reads."""

    __tablename__ = "settlement_rule"
    __table_args__ = (
        UniqueConstraint("work_pk", "platform_id", "version", name="uq_rule_work_platform_version"),
        UniqueConstraint("setter_id", "idempotency_key", name="uq_rule_setter_idempotency_key"),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    work_pk: int = Field(foreign_key="work.id", index=True)
    platform_id: int | None = Field(default=None, foreign_key="account.id", description="None: any platform.")
    version: int
    effective_from: int = Field(description="First day (days since 1970-01-01) the version is in force.")
    currency: str = Field(max_length=3)
    body: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    content_hash: str = Field(max_length=66)
    setter_id: int = Field(foreign_key="account.id")
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_digest: str | None = Field(default=None, max_length=66)
    created_at: datetime = Field(default_factory=utcnow)


class ReportStatus(str, enum.Enum):
    receiving = "receiving"  # rows are arriving; counted nowhere
    accepted = "accepted"  # complete, signature checked, anchoring queued
    superseded = "superseded"  # a later report replaced it before its period was committed


class PlayReport(SQLModel, table=True):
    """A platform's signed play report; its rows are in `play_row`."""

    __tablename__ = "play_report"
    __table_args__ = (UniqueConstraint("platform_id", "report_id", name="uq_report_platform_report_id"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    platform_id: int = Field(foreign_key="account.id", index=True)
    report_id: str = Field(max_length=200, description="The platform's own id for the report.")
    report_hash: str = Field(max_length=66, description="keccak of report_id: the reportId signed and anchored.")
    status: ReportStatus = Field(default=ReportStatus.receiving, index=True)
    currency: str = Field(max_length=3)
    first_day: int = Field(index=True)
    end_day: int = Field(description="Exclusive.")
    supersedes_pk: int | None = Field(default=None, foreign_key="play_report.id")
    row_count: int = Field(default=0, sa_type=BigInteger)
    held_rows: int = Field(default=0, sa_type=BigInteger)
    plays: int = Field(default=0, sa_column=Column(Numeric(78, 0), nullable=False, default=0))
    valid_plays: int = Field(default=0, sa_column=Column(Numeric(78, 0), nullable=False, default=0))
    watch_minutes: int = Field(default=0, sa_column=Column(Numeric(78, 0), nullable=False, default=0))
    ad_revenue: int = Field(default=0, sa_column=Column(Numeric(78, 0), nullable=False, default=0))
    rows_root: str | None = Field(default=None, max_length=66)
    signature: str | None = Field(default=None, max_length=300)
    digest: str | None = Field(default=None, max_length=66, description="The EIP-712 digest the platform signed.")
    period_pk: int | None = Field(default=None, foreign_key="settlement_period.id", index=True)
    correction_inputs: dict[str, Any] | None = Field(
        default=None, sa_column=Column(JSON), description="For a correction of a committed period: what priced it."
    )
    op_id: int | None = Field(default=None, foreign_key="chain_op.id", description="anchorReport.")
    created_at: datetime = Field(default_factory=utcnow)


class PlayRowRecord(SQLModel, table=True):
    """One usage row. Lean on purpose: millions are written per report."""

    __tablename__ = "play_row"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    report_pk: int = Field(foreign_key="play_report.id", index=True)
    work_pk: int = Field(foreign_key="work.id")
    territory: str = Field(max_length=2)
    day: int
    plays: int = Field(sa_type=BigInteger)
    valid_plays: int = Field(sa_type=BigInteger)
    watch_minutes: int = Field(sa_type=BigInteger)
    ad_revenue: int = Field(sa_type=BigInteger)
    held: bool = Field(description="No valid licence covered the row: listed, not settled.")


class PeriodStatus(str, enum.Enum):
    committing = "committing"  # settled and recorded; the chain write is queued or pending
    committed = "committed"  # the root is on chain; dispute window running
    finalised = "finalised"  # claims are open


class SettlementPeriod(SQLModel, table=True):
    """A platform's settlement of one period in one currency: settled once, committed once."""

    __tablename__ = "settlement_period"
    __table_args__ = (
        UniqueConstraint("platform_id", "currency", "first_day", "end_day", name="uq_period_platform_currency_days"),
    )

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    period_id: str = Field(max_length=66, unique=True, index=True, description="The bytes32 id on chain.")
    platform_id: int = Field(foreign_key="account.id", index=True)
    currency: str = Field(max_length=3)
    first_day: int
    end_day: int
    status: PeriodStatus = Field(default=PeriodStatus.committing, index=True)
    pools: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    token: str = Field(max_length=42)
    root: str = Field(max_length=66)
    total: int = Field(sa_column=Column(Numeric(78, 0), nullable=False))
    line_count: int
    inputs: dict[str, Any] = Field(
        sa_column=Column(JSON, nullable=False), description="What the root was computed from."
    )
    inputs_hash: str = Field(max_length=66)
    dispute_ends: int | None = Field(default=None, sa_type=BigInteger, description="Unix seconds, from the chain.")
    op_id: int = Field(foreign_key="chain_op.id")
    finalise_op_id: int | None = Field(default=None, foreign_key="chain_op.id")
    created_at: datetime = Field(default_factory=utcnow)


class StatementLineRecord(SQLModel, table=True):
    __tablename__ = "statement_line"
    __table_args__ = (UniqueConstraint("period_pk", "line_index", name="uq_line_period_index"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    period_pk: int = Field(foreign_key="settlement_period.id", index=True)
    line_index: int
    payee: str = Field(max_length=42, index=True)
    work_id: str = Field(max_length=66)
    amount: int = Field(sa_column=Column(Numeric(78, 0), nullable=False))
    rule_version: int
    split_version: int
    adjustment: int = Field(default=0, sa_column=Column(Numeric(78, 0), nullable=False, default=0))
    via_work_id: str | None = Field(
        default=None, max_length=66, description="The derivative whose earnings reached these payees; None: direct."
    )


class WorkSettlementRecord(SQLModel, table=True):
    """How each work's amount in a period came about: earned, commission, recouped, payable."""

    __tablename__ = "work_settlement"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    period_pk: int = Field(foreign_key="settlement_period.id", index=True)
    work_pk: int = Field(foreign_key="work.id", index=True)
    rule_pk: int = Field(foreign_key="settlement_rule.id")
    earned: int = Field(sa_column=Column(Numeric(78, 0), nullable=False))
    commission: int = Field(sa_column=Column(Numeric(78, 0), nullable=False))
    recouped: int = Field(sa_column=Column(Numeric(78, 0), nullable=False))
    payable: int = Field(sa_column=Column(Numeric(78, 0), nullable=False))
    advance_after: int = Field(sa_column=Column(Numeric(78, 0), nullable=False))


class Adjustment(SQLModel, table=True):
    """A difference owed because a committed period was corrected, or its held rows released,
    carried into a later period."""

    __tablename__ = "adjustment"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    platform_id: int = Field(foreign_key="account.id", index=True)
    currency: str = Field(max_length=3)
    source_period_pk: int = Field(foreign_key="settlement_period.id")
    correction_pk: int | None = Field(default=None, foreign_key="play_report.id")
    release_pk: int | None = Field(
        default=None, foreign_key="held_release.id", description="The release of held rows it settles."
    )
    payee: str = Field(max_length=42)
    work_id: str = Field(max_length=66)
    amount: int = Field(sa_column=Column(Numeric(78, 0), nullable=False), description="Signed, minor units.")
    applied_period_pk: int | None = Field(default=None, foreign_key="settlement_period.id", index=True)
    dispute_pk: int | None = Field(
        default=None, foreign_key="line_dispute.id", description="The upheld dispute this adjustment pays out."
    )
    created_at: datetime = Field(default_factory=utcnow)


class HeldRelease(SQLModel, table=True):
    """Held rows of a committed period that a licence now covers, settled at once in a later
    period of the platform: `inputs` is the source period's record with every row released from
    it so far, what its adjustments were priced from."""

    __tablename__ = "held_release"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    platform_id: int = Field(foreign_key="account.id", index=True)
    currency: str = Field(max_length=3)
    source_period_pk: int = Field(foreign_key="settlement_period.id", index=True)
    applied_period_pk: int | None = Field(default=None, foreign_key="settlement_period.id", index=True)
    row_count: int
    inputs: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)


class ReleasedRow(SQLModel, table=True):
    """A held play row settled by a release; its key makes each row settle once only."""

    __tablename__ = "released_row"

    row_pk: int = Field(primary_key=True, foreign_key="play_row.id")
    release_pk: int = Field(foreign_key="held_release.id", index=True)


class DisputeState(str, enum.Enum):
    """open (the line is held) -> upheld (voided; the corrected amount flows into the next period)
    or rejected (the line is released)."""

    open = "open"
    upheld = "upheld"
    rejected = "rejected"


class LineDispute(SQLModel, table=True):
    """A payee's dispute of one statement line, as the SettlementRegistry holds it.

    The chain is the record (an arbiter outside the service decides there); this row caches it
    with the texts whose hashes went on chain, and is refreshed by the reconciler."""

    __tablename__ = "line_dispute"
    __table_args__ = (UniqueConstraint("period_pk", "dispute_id", name="uq_dispute_period_number"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    period_pk: int = Field(foreign_key="settlement_period.id", index=True)
    dispute_id: int = Field(sa_type=BigInteger, description="The dispute's number in its period, on chain.")
    line_index: int
    payee: str = Field(max_length=42, index=True)
    work_id: str = Field(max_length=66, index=True)
    line_amount: int = Field(sa_column=Column(Numeric(78, 0), nullable=False))
    claimed_amount: int = Field(sa_column=Column(Numeric(78, 0), nullable=False))
    reason: str | None = Field(default=None, description="The text whose hash is on chain, when filed here.")
    reason_hash: str = Field(max_length=66)
    deadline: int = Field(sa_type=BigInteger, description="Unix seconds: decided by then, or the default applies.")
    bond: int = Field(default=0, sa_column=Column(Numeric(78, 0), nullable=False, default=0))
    state: DisputeState = Field(default=DisputeState.open, index=True)
    by_default: bool = False
    corrected_amount: int | None = Field(default=None, sa_column=Column(Numeric(78, 0), nullable=True))
    decision_reason: str | None = None
    decision_reason_hash: str | None = Field(default=None, max_length=66)
    dispute_op_id: int | None = Field(default=None, foreign_key="chain_op.id")
    decision_op_id: int | None = Field(default=None, foreign_key="chain_op.id")
    carried_to_pk: int | None = Field(
        default=None, foreign_key="settlement_period.id", description="Where the voided line's money was carried."
    )
    carry_op_id: int | None = Field(default=None, foreign_key="chain_op.id")
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class DistributionStatus(str, enum.Enum):
    """embedding -> anchoring (the copy exists, its record is on its way to the chain) -> ready; or failed."""

    embedding = "embedding"
    anchoring = "anchoring"
    ready = "ready"
    failed = "failed"


class DistributionRecord(SQLModel, table=True):
    """A watermarked copy of a work made for one recipient: the payload it carries names it.

    The canonical record (`record`) is what a leak is traced back to; its SHA-256 is anchored
    in the DistributionRegistry, so the link payload -> recipient predates any leak."""

    __tablename__ = "distribution"
    __table_args__ = (UniqueConstraint("owner_id", "idempotency_key", name="uq_distribution_owner_idempotency"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    work_pk: int = Field(foreign_key="work.id", index=True)
    owner_id: int = Field(foreign_key="account.id", index=True, description="The rights holder who made it.")
    platform_id: int = Field(foreign_key="account.id", index=True, description="The platform it went to.")
    session: str | None = Field(default=None, max_length=200)
    tier: str | None = Field(default=None, max_length=80)
    payload: int = Field(sa_type=BigInteger, unique=True, index=True, description="48-bit watermark payload.")
    key_id: str = Field(max_length=18, description="Which watermark key marked it (a hash, never the key).")
    status: DistributionStatus = Field(default=DistributionStatus.embedding, index=True)
    frames_done: int = 0
    frames_total: int | None = None
    source_name: str | None = Field(default=None, max_length=255)
    media_kind: str | None = Field(default=None, max_length=10)
    copy_name: str | None = Field(default=None, max_length=255, description="File of the copy under data_dir.")
    copy_sha256: str | None = Field(default=None, max_length=66)
    copy_size: int | None = Field(default=None, sa_type=BigInteger)
    record: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    record_hash: str | None = Field(default=None, max_length=66)
    op_id: int | None = Field(default=None, foreign_key="chain_op.id")
    error: str | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)
    request_digest: str | None = Field(
        default=None, max_length=66, description="SHA-256 of the canonical request made under the idempotency key."
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CaseStatus(str, enum.Enum):
    """open (the link was alive when last seen) -> closed (a re-check found it gone)."""

    open = "open"
    closed = "closed"


class PiracyCase(SQLModel, table=True):
    """A copy of a registered work found at a URL: one case per work and URL, however often
    it is found again. `evidence` is the canonical bundle of the first sighting; its SHA-256
    is anchored in the EvidenceRegistry by `op_id`."""

    __tablename__ = "piracy_case"
    __table_args__ = (UniqueConstraint("work_pk", "url_key", name="uq_piracy_case_work_url"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    work_pk: int = Field(foreign_key="work.id", index=True)
    owner_id: int = Field(foreign_key="account.id", index=True, description="The work's rights holder.")
    crawler_id: int = Field(foreign_key="account.id", index=True, description="The crawler that found it.")
    url: str = Field(max_length=2048)
    url_key: str = Field(max_length=64, index=True, description="SHA-256 of the URL: a bounded unique key.")
    page_url: str | None = Field(default=None, max_length=2048)
    content_sha256: str = Field(max_length=66, index=True)
    content_size: int = Field(sa_type=BigInteger)
    media_kind: str = Field(max_length=10)
    distribution_id: int | None = Field(default=None, foreign_key="distribution.id", index=True)
    platform_id: int | None = Field(
        default=None,
        foreign_key="account.id",
        index=True,
        description="The platform whose copy leaked, when the watermark names one.",
    )
    evidence: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    evidence_hash: str = Field(max_length=66, unique=True, index=True)
    op_id: int = Field(foreign_key="chain_op.id")
    status: CaseStatus = Field(default=CaseStatus.open, index=True)
    first_seen_at: datetime
    last_seen_at: datetime
    sightings: int = 1
    gone_at: datetime | None = None
    lifetime_seconds: int | None = Field(default=None, sa_type=BigInteger)
    last_checked_at: datetime | None = None
    checks: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class CaseCheck(SQLModel, table=True):
    """One re-check of a case's link: what a takedown's effect is measured by."""

    __tablename__ = "case_check"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("piracy_case.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    checked_at: datetime
    alive: bool
    http_status: int | None = None
    detail: str | None = Field(default=None, max_length=500)
    crawler_id: int = Field(foreign_key="account.id")


class CaseLife(SQLModel, table=True):
    """A past life of a case's link: up from `found_at`, gone at `gone_at` (a takedown that
    worked), then found again at `found_again_at`. The case's own fields hold its current
    life; these rows keep the ones before, so that a re-found link's history is not lost."""

    __tablename__ = "case_life"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("piracy_case.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    found_at: datetime
    gone_at: datetime
    lifetime_seconds: int = Field(sa_type=BigInteger)
    found_again_at: datetime
    crawler_id: int = Field(foreign_key="account.id", description="The crawler that found it again.")


class NoticeDelivery(str, enum.Enum):
    """draft -> sending (a webhook is configured) -> delivered, or failed after every retry."""

    draft = "draft"
    sending = "sending"
    delivered = "delivered"
    failed = "failed"


class TakedownNotice(SQLModel, table=True):
    """A takedown notice drafted for a case, in one format, and what became of its delivery."""

    __tablename__ = "takedown_notice"
    __table_args__ = (UniqueConstraint("case_id", "format", name="uq_takedown_notice_case_format"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("piracy_case.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    format: str = Field(max_length=20, description="cn-notice (通知-删除) or dmca.")
    language: str = Field(max_length=10)
    subject: str = Field(max_length=500)
    body: str
    delivery: NoticeDelivery = Field(default=NoticeDelivery.draft, index=True)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, index=True)
    delivered_at: datetime | None = None
    response_status: int | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class CounterNoticeLink(SQLModel, table=True):
    """Where a notice's recipient answers it without an account: one link per case, known here
    only by the SHA-256 of its token (the token itself is in the notices sent)."""

    __tablename__ = "counter_notice_link"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("piracy_case.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    token_hash: str = Field(max_length=64, unique=True, index=True)
    expires_at: datetime
    created_at: datetime = Field(default_factory=utcnow)


class CounterNotice(SQLModel, table=True):
    """A counter-notice (反通知, DMCA 512(g)) filed through a case's link: the canonical document
    whose SHA-256 is anchored in the EvidenceRegistry by `op_id`, when the case is due for
    restoration, and the rights holder's notification of it."""

    __tablename__ = "counter_notice"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("piracy_case.id", ondelete="CASCADE"), nullable=False, unique=True)
    )
    document: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    document_hash: str = Field(max_length=66, unique=True)
    op_id: int = Field(foreign_key="chain_op.id")
    filed_at: datetime
    restoration_due_at: datetime
    notify: NoticeDelivery = Field(default=NoticeDelivery.draft, index=True)
    notify_attempts: int = 0
    notify_next_at: datetime | None = None
    notified_at: datetime | None = None
    notify_error: str | None = Field(default=None, max_length=500)


class CaseStepKind(str, enum.Enum):
    """What the rights holder marks on a case's timeline."""

    acknowledged = "acknowledged"  # the platform acknowledged the notice
    action_filed = "action_filed"  # a court action was filed: the case is not restored
    restored = "restored"  # the material is back online
    re_found = "re_found"  # the material was found again after its removal


class CaseStep(SQLModel, table=True):
    """A step the rights holder marks on a case's timeline; once per kind."""

    __tablename__ = "case_step"
    __table_args__ = (UniqueConstraint("case_id", "kind", name="uq_case_step_case_kind"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    case_id: int = Field(
        sa_column=Column(Integer, ForeignKey("piracy_case.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    kind: CaseStepKind
    at: datetime
    actor_id: int = Field(foreign_key="account.id")
    note: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)


class ConsoleSession(SQLModel, table=True):
    """A web console sign-in: the cookie's token is kept only as a hash, and the session dies
    with the API key it was opened with (rotated or revoked) or when it ends or expires."""

    __tablename__ = "console_session"

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    token_hash: str = Field(max_length=64, unique=True, index=True, description="SHA-256 of the cookie's token.")
    csrf_token: str = Field(max_length=64, description="Sent back in X-CSRF-Token with every change.")
    account_id: int = Field(
        sa_column=Column(Integer, ForeignKey("account.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    key_hash: str = Field(max_length=64, description="The account's key hash at sign-in.")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime = Field(index=True)
    ended_at: datetime | None = None


class RequestKey(SQLModel, table=True):
    """An Idempotency-Key given to a write route whose domain keeps no key of its own
    (`ledger.request_keys`): which request it named and, once that request finished, its answer,
    sealed under the master key. A row with no status is a request still running (or one whose
    process stopped: it is taken over once it is old enough)."""

    __tablename__ = "request_key"
    __table_args__ = (UniqueConstraint("account_id", "key", name="uq_request_key_account_key"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    account_id: int = Field(sa_column=Column(Integer, ForeignKey("account.id", ondelete="CASCADE"), nullable=False))
    key: str = Field(max_length=200)
    route: str = Field(max_length=300, description="Method and path template, e.g. 'POST /periods/close'.")
    request_digest: str | None = Field(
        default=None, max_length=66, description="SHA-256 of the canonical request; None until a streamed body is read."
    )
    status: int | None = Field(default=None, description="The answer's HTTP status; None while the request runs.")
    answer: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary), description="Nonce and AES-GCM ciphertext of the JSON answer."
    )
    claimed_at: datetime = Field(default_factory=utcnow, description="When the running request took the key.")
    created_at: datetime = Field(default_factory=utcnow, index=True)


class JobStatus(str, enum.Enum):
    """queued -> running (the media step: hashing or marking) -> finishing (the media result is
    stored; the ledger step, database and chain, follows) -> done; or failed."""

    queued = "queued"
    running = "running"
    finishing = "finishing"
    done = "done"
    failed = "failed"


class MediaJob(SQLModel, table=True):
    """Heavy media work asked for by one account (`ledger.media_jobs`): hashing a registered
    master's frames, or marking a distribution's copy. Whoever runs a step holds the row's lease
    and renews it as it goes; a lease left to lapse (its holder died) is taken over."""

    __tablename__ = "media_job"
    __table_args__ = (UniqueConstraint("owner_id", "idempotency_key", name="uq_media_job_owner_idempotency"),)

    id: int = Field(default=None, primary_key=True)  # None until the row is first flushed
    kind: str = Field(max_length=20, description="hash_master or mark_copy.")
    owner_id: int = Field(foreign_key="account.id", index=True)
    status: JobStatus = Field(default=JobStatus.queued, index=True)
    progress_done: float = 0.0
    progress_total: float | None = None
    attempts: int = 0
    lease_holder: str | None = Field(default=None, max_length=80)
    lease_until: datetime | None = None
    request: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    output: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON), description="The media step's result.")
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON), description="What the job made.")
    distribution_id: int | None = Field(default=None, foreign_key="distribution.id", index=True)
    error_code: str | None = Field(default=None, max_length=80)
    error: str | None = None
    idempotency_key: str | None = Field(default=None, max_length=200)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
