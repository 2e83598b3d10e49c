"""What clients send and what they see, kept apart from the table models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.fields import Address, Bool, Day, Float, Int, MinorUnits, Name, Prose, RowId, Token, Uint64, When
from ledger.limits import DB_INT_MAX
from ledger.models import DerivativeKind, Role, WorkKind
from ledger.settlement.rules import FIELDS as RULE_FIELDS

BASE64 = r"^[A-Za-z0-9+/=]*$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccountCreate(Strict):
    name: Annotated[str, Name(120)]
    role: Role
    address: Address | None = Field(default=None, description="Its own EVM address; omit for a custodial key.")


class AccountPublic(BaseModel):
    id: int
    name: str
    role: Role
    address: str
    custodial: bool
    key_revoked: bool
    created_at: datetime


class AccountCreated(BaseModel):
    account: AccountPublic
    api_key: str = Field(description="Shown once; store it now.")


class ApiKey(BaseModel):
    api_key: str


class Party(Strict):
    name: Annotated[str, Name(200)]
    role: Annotated[str, Name(80, description="producer, director, investor, ...")]


class FingerprintIn(Strict):
    kind: Annotated[str, Token(20)]
    hashes: list[Annotated[str, Token(64)]] = Field(min_length=1, max_length=600)


class WorkMetadataIn(Strict):
    title: Annotated[str, Name(300)]
    kind: WorkKind
    parent: Annotated[str, Token(66)] | None = Field(
        default=None, description="Work id of the series an episode belongs to."
    )
    parties: list[Party] = Field(default_factory=list, max_length=100)


class FramesIn(Strict):
    """A hash sequence as `watermark.hash_sequence.HashSequence.to_json` writes it."""

    kind: str = Field(pattern="^(image|video)$")
    variants: list[Annotated[str, Token(20)]] = Field(min_length=1, max_length=64)  # a query has 32 (frame_hashes)
    times_ms: str = Field(
        max_length=2_000_000, pattern=BASE64, strict=True, description="Base64 of little-endian int64 milliseconds."
    )
    hashes: str = Field(
        max_length=8_000_000, pattern=BASE64, strict=True, description="Base64 of 8 bytes per variant per frame."
    )
    duration: Float = Field(ge=0, le=7 * 24 * 3600, description="Seconds of video looked at.")
    sampled: Int = Field(ge=0, le=10_000_000)


class WorkRegisterByHash(WorkMetadataIn):
    sha256: Annotated[str, Token(66, description="SHA-256 of the master file, 64 hex characters.")]
    fingerprint: FingerprintIn | None = None
    frames: FramesIn | None = Field(
        default=None, description="Frame hashes for matching copies (reelledger works register --hash-only sends them)."
    )


class ChainStatus(BaseModel):
    status: str = Field(description="pending, confirmed or failed")
    tx_hash: str | None
    block_number: int | None
    error: str | None = None


class PartyOut(BaseModel):
    name: str
    role: str


class FingerprintOut(BaseModel):
    kind: str | None
    hashes: list[str] | None
    digest: str


class WorkPublic(BaseModel):
    work_id: str
    title: str
    kind: WorkKind
    parent: str | None
    parties: list[PartyOut]
    owner_account_id: int
    size_bytes: int | None
    fingerprint: FingerprintOut
    metadata_hash: str
    metadata_uri: str
    near_duplicate_of: str | None = Field(
        description="A registered work whose fingerprint is within 10 bits (of 64) of this one's: probably the "
        "same footage. The work is registered anyway; the flag is for its owner to look at."
    )
    near_duplicate_distance: int | None = Field(description="Bits (of 64) between the two fingerprints; 0: alike.")
    chain: ChainStatus
    created_at: datetime


class OnChainWork(BaseModel):
    owner: str
    registered_at: int
    pending_owner: str | None
    fingerprint: str
    metadata_hash: str
    metadata_uri: str


class UpstreamTermsIn(Strict):
    kinds: list[Annotated[str, Token(20)]] = Field(
        min_length=1, max_length=6, description="re_edit, dub, subtitle, remake, trailer, compilation"
    )
    share_bps: Int = Field(ge=0, le=10_000, description="The licensed work's share of each derivative's earnings.")
    min_per_valid_play_micro: Uint64 = Field(
        default=0, description="Minimum owed per valid play of the derivative, millionths of the minor unit."
    )


class UpstreamTermsPublic(BaseModel):
    kinds: list[str]
    share_bps: int
    min_per_valid_play_micro: int
    currency: str = Field(
        description="The ledger's settlement currency, which every derivative earns in: the minimum is millionths "
        "of its minor unit."
    )


class LicenceCreate(Strict):
    licensee_id: RowId
    territories: list[Annotated[str, Token(8)]] = Field(
        min_length=1, max_length=300, description='ISO 3166-1 alpha-2 codes, or "WW" for all.'
    )
    rights: list[Annotated[str, Token(20)]] = Field(
        min_length=1, max_length=20, description="streaming, download, broadcast, theatrical, derive"
    )
    start: Uint64 = Field(description="Unix seconds, inclusive.")
    end: Uint64 = Field(gt=0, description="Unix seconds, exclusive.")
    exclusive: Bool = False
    sublicensable: Bool = False
    derivative: UpstreamTermsIn | None = Field(
        default=None, description="Upstream terms; required with the derive right (root licences only), else absent."
    )


class LicencePublic(BaseModel):
    id: int
    work_id: str
    parent_id: int | None
    chain_licence_id: int | None
    grantor_account_id: int
    licensee_account_id: int
    licensee_name: str | None = Field(
        None, description="The licensee's account name, for admins and auditors (who may list accounts)."
    )
    territories: list[str]
    rights: list[str]
    start: int
    end: int
    exclusive: bool
    sublicensable: bool
    derivative: UpstreamTermsPublic | None = None
    status: str
    chain: ChainStatus


class DerivativeParentIn(Strict):
    licence_id: RowId = Field(description="A root licence with the derive right on the parent, held by you.")
    kind: Annotated[str, Token(20)] = Field(description="re_edit, dub, subtitle, remake, trailer or compilation")


class DerivativeDeclare(Strict):
    parents: list[DerivativeParentIn] = Field(min_length=1, max_length=4)


class DerivativeEdgePublic(BaseModel):
    parent_work_id: str
    licence_id: int
    chain_licence_id: int | None
    kind: str
    share_bps: int
    min_per_valid_play_micro: int
    currency: str = Field(
        description="The ledger's settlement currency, which every derivative earns in: the minimum is millionths "
        "of its minor unit."
    )
    position: int


class DerivationPublic(BaseModel):
    work_id: str
    parents: list[DerivativeEdgePublic]
    status: str
    chain: ChainStatus


class Payee(Strict):
    address: Address
    bps: Int = Field(ge=0, le=10_000, description="Basis points; all payees sum to 10,000.")


class SplitCreate(Strict):
    payees: list[Payee] = Field(min_length=1)
    effective_from: Uint64 = Field(
        default=0,
        description=(
            "Unix seconds; 0 means from the start for the work's first version (it also splits what the work "
            "earned before) and when mined for a later one; at most a year ahead."
        ),
    )


class PayeeShare(BaseModel):
    address: str
    bps: int = Field(description="Basis points of what the work earns.")


class SplitPublic(BaseModel):
    work_id: str
    version: int | None
    payees: list[PayeeShare]
    effective_from: int = Field(
        description=(
            "Unix seconds: as asked while unconfirmed, then as the chain recorded it; 0 means in force from the "
            "start (a first version)."
        )
    )
    chain: ChainStatus


class SplitVersionPublic(BaseModel):
    version: int
    payees: list[PayeeShare]
    effective_from: int = Field(
        description="Unix seconds, as the chain recorded it; 0 means in force from the start (a first version)."
    )
    split_hash: str


class WorkDetail(WorkPublic):
    on_chain: OnChainWork | None
    licences: list[LicencePublic]
    splits: list[SplitVersionPublic]


class Page(BaseModel):
    total: int
    offset: int
    limit: int


class WorkPage(Page):
    items: list[WorkPublic]


class FamilyWork(BaseModel):
    work_id: str
    title: str


class FamilyEdge(BaseModel):
    """`derivative` derives from `parent` under licence `licence_id`, granted by the parent's owner."""

    derivative: FamilyWork
    parent: FamilyWork
    kind: DerivativeKind
    licence_id: int
    chain_licence_id: int | None
    share_bps: int = Field(description="The parent's share of what the derivative earns, in basis points.")
    min_per_valid_play_micro: int = Field(
        description="The parent's floor per valid play of the derivative, micro-units of the minor unit (0: none)."
    )
    currency: str | None = Field(description="The currency the derivative earns in, when its rules name one.")
    position: int = Field(description="The parent's place in the derivative's declared parents.")
    depth: int = Field(description="1: an edge of the work itself; 2: one level further; and so on.")
    chain: ChainStatus = Field(description="The derivative's registration on chain: the edge counts once confirmed.")


class WorkFamily(BaseModel):
    work: FamilyWork
    parents: list[FamilyEdge] = Field(description="Edges up to the roots, nearest first.")
    children: list[FamilyEdge] = Field(description="Edges down to the leaves, nearest first.")
    truncated: bool = Field(description="The family is larger than one answer shows.")


class DistributionIn(BaseModel):
    platform: Annotated[str, Name(120, description="The receiving platform's account name or address.")]
    session: Annotated[str, Token(200, 0)] | None = Field(
        default=None, description="A playback session or delivery, if any."
    )
    tier: Annotated[str, Token(80, 0)] | None = Field(default=None, description="A user tier, if any.")


class PartyRef(BaseModel):
    account_id: int
    name: str
    address: str


class DistributionProgress(BaseModel):
    frames_done: int
    frames_total: int | None
    job_id: int | None = Field(
        default=None, description="The media job marking the copy (GET /jobs/{id}, its owner's)."
    )


class DistributionCopy(BaseModel):
    sha256: str
    size: int
    url: str


class DistributionPublic(BaseModel):
    id: int
    work_id: str
    platform: PartyRef
    session: str | None
    tier: str | None
    payload: str = Field(description="The 48-bit watermark payload the copy carries, hex.")
    watermark_key_id: str
    media_kind: str | None
    status: str = Field(description="embedding, anchoring, ready or failed")
    error: str | None
    progress: DistributionProgress
    copy_file: DistributionCopy | None = Field(alias="copy", serialization_alias="copy")
    record_hash: str | None = Field(description="SHA-256 of the canonical record anchored on chain.")
    chain: ChainStatus | None
    created_at: datetime

    model_config = {"populate_by_name": True}


class DistributionPage(Page):
    items: list[DistributionPublic]


class WatermarkReading(BaseModel):
    found: bool = Field(description="A payload was read under one of the keys tried.")
    payload: str | None
    confidence: float
    sync: float = Field(description="Synchronisation strength; decoding needs 9 or more.")
    media_kind: str
    frames: int
    keys_tried: int


class AnchorCheck(BaseModel):
    anchored: bool
    record_hash_matches: bool
    anchored_at: int | None


class ColluderOut(BaseModel):
    distribution: DistributionPublic
    score: float = Field(
        description="Correlation of the reading with this distribution's payload; 6 or more to be named."
    )


class TraceOut(BaseModel):
    watermark: WatermarkReading
    distribution: DistributionPublic | None
    on_chain: AnchorCheck | None = Field(description="The record's hash against the chain; null if it does not answer.")
    colluders: list[ColluderOut] = Field(
        default_factory=list,
        description="Other distributions whose payloads the copy carries in part (copies averaged or cut together), "
        "strongest first.",
    )


class MatchQuery(Strict):
    frames: FramesIn


class QuerySummary(BaseModel):
    kind: str = Field(description="image or video")
    frames_sampled: int
    frames_usable: int = Field(description="Frames with enough structure to match on.")
    duration_seconds: float


class MatchedWork(BaseModel):
    work_id: str
    title: str
    kind: WorkKind
    owner_account_id: int
    registry: str | None = Field(description="The WorkRegistry contract that holds its registration.")
    chain: ChainStatus


class MatchOut(BaseModel):
    matched: bool
    work: MatchedWork | None = None
    offset_seconds: float | None = Field(None, description="Where in the work the copy's first frame shows.")
    duration_seconds: float | None = Field(None, description="Seconds of the copy that agree with the work.")
    speed: float | None = Field(None, description="The copy's playback speed relative to the work.")
    confidence: float | None = None
    frames_agreeing: int | None = None
    mean_bits_apart: float | None = None
    derivative_of: CaseSource | None = Field(
        None, description="The work is a licensed derivative and the copy shows this ancestor's footage too."
    )
    query: QuerySummary


class SightingIn(Strict):
    """How a crawler fetched the copy it uploads with this form."""

    url: Annotated[str, Token(2048, description="Where the copy was fetched.")]
    fetched_at: When = Field(description="When (with a time zone).")
    page_url: Annotated[str, Token(2048)] | None = Field(None, description="The page that linked to it.")
    final_url: Annotated[str, Token(2048)] | None = Field(None, description="After redirects.")
    status: Int | None = Field(None, ge=100, le=599)
    http_version: Annotated[str, Token(20, 0)] | None = None
    content_type: Annotated[str, Token(200, 0)] | None = None
    headers: dict[Annotated[str, Token(200)], Annotated[str, Token(8192, 0)]] = Field(
        default_factory=dict, max_length=200, description="The response headers."
    )
    sha256: Annotated[str, Token(66)] | None = Field(None, description="The crawler's hash of the bytes; checked.")


class CaseCheckIn(Strict):
    alive: Bool = Field(description="Whether the copy was still served.")
    checked_at: When | None = Field(None, description="When (with a time zone); now if omitted.")
    http_status: Int | None = Field(None, ge=100, le=599)
    detail: Annotated[str, Prose(500, 0)] | None = None


class NoticePublic(BaseModel):
    format: str = Field(description="cn-notice (通知-删除) or dmca")
    language: str
    subject: str
    body: str
    delivery: str = Field(description="draft, sending, delivered or failed")
    attempts: int
    delivered_at: datetime | None
    response_status: int | None
    last_error: str | None


class CaseMatch(BaseModel):
    offset_seconds: float
    duration_seconds: float
    confidence: float
    seconds_compared: float | None = Field(
        default=None, description="Seconds of a video copy its fingerprint was compared over (null for a still)."
    )
    whole_copy_compared: bool | None = Field(
        default=None,
        description="False when the verdict was decisive on the copy's first seconds and the rest was not compared: "
        "the duration is then the least of the copy that agrees with the work (null for a still).",
    )


class CaseSource(BaseModel):
    """The ancestor whose footage a derivative's copy shows, and the licence it is used under."""

    work_id: str
    title: str
    kind: str = Field(description="The derivative's kind: re_edit, dub, subtitle, remake, trailer, compilation.")
    licence_id: int
    chain_licence_id: int | None
    match: CaseMatch = Field(description="Where the copy agrees with the ancestor.")


class CaseLeak(BaseModel):
    payload: str | None
    distribution_id: int | None
    platform: PartyRef | None


class CaseLifeOut(BaseModel):
    found_at: datetime
    gone_at: datetime
    lifetime_seconds: int
    found_again_at: datetime


class CasePublic(BaseModel):
    id: int
    work_id: str
    title: str
    url: str
    page_url: str | None
    status: str = Field(description="open or closed (the link is gone)")
    content_sha256: str
    content_size: int
    media_kind: str = Field(description="The copy's: video or image.")
    work_media_kind: str | None = Field(
        description="The work's, as its fingerprint says: video or image (null: registered by its hash alone). "
        "A still copy of a video work shows the frame at the match's offset."
    )
    match: CaseMatch
    derivative_of: CaseSource | None = Field(
        description="The copy is of this case's work, a licensed derivative of this ancestor: not the ancestor's case."
    )
    leak: CaseLeak
    evidence_hash: str
    evidence_url: str
    anchor: ChainStatus = Field(description="The evidence hash's anchor in the EvidenceRegistry.")
    evidence_registry: str | None
    screenshot: bool
    first_seen_at: datetime
    last_seen_at: datetime
    sightings: int
    checks: int
    last_checked_at: datetime | None
    gone_at: datetime | None
    lifetime_seconds: int | None = Field(description="The current life's: first seen (or found again) to gone.")
    history: list[CaseLifeOut] = Field(
        description="The link's lives before the current one, oldest first: found, gone after a takedown, found "
        "again. Empty for a link never found again."
    )
    notices: list[NoticePublic]


class CasePage(Page):
    items: list[CasePublic]


class SightingOut(BaseModel):
    matched: bool
    created: bool = Field(description="A new case was opened (false: a sighting of a known case, or no match).")
    case: CasePublic | None = Field(description="The case, when it is yours to see (another crawler's case is not).")


class LifetimeSummary(BaseModel):
    open: int
    closed: int
    median_lifetime_seconds: int | None
    mean_lifetime_seconds: int | None


# What the settlement, report, health and crawl routes send and take (each route declares its
# model, so that the OpenAPI document describes every answer).


class HealthChain(BaseModel):
    managed: bool = Field(description="The service runs its own Anvil node.")
    rpc_url: str = Field(description="The node's URL, credentials removed.")
    chain_id: int
    block_number: int | None = Field(description="Null when the node does not answer.")


class HealthFunding(BaseModel):
    address: str = Field(description="The funding key: it pays the gas of the accounts the service signs for.")
    balance: str | None = Field(description="Its balance in wei; null when the node does not answer.")
    warn_below: str = Field(description="Wei below which a warning is given (REELLEDGER_FUNDING_WARN_WEI).")
    warning: str | None = Field(description="Set when the balance is below warn_below.")


class Health(BaseModel):
    status: str = Field(description="ok or degraded (then the answer is a 503)")
    problems: list[str]
    warnings: list[str] = Field(description="Worth an operator's look (a funding key running low); the service works.")
    funding: HealthFunding
    chain: HealthChain
    contracts: dict[str, str] = Field(description="Contract addresses by name.")
    operator: str = Field(description="The service's signer; accounts with their own address approve it.")
    database: str
    outbox_unfinished: int | None = Field(
        description="Chain operations in flight; null when the database does not answer."
    )
    leading: list[str] = Field(
        description="The background loops this replica runs; with replicas on PostgreSQL each loop runs in one."
    )


class RuleCreate(Strict):
    effective_from: Day = Field(description="The first day in force; at most a year ahead.")
    platform_id: RowId | None = Field(default=None, description="The deal with one platform; omit for every platform.")
    currency: Annotated[str, Token(3, 3)] | None = None
    rule: dict[str, Any] = Field(
        max_length=len(RULE_FIELDS),
        description="valid_play_tiers, watch_minute_price_micro, ad_revenue_bps, "
        "pool, commission_bps, advance (prices in millionths of a minor unit)",
    )


class RulePublic(BaseModel):
    version: int
    platform_id: int | None
    currency: str | None
    effective_from: date
    rule: dict[str, Any]
    content_hash: str


class DayRange(BaseModel):
    first_day: date
    last_day: date = Field(description="Inclusive.")


class PlayRowIn(BaseModel):
    """One row of a play report, as a JSON object or an NDJSON line (a CSV has these columns).
    Counts and money are whole non-negative numbers, money in minor units."""

    work: str = Field(description="Work id, 64 hex characters (0x optional).")
    territory: str = Field(description="ISO 3166-1 alpha-2 code.")
    date: str = Field(description="YYYY-MM-DD, inside the report's period.")
    currency: str = Field(description="ISO 4217 code, the report's currency.")
    plays: int | str = 0
    valid_plays: int | str = 0
    watch_minutes: int | str = 0
    ad_revenue: int | str = 0


class PlayRowsIn(BaseModel):
    rows: list[PlayRowIn]


class ReportTotals(BaseModel):
    plays: str
    valid_plays: str
    watch_minutes: str
    ad_revenue: str


class ReportPublic(BaseModel):
    report_id: str
    report_hash: str = Field(description="keccak of report_id: the reportId signed and anchored.")
    status: str = Field(description="receiving, accepted or superseded")
    period: DayRange
    currency: str
    rows: int
    held_rows: int
    totals: ReportTotals
    rows_root: str | None
    digest: str | None = Field(description="The EIP-712 digest the platform signed.")
    signature: str | None
    anchor: ChainStatus | None


class RowProblem(BaseModel):
    row: int = Field(description="The row's number, from 1 (0: the body or header as a whole).")
    field: str
    problem: str


class ReportCheck(BaseModel):
    rows: int
    problems: list[RowProblem] = Field(description="The first 100 problems, in row order.")
    total: int = Field(description="How many problems the report has in all.")
    truncated: bool = Field(description="More problems than are listed.")


class TypedField(BaseModel):
    name: str
    type: str


class SigningDomainFields(BaseModel):
    name: str
    version: str
    chainId: int
    verifyingContract: str


class SigningDomain(BaseModel):
    domain: SigningDomainFields
    types: dict[str, list[TypedField]]
    primary_type: str


class WouldEarn(BaseModel):
    amount: str = Field(description="Minor units, a whole number in decimal digits.")
    currency: str


class HeldRow(BaseModel):
    row: int = Field(description="The play row's id: what a release names.")
    report_id: str
    platform: str = Field(description="The platform's account name.")
    work_id: str
    territory: str
    date: date
    plays: int
    valid_plays: int
    watch_minutes: int
    ad_revenue: int
    state: str = Field(description="held (still out of settlement) or released (settled by a later period).")
    reason_code: str = Field(
        description="no_licence, right_not_granted, territory_outside, day_outside, licence_revoked, "
        "licence_pending, covered_now (settles at the platform's next close), no_rule, corrected, in_correction or "
        "released."
    )
    reason: str
    would_earn: WouldEarn | None = Field(
        description="What the row alone earns its payees under the rule in force for its period, after the "
        "platform's commission, before pool shares and advance recoupment; null when no rule is in force."
    )
    released_into: str | None = Field(description="The id of the period whose adjustment lines settled it.")


class PeriodClose(Strict):
    period_start: Day
    period_end: Day = Field(description="Last day, inclusive.")
    currency: Annotated[str, Token(3, 3)]
    pools: dict[Annotated[str, Token(64)], Annotated[MinorUnits, Field(ge=0, le=DB_INT_MAX)]] = Field(
        default_factory=dict, max_length=100, description="Revenue pool amounts in minor units, by name."
    )
    platform_id: RowId | None = Field(default=None, description="Only for an admin closing a platform's period.")


class Funding(Strict):
    amount: MinorUnits | None = Field(
        default=None, gt=0, lt=2**88, description="Minor units; default: all the period still owes."
    )


class PaidOffChain(Strict):
    payment_ref: Annotated[str, Token(200)] = Field(description="The bank or other payment reference.")


class DisputeIn(Strict):
    reason: Annotated[str, Prose(2000)]
    claimed_amount: MinorUnits = Field(
        ge=0, lt=2**88, description="What the line should have paid, in minor units (what the payee claims)."
    )


class DecisionIn(Strict):
    outcome: Literal["upheld", "rejected"] = Field(
        description="upheld: the line is voided and the corrected amount is paid in the platform's next period; "
        "rejected: the line is released as it stands."
    )
    corrected_amount: MinorUnits | None = Field(
        default=None, ge=0, lt=2**88, description="Upheld only: what the line should have paid, in minor units."
    )
    reason: Annotated[str, Prose(2000)] = Field(description="Kept here; its hash goes on chain with the decision.")


class DisputePublic(BaseModel):
    """A dispute of a statement line, as the chain holds it (refreshed by the reconciler)."""

    period_id: str
    dispute_id: int
    line_index: int
    payee: str
    work_id: str
    line_amount: str = Field(description="Minor units: what the disputed line pays.")
    currency: str = Field(description="The period's currency, which the amounts are minor units of.")
    claimed_amount: str = Field(description="Minor units: what the payee says the line should pay.")
    reason: str | None = Field(description="The text filed through this service; null when filed on chain directly.")
    reason_hash: str
    deadline: int = Field(description="Unix seconds: decided by then, or the deployment's default applies.")
    bond: str = Field(description="Minor units of the bond token the payee put up.")
    state: Literal["open", "upheld", "rejected"]
    line_state: Literal["held", "voided", "released"] = Field(description="What the dispute does to the line.")
    by_default: bool = Field(description="Decided by the default at the deadline, not by the arbiter.")
    corrected_amount: str | None = Field(description="Minor units: upheld, what the line should have paid.")
    decision_reason: str | None
    decision_reason_hash: str | None
    carried_to: str | None = Field(description="The period the voided line's money was carried into.")
    dispute_tx: ChainStatus | None
    decision_tx: ChainStatus | None


class ArbiterSeat(BaseModel):
    arbiter: str = Field(description="The address that decides disputes on chain.")
    pending: str | None = Field(description="The successor named, until it accepts.")
    arbiter_account_id: int | None = Field(
        description="The arbiter account holding the seat, if one of this service's."
    )
    held_by_service: bool = Field(description="The service signer still holds the seat: hand it over first.")
    external: bool = Field(description="Held by an address outside this service: its decisions come from the chain.")
    decision_window: int = Field(description="Seconds from a dispute's opening to its deadline.")
    default_outcome: Literal["upheld", "rejected"] = Field(description="The outcome of a dispute left undecided.")
    bond_token: str | None
    bond_amount: str = Field(description="Minor units a payee puts up to dispute; 0: no bond.")
    bond_currency: str = Field(description="The settlement currency, which the bond token counts minor units of.")
    bond_sink: str | None = Field(description="Where a rejected dispute's bond goes.")


class ArbiterHandoverIn(Strict):
    account_id: RowId = Field(description="The arbiter account to hand the seat to; it then accepts.")


class PeriodPublic(BaseModel):
    """A period. The fields marked private are there only for its platform, auditors and admins."""

    period_id: str
    platform_id: int | None = Field(None, description="Private.")
    platform: str = Field(description="The platform's account name.")
    currency: str
    period: DayRange
    status: str
    root: str
    total: str = Field(description="Minor units.")
    line_count: int
    token: str
    inputs_hash: str
    dispute_ends: int | None = Field(description="Unix seconds, from the chain.")
    pools: dict[str, int] | None = Field(None, description="Private.")
    unsettled_works: dict[str, str] | None = Field(None, description="Private: works left out, and why.")
    reports: list[str] | None = Field(None, description="Private.")
    adjustments_applied: int | None = Field(None, description="Private.")
    commit: ChainStatus
    finalise: ChainStatus | None


class PeriodDetail(PeriodPublic):
    open_disputes: int | None = Field(description="Null while the node does not answer.")
    owed: str | None = Field(
        None,
        description="Minor units that funding still has to pay into the contract (0: fully funded), "
        "from the chain; null while the node does not answer or before the period is on chain.",
    )
    disputes: list[DisputePublic] | None = Field(None, description="The period's disputes the caller may see.")


class LineDisputeState(BaseModel):
    dispute_id: int
    state: Literal["held", "voided", "released"]
    deadline: int = Field(description="Unix seconds.")
    claimed_amount: str
    corrected_amount: str | None


class StatementLine(BaseModel):
    index: int
    payee: str
    work_id: str = Field(description="The work whose payees the line pays (its split version is split_version).")
    work_title: str | None = Field(None, description="The work's title, when this service registered it.")
    via_work_id: str | None = Field(
        None, description="The derivative whose earnings reached the payee through its licence; null: earned directly."
    )
    via_title: str | None = Field(None, description="The derivative's title, when known.")
    amount: str
    rule_version: int = Field(description="The earning work's rule version (the derivative's, for an upstream line).")
    split_version: int
    adjustment: str
    proof: list[str] | None = Field(None, description="The line's Merkle proof; absent when proofs=false.")
    dispute: LineDisputeState | None = Field(None, description="The line's latest dispute; absent when none.")


class Statement(BaseModel):
    format: str
    chain_id: int
    contract: str = Field(description="The SettlementRegistry.")
    period_id: str
    platform: str
    period: DayRange
    currency: str
    token: str
    payout: str = Field(description="The period's PeriodPayout contract.")
    root: str
    inputs_hash: str
    total: str
    line_count: int
    status: str
    payee: str | None
    payee_total: str
    lines: list[StatementLine]


class UpstreamRevenue(BaseModel):
    """What reached a payee in one period as payee of `work_id` through the derivative `via_work_id`."""

    period_id: str
    period: DayRange
    currency: str
    status: str = Field(description="The period's status.")
    line_index: int
    payee: str
    work_id: str
    work_title: str | None
    via_work_id: str
    via_title: str | None
    amount: str = Field(description="Minor units of the period's currency.")


class ChainResult(BaseModel):
    chain: ChainStatus


class DisputeFiled(ChainResult):
    dispute: DisputePublic | None = Field(description="Null until the chain has taken the dispute.")


class DisputeDecided(ChainResult):
    dispute: DisputePublic


class Funded(ChainResult):
    funded: str = Field(description="Minor units of the currency paid in.")
    currency: str


class AuditOut(BaseModel):
    period_id: str
    recomputed_root: str | None
    stored_root: str
    chain_root: str | None
    recomputed_inputs_hash: str
    chain_inputs_hash: str | None
    total: str = Field(description="Minor units of the currency: the recomputed total.")
    currency: str
    line_count: int
    problems: list[str]
    ok: bool


class CrawlJob(BaseModel):
    job_id: str
    submitted_at: float = Field(description="Unix seconds.")
    submitter: str | None
    seeds: list[str]
    rescan_every: float | None
    counts: dict[str, int | bool] = Field(
        description="pages, media, bytes, matched, cases, queued, done, failed, skipped:<reason>, and finished."
    )


class JobProgress(BaseModel):
    done: float = Field(description="Seconds of video hashed, or frames marked, so far.")
    total: float | None = Field(description="Of how many, when known.")
    fraction: float | None = Field(description="done / total, 0 to 1, when the total is known.")


class JobResult(BaseModel):
    """What a finished job made: the registered work (hash_master) or the distribution's copy (mark_copy)."""

    work_id: str | None = None
    fingerprint_digest: str | None = None
    frames: int | None = Field(default=None, description="Frame hashes kept for matching, or frames marked.")
    distribution_id: int | None = None


class JobError(BaseModel):
    code: str
    message: str


class JobPublic(BaseModel):
    """Heavy media work the caller asked for, followed at GET /jobs/{id}."""

    id: int
    kind: str = Field(description="hash_master (registering an uploaded master) or mark_copy (a distribution's copy).")
    status: str = Field(description="queued, running, done or failed")
    progress: JobProgress
    attempts: int = Field(description="Times its media step was started (more: a runner died, another took over).")
    result: JobResult | None
    error: JobError | None
    created_at: datetime
    updated_at: datetime


class JobPage(Page):
    items: list[JobPublic]


class SignIn(Strict):
    """The web console's sign-in (outside the API document): an API key for a session cookie."""

    api_key: Annotated[str, Token(200)]


class SignedIn(BaseModel):
    name: str
    role: Role


class SignedOut(BaseModel):
    signed_out: bool


def binary(media_type: str, description: str) -> dict[int | str, dict[str, Any]]:
    """A 200 whose body is bytes of `media_type` (a download), for a route's `responses`."""
    return {
        200: {"description": description, "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}
    }


def document(description: str) -> dict[int | str, dict[str, Any]]:
    """A 200 whose body is a JSON document kept byte for byte (its hash is on chain), for a route's `responses`."""
    return {200: {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}}


class ErrorDetail(BaseModel):
    code: str = Field(
        description="Machine-readable: invalid_request, not_found, forbidden, a contract's error name, ..."
    )
    message: str
    details: dict[str, Any] = Field(
        description="What the refusal concerns; for invalid_request, `problems` (field, problem)."
    )


# ------------------------------------------------------------------ counter-notices


class CounterNoticeIn(Strict):
    """A counter-notice as its filer sends it through a notice's link (17 U.S.C. 512(g)(3);
    民法典 art. 1196); the link's token is the only credential."""

    token: Annotated[str, Token(200, description="The token of the notice's counter-notice link.")]
    name: Annotated[str, Name(200, description="Who files it; the name is its signature.")]
    address: Annotated[str, Prose(500)]
    email: Annotated[str, Token(254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]
    phone: Annotated[str, Token(40)] | None = None
    urls: list[Annotated[str, Token(2048)]] = Field(
        min_length=1, max_length=10, description="The notice's URLs this counter-notice concerns."
    )
    good_faith: Bool = Field(description="Must be true: the filer affirms the statement the link shows.")
    explanation: Annotated[str, Prose(4000)] | None = None


class CounterNoticeForm(BaseModel):
    case_id: int
    title: str
    work_id: str
    rights_holder: str
    urls: list[str] = Field(description="The URLs the notice concerns; a counter-notice names some of them.")
    evidence_hash: str
    statement: str = Field(description="What `good_faith: true` affirms.")
    waiting_business_days: int
    filed_at: datetime | None = Field(description="When a counter-notice was filed through this link, if one was.")


class CounterNoticeFiled(BaseModel):
    case_id: int
    document_hash: str = Field(description="SHA-256 of the canonical document, anchored in the EvidenceRegistry.")
    filed_at: datetime
    restoration_due_at: datetime


class CounterNoticeOut(CounterNoticeFiled):
    document: dict[str, Any]
    anchor: ChainStatus
    rights_holder_notified: str = Field(description="draft (no webhook), sending, delivered or failed")


class StepOut(BaseModel):
    kind: str = Field(
        description="found, notice_sent, acknowledged, removed, countered, action_filed, restoration_due, "
        "restored or re_found"
    )
    at: datetime
    actor: str
    detail: str | None
    anchored_hash: str | None = Field(description="The SHA-256 anchored on chain for this step, if any.")
    anchor: ChainStatus | None


class TimelineOut(BaseModel):
    case_id: int
    restoration: str | None = Field(
        description="None without a counter-notice; else waiting, due, action_filed or restored."
    )
    restoration_due_at: datetime | None
    steps: list[StepOut]


class StepIn(Strict):
    at: When | None = Field(None, description="When it happened (with a time zone); now if omitted.")
    note: Annotated[str, Prose(500, 0)] | None = None


class ErrorBody(BaseModel):
    """Every refusal (4xx, or 503 during an outage)."""

    error: ErrorDetail
