"""The settlement contracts as domain operations: the SettlementRegistry (report anchoring,
periods, disputes and their arbiter, funding, off-chain payment, carried voided funds) and each
period's PeriodPayout (claims).

Each write's ABI name is a constant here and a statement line is laid out for calldata in one
function (`_line_args`, which `dispute`, `markPaidOffChain`, `verifyLine` and `claim` share), so
that a change of the contracts' interface is a change of a line or two in this module. Ids go
in as the service keeps them (`0x` strings); results come out as frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from web3 import Web3
from web3.contract import Contract

from ledger.chain import artifacts, web3_types
from ledger.chain.gateway import Gateway
from ledger.chain.hexes import from_0x, to_0x, to_bytes32
from ledger.chain.outbox import Call

if TYPE_CHECKING:
    from ledger.reports.signing import ReportSummary

SETTLEMENT_REGISTRY = "SettlementRegistry"
PERIOD_PAYOUT = "PeriodPayout"

# The writes' ABI names, each written once.
ANCHOR_REPORT = "anchorReport"
COMMIT_PERIOD = "commitPeriod"
FINALIZE = "finalize"
DISPUTE = "dispute"
DECIDE = "decide"
EXPIRE = "expire"
BEGIN_ARBITER_HANDOVER = "beginArbiterHandover"
ACCEPT_ARBITER_HANDOVER = "acceptArbiterHandover"
CARRY_VOIDED = "carryVoided"
MARK_PAID_OFF_CHAIN = "markPaidOffChain"
FUND = "fund"
CLAIM = "claim"


@dataclass(frozen=True)
class LineLeaf:
    """A statement line as the contracts check it against a period's root."""

    index: int
    payee: str  # checksummed address
    work_id: bytes  # 32 bytes
    amount: int  # minor units
    rule_version: int
    split_version: int


def _line_args(line: LineLeaf) -> list[Any]:
    """A line as `dispute`, `markPaidOffChain`, `verifyLine` and `claim` take it: one `StatementLine` struct."""
    return [(line.index, line.payee, line.work_id, line.amount, line.rule_version, line.split_version)]


def _report_args(report: ReportSummary) -> tuple[Any, ...]:
    """A play report's summary as `anchorReport` and `hashReport` take it (the PlayReport struct)."""
    return (
        report.platform,
        report.report_id,
        report.period_start,
        report.period_end,
        report.currency,
        report.row_count,
        report.plays,
        report.valid_plays,
        report.watch_minutes,
        report.ad_revenue,
        report.rows_root,
        report.supersedes,
    )


@dataclass(frozen=True)
class OnChainPeriod:
    """A period as the SettlementRegistry holds it (state 0: never committed)."""

    state: int
    root: str
    token: str
    total: int
    funded: int
    paid_off_chain: int
    payout: str
    line_count: int
    dispute_ends: int
    open_disputes: int
    inputs_hash: str
    voided: int = 0  # what upheld disputes voided, carried to a later period by `carry_voided`
    carried_out: int = 0  # what `carry_voided` moved out of this period's payout so far

    @property
    def committed(self) -> bool:
        return self.state != 0

    @property
    def owed(self) -> int:
        """What funding still has to pay in."""
        return self.total - self.funded - self.paid_off_chain


# `DisputeState` of the registry, by its value.
DISPUTE_STATES = ("none", "open", "upheld", "rejected")


@dataclass(frozen=True)
class OnChainDispute:
    """A dispute as the registry records it (`disputeOf`)."""

    index: int
    payee: str
    line_amount: int
    claimed_amount: int
    corrected_amount: int  # upheld only: what the line should have been
    deadline: int  # Unix seconds; the arbiter decides before it, `expire` applies the default from it
    bond: int
    state: str  # one of DISPUTE_STATES
    by_default: bool
    reason: str  # 0x hash of the payee's grounds
    decision_reason: str  # 0x hash of the arbiter's reasons; zero when decided by default


@dataclass(frozen=True)
class DisputeTerms:
    """How the deployment's disputes are decided, fixed at deployment (`disputeTerms`)."""

    decision_window: int  # seconds from a dispute's opening to its deadline
    default_upheld: bool  # the outcome `expire` applies
    bond_token: str
    bond_amount: int  # 0: no bond
    bond_sink: str  # where a rejected dispute's bond goes


def read_period(contract: Contract, period_id: str | bytes) -> dict[str, Any]:
    """A period's record as a dict keyed by the ABI's names."""
    raw_id = to_bytes32(period_id) if isinstance(period_id, str) else period_id
    value = contract.functions.period(raw_id).call()
    function = next(f for f in contract.abi if f.get("type") == "function" and f.get("name") == "period")
    names = [c["name"] for c in function["outputs"][0]["components"]]  # type: ignore[typeddict-item]  # a function's entry
    return dict(zip(names, value, strict=True))


def payout_address(registry: str, period_id: str, root: str, token: str) -> str:
    """Where a committed period's funds go and its lines are claimed: the CREATE2 address at which
    the registry deploys the period's PeriodPayout (`SettlementRegistry.payoutOf`), known from the
    commitment alone."""
    salt = to_bytes32(period_id)
    init_code = from_0x(artifacts.load(PERIOD_PAYOUT).bytecode) + encode(
        ["bytes32", "bytes32", "address"], [salt, to_bytes32(root), to_checksum_address(token)]
    )
    digest = keccak(b"\xff" + from_0x(registry) + salt + keccak(init_code))
    return str(to_checksum_address(digest[12:]))


class SettlementGateway(Gateway):
    """The SettlementRegistry: on the service's chain, or one a verifier or auditor checked."""

    def __init__(self, contract: Contract) -> None:
        super().__init__(contract, SETTLEMENT_REGISTRY)

    # ----------------------------------------------------------------- writes

    def anchor_report(self, report: ReportSummary, signature: bytes) -> Call:
        return self._call(ANCHOR_REPORT, [_report_args(report), signature])

    def commit_period(
        self, *, period_id: str, root: bytes, token: str, total: int, line_count: int, inputs_hash: str
    ) -> Call:
        return self._call(
            COMMIT_PERIOD, [to_bytes32(period_id), root, token, total, line_count, to_bytes32(inputs_hash)]
        )

    def finalize(self, period_id: str) -> Call:
        return self._call(FINALIZE, [to_bytes32(period_id)])

    def dispute(self, period_id: str, line: LineLeaf, proof: Sequence[bytes], reason: str, claimed_amount: int) -> Call:
        """The payee's dispute of a line, saying what it should have been; the reason's text stays
        off chain, its hash goes on."""
        return self._call(
            DISPUTE, [to_bytes32(period_id), *_line_args(line), list(proof), text_hash(reason), claimed_amount]
        )

    def decide(self, period_id: str, dispute_id: int, *, upheld: bool, corrected_amount: int, reason: str) -> Call:
        """The arbiter's decision (before the dispute's deadline); `corrected_amount` is 0 when rejected."""
        return self._call(DECIDE, [to_bytes32(period_id), dispute_id, upheld, corrected_amount, text_hash(reason)])

    def expire(self, period_id: str, dispute_id: int) -> Call:
        """Applies the deployment's default to a dispute whose deadline has passed; anyone may send it."""
        return self._call(EXPIRE, [to_bytes32(period_id), dispute_id])

    def begin_arbiter_handover(self, next_arbiter: str) -> Call:
        return self._call(BEGIN_ARBITER_HANDOVER, [web3_types.address(next_arbiter)])

    def accept_arbiter_handover(self) -> Call:
        return self._call(ACCEPT_ARBITER_HANDOVER, [])

    def carry_voided(self, from_period_id: str, to_period_id: str, amount: int) -> Call:
        """Moves voided funds of a final period into a later period of the platform (as its funding)."""
        return self._call(CARRY_VOIDED, [to_bytes32(from_period_id), to_bytes32(to_period_id), amount])

    def mark_paid_off_chain(self, period_id: str, line: LineLeaf, proof: Sequence[bytes], payment_ref: str) -> Call:
        """The payee's record of a payment made outside the contract; the reference's hash goes on chain."""
        return self._call(
            MARK_PAID_OFF_CHAIN, [to_bytes32(period_id), *_line_args(line), list(proof), text_hash(payment_ref)]
        )

    def fund(self, period_id: str, amount: int) -> Call:
        return self._call(FUND, [to_bytes32(period_id), amount])

    @staticmethod
    def funded_amount(call_data: str) -> int:
        """The amount of a recorded `fund` call: its last ABI word."""
        return int(call_data[-64:], 16)

    # ------------------------------------------------------------------ reads

    def period(self, period_id: str) -> OnChainPeriod:
        raw = read_period(self.contract, period_id)
        return OnChainPeriod(
            state=int(raw["state"]),
            root=to_0x(raw["root"]),
            token=str(raw["token"]),
            total=int(raw["total"]),
            funded=int(raw["funded"]),
            paid_off_chain=int(raw["paidOffChain"]),
            payout=str(raw["payout"]),
            line_count=int(raw["lineCount"]),
            dispute_ends=int(raw["disputeEnds"]),
            open_disputes=int(raw["openDisputes"]),
            inputs_hash=to_0x(raw["inputsHash"]),
            voided=int(raw["voided"]),
            carried_out=int(raw["carriedOut"]),
        )

    def dispute_of(self, period_id: str, dispute_id: int) -> OnChainDispute:
        raw = self.contract.functions.disputeOf(to_bytes32(period_id), dispute_id).call()
        return OnChainDispute(
            index=int(raw[0]),
            payee=str(raw[1]),
            line_amount=int(raw[2]),
            claimed_amount=int(raw[3]),
            corrected_amount=int(raw[4]),
            deadline=int(raw[5]),
            bond=int(raw[6]),
            state=DISPUTE_STATES[int(raw[7])],
            by_default=bool(raw[8]),
            reason=to_0x(raw[9]),
            decision_reason=to_0x(raw[10]),
        )

    def is_line_held(self, period_id: str, index: int) -> bool:
        return bool(self.contract.functions.isLineHeld(to_bytes32(period_id), index).call())

    def is_line_voided(self, period_id: str, index: int) -> bool:
        return bool(self.contract.functions.isLineVoided(to_bytes32(period_id), index).call())

    def arbiter(self) -> str:
        return str(self.contract.functions.arbiter().call())

    def pending_arbiter(self) -> str:
        return str(self.contract.functions.pendingArbiter().call())

    def dispute_terms(self) -> DisputeTerms:
        raw = self.contract.functions.disputeTerms().call()
        return DisputeTerms(int(raw[0]), bool(raw[1]), str(raw[2]), int(raw[3]), str(raw[4]))

    def dispute_count(self, period_id: str) -> int:
        return int(self.contract.functions.disputeCount(to_bytes32(period_id)).call())

    def report_digest(self, platform: str, report_id: bytes) -> bytes:
        """The struct hash anchored for a platform's report, zero if none was."""
        return bytes(self.contract.functions.reportDigest(web3_types.address(platform), report_id).call())

    def hash_report(self, report: ReportSummary) -> bytes:
        return bytes(self.contract.functions.hashReport(_report_args(report)).call())

    def verify_line(self, period_id: str, line: LineLeaf, proof: Sequence[bytes]) -> bool:
        return bool(self.contract.functions.verifyLine(to_bytes32(period_id), *_line_args(line), list(proof)).call())

    def is_line_settled(self, period_id: str, index: int) -> bool:
        return bool(self.contract.functions.isLineSettled(to_bytes32(period_id), index).call())


class PayoutGateway(Gateway):
    """A period's PeriodPayout, deployed by the registry at finalisation."""

    def __init__(self, w3: Web3, address: str) -> None:
        abi = artifacts.load(PERIOD_PAYOUT).abi
        super().__init__(w3.eth.contract(address=web3_types.address(address), abi=abi), PERIOD_PAYOUT)

    def claim(self, line: LineLeaf, proof: Sequence[bytes]) -> Call:
        return self._call(CLAIM, [*_line_args(line), list(proof)])


def text_hash(text: str) -> bytes:
    """The keccak-256 of a text kept off chain (a dispute's reason, a payment reference)."""
    return bytes(keccak(text=text))
