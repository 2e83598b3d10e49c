"""Statements, claims, off-chain payment records and funding of committed periods.

A statement is a payee's lines of one period, each with its Merkle proof and everything a
verifier needs to check it against the chain alone. Claims and funding are chain writes sent
from the account's own address, so they go through the outbox like every other write; the
service signs them only for custodial accounts.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, NoReturn

from eth_utils import is_address, to_checksum_address
from sqlmodel import Session, col, select

from ledger.chain.errors import ChainUnavailable
from ledger.chain.hexes import to_0x
from ledger.chain.outbox import Call, raise_for
from ledger.chain.settlement import SettlementGateway, payout_address
from ledger.currencies import in_both_units
from ledger.days import day_date
from ledger.db import session
from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.idempotency import key_reused
from ledger.merkle import StandardMerkleTree
from ledger.models import (
    Account,
    ChainOp,
    LineDispute,
    PeriodStatus,
    Role,
    SettlementPeriod,
    StatementLineRecord,
    Work,
)
from ledger.settlement.computation import committed_lines
from ledger.settlement.disputes import line_disputes, refuse_if_held
from ledger.settlement.lines import StatementLine, line_leaf_hash, tree_of
from ledger.settlement.periods import find_period, may_see_period

if TYPE_CHECKING:
    from ledger.service import Ledger

STATEMENT_FORMAT = "reelledger-statement/1"

_trees: OrderedDict[str, tuple[list[StatementLine], StandardMerkleTree]] = OrderedDict()
_trees_lock = threading.Lock()


def period_tree(db: Session, period: SettlementPeriod) -> tuple[list[StatementLine], StandardMerkleTree]:
    """The period's lines and tree, rebuilt from the stored lines (a few periods are cached)."""
    with _trees_lock:
        if period.period_id in _trees:
            _trees.move_to_end(period.period_id)
            return _trees[period.period_id]
    lines = committed_lines(db, period)
    tree = tree_of(lines)
    if to_0x(tree.root) != period.root:
        raise RuntimeError(f"the stored lines of period {period.period_id} no longer give its root")
    with _trees_lock:
        _trees[period.period_id] = (lines, tree)
        while len(_trees) > 4:
            _trees.popitem(last=False)
    return lines, tree


@dataclass(frozen=True)
class StatementEntry:
    """One line of a statement and its Merkle proof; `proof` is None when the reader asked for none."""

    line: StatementLine
    proof: tuple[str, ...] | None
    dispute: LineDispute | None = None  # the line's latest dispute


@dataclass(frozen=True)
class Statement:
    """A payee's lines of a period (every line when `payee` is None) and what a verifier needs."""

    chain_id: int
    contract: str
    period_id: str
    platform: str
    first_day: date
    last_day: date  # inclusive
    currency: str
    token: str
    payout: str
    root: str
    inputs_hash: str
    total: int
    line_count: int
    status: str
    payee: str | None
    payee_total: int
    lines: tuple[StatementEntry, ...]
    format: str = STATEMENT_FORMAT
    titles: dict[str, str] = field(default_factory=dict)  # work id -> title, for the lines' works and derivatives


def statement(
    ledger: Ledger, account: Account, period_id: str, *, payee: str | None = None, proofs: bool = True
) -> Statement:
    """A payee's lines with proofs (without, for a reader that only adds amounts up). Payees get
    their own; the period's platform, auditors and admins may ask for any payee's, or for every
    line (payee None)."""
    if payee:  # addresses compare in one case: checksummed, as lines and accounts hold them
        if not is_address(payee):
            raise InvalidInput("payee", f"{payee!r} is not an EVM address")
        payee = to_checksum_address(payee)
    payee = payee or (
        None if account.role in (Role.auditor, Role.admin, Role.arbiter, Role.platform) else account.address
    )
    with session(ledger.engine) as db:
        period = find_period(db, period_id)
        if payee != account.address and not may_see_period(account, period):
            raise NotFound("statement", f"of {payee} in period {period_id}")
        lines, tree = period_tree(db, period)
        disputed = line_disputes(db, period)
        wanted = [line for line in lines if payee is None or line.payee.lower() == payee.lower()]
        titles = work_titles(db, {w for line in wanted for w in (line.work_id, line.via_work_id) if w})
    chain = ledger.chain
    if not wanted and payee == account.address and not may_see_period(account, period):
        raise NotFound("statement", f"of {payee} in period {period_id}")
    first = day_date(period.first_day)
    registry = chain.addresses["SettlementRegistry"]
    return Statement(
        chain_id=chain.chain_id,
        contract=registry,
        period_id=period.period_id,
        platform=period.inputs["platform"],
        first_day=first,
        last_day=first + timedelta(days=period.end_day - period.first_day - 1),
        currency=period.currency,
        token=period.token,
        payout=payout_address(registry, period.period_id, period.root, period.token),
        root=period.root,
        inputs_hash=period.inputs_hash,
        total=int(period.total),
        line_count=period.line_count,
        status=period.status.value,
        payee=payee,
        payee_total=sum(line.amount for line in wanted),
        lines=tuple(
            StatementEntry(
                line=line,
                proof=tuple(to_0x(p) for p in tree.proof_of(line_leaf_hash(line))) if proofs else None,
                dispute=disputed.get(line.index),
            )
            for line in wanted
        ),
        titles=titles,
    )


def work_titles(db: Session, work_ids: set[str]) -> dict[str, str]:
    """Work id -> title of the works among `work_ids` this service knows."""
    ids = sorted(work_ids)
    titles: dict[str, str] = {}
    for start in range(0, len(ids), 5000):
        titles.update(
            db.exec(
                select(col(Work.work_id), col(Work.title)).where(col(Work.work_id).in_(ids[start : start + 5000]))
            ).all()
        )
    return titles


def payee_line(
    ledger: Ledger, account: Account, period_id: str, index: int
) -> tuple[SettlementPeriod, StatementLine, list[bytes]]:
    """The caller's own line with its proof: only a line's payee claims, disputes or marks it paid."""
    with session(ledger.engine) as db:
        period = find_period(db, period_id)
        record = db.exec(
            select(StatementLineRecord).where(
                StatementLineRecord.period_pk == period.id, StatementLineRecord.line_index == index
            )
        ).first()
        if record is None or record.payee != account.address:
            _refuse_line(db, account, period, index, exists=record is not None)
        lines, tree = period_tree(db, period)
    line = lines[index]
    return period, line, tree.proof_of(line_leaf_hash(line))


def _refuse_line(db: Session, account: Account, period: SettlementPeriod, index: int, *, exists: bool) -> NoReturn:
    """Refuse a line the caller may not act on, naming the caller's own lines so that a payee who
    took an index from somebody else's statement learns which to use. Whose a line is, and what it
    pays, stays unsaid; a caller with no line in a period it may not see learns nothing of it."""
    own = db.exec(
        select(col(StatementLineRecord.line_index))
        .where(StatementLineRecord.period_pk == period.id, StatementLineRecord.payee == account.address)
        .order_by(col(StatementLineRecord.line_index))
    ).all()
    yours = f"your lines: {', '.join(map(str, own))}" if own else "you have no line in it"
    if not own and not may_see_period(account, period):
        raise NotFound("line", f"{index} of period {period.period_id}")
    if not exists:
        raise NotFound("line", f"{index} of period {period.period_id} ({yours})")
    raise Forbidden(
        f"line {index} of period {period.period_id} is not yours ({yours}); "
        "only a line's payee claims, disputes or records it as paid",
        own_lines=list(own),
    )


def own_write(ledger: Ledger, account: Account, key: str, call: Call) -> ChainOp:
    """The account's own transaction, sent by the service for a custodial account."""
    chain = ledger.chain
    if not account.custodial:
        raise Conflict(
            "own_wallet",
            f"this account signs its own transactions: call {call.label} at {call.to} from {account.address}",
        )
    op = chain.outbox.submit(key, account.address, call)
    return raise_for(ledger.settle(op.id))


def claim(ledger: Ledger, account: Account, period_id: str, index: int) -> ChainOp:
    """Pay a line out to its payee in the period's token, from the period's payout contract."""
    period, line, proof = payee_line(ledger, account, period_id, index)
    _require_final(period, "claims open")
    refuse_if_held(ledger, period, index)
    payout = payout_address(ledger.chain.settlement.address, period.period_id, period.root, period.token)
    return own_write(
        ledger,
        account,
        f"claim:{ledger.chain.chain_id}:{period.period_id}:{index}",
        ledger.chain.payout(payout).claim(line.as_leaf(), proof),
    )


def _require_final(period: SettlementPeriod, what: str) -> None:
    """Refuse before finalisation, saying when that comes: the README's order (close, then claim)
    meets this refusal first, and "not finalised" alone leaves the payee guessing."""
    if period.status == PeriodStatus.finalised:
        return
    see = f"see `reelledger periods show {period.period_id}`"
    if period.dispute_ends is None:  # the root is not on chain yet: the window has not started
        when = "after the dispute window, which starts once the period's root is on chain"
    elif time.time() < period.dispute_ends:
        when = f"after {utc_text(period.dispute_ends)}, when the dispute window closes"
    else:
        closed = utc_text(period.dispute_ends)
        when = f"in a moment: the dispute window closed at {closed} and the period is being finalised"
    raise Conflict(
        "period_not_finalised",
        f"{what} {when}; the period is {period.status.value}; {see}",
        opens_at=period.dispute_ends,
    )


def utc_text(seconds: int) -> str:
    """Unix seconds as ISO 8601 in UTC, to the second: 2026-12-07T03:10:00Z."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def mark_paid_off_chain(ledger: Ledger, account: Account, period_id: str, index: int, *, payment_ref: str) -> ChainOp:
    """The payee records that this line was paid outside the contract; it can no longer be claimed.
    Claims and off-chain payments share one bitmap in the period's payout, deployed at finalisation.
    The reference's text stays here, its hash goes on chain."""
    period, line, proof = payee_line(ledger, account, period_id, index)
    _require_final(period, "a line is recorded as paid off-chain")
    refuse_if_held(ledger, period, index)
    return own_write(
        ledger,
        account,
        f"paid-off-chain:{ledger.chain.chain_id}:{period.period_id}:{index}",
        ledger.chain.settlement.mark_paid_off_chain(period.period_id, line.as_leaf(), proof, payment_ref),
    )


@dataclass(frozen=True)
class Funding:
    funded: int  # minor units of `currency` this funding paid in
    currency: str
    op: ChainOp  # its fund() transaction


def fund(
    ledger: Ledger,
    account: Account,
    period_id: str,
    *,
    amount: int | None = None,
    idempotency_key: str | None = None,
) -> Funding:
    """The platform pays the period's total (or part of it) into the contract. Under an
    Idempotency-Key a retry answers with the funding it made instead of paying again (a part
    paid twice would be money moved twice); the key with another amount is refused."""
    chain = ledger.chain
    with session(ledger.engine) as db:
        period = find_period(db, period_id)
    if account.id != period.platform_id:
        raise Forbidden("the period's platform funds it")
    if period.status == PeriodStatus.committing:
        raise Conflict("period_committing", "the period's root is not on chain yet")
    if idempotency_key:
        keyed = f"fund:{chain.chain_id}:{period.period_id}:key:{account.id}:{idempotency_key}"
        with session(ledger.engine) as db:
            earlier = db.exec(select(ChainOp).where(ChainOp.idempotency_key == keyed)).first()
        if earlier is not None:
            paid = SettlementGateway.funded_amount(earlier.data)
            if amount is not None and amount != paid:
                raise key_reused(idempotency_key, "funding")
            return Funding(paid, period.currency, raise_for(ledger.settle(earlier.id)))
    registry = chain.settlement
    try:
        state = registry.period(period.period_id)
    except OSError as exc:
        raise ChainUnavailable("the chain node does not answer") from exc
    owed = state.owed
    if owed == 0:
        raise Conflict("period_funded", "the period is fully funded (or its lines were paid off-chain)")
    amount = owed if amount is None else amount
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0 or amount > owed:
        raise InvalidInput("amount", f"the period still owes {in_both_units(owed, period.currency)}; fund 1 to {owed}")
    if not account.custodial:
        raise Conflict(
            "own_wallet",
            f"approve {amount} of token {period.token} to {registry.address} and call "
            f"fund({period.period_id}, {amount}) from {account.address}",
        )
    mint_test_tokens(ledger, period.token, account.address, amount)
    stage = (
        f"{period.period_id}:key:{account.id}:{idempotency_key}"
        if idempotency_key
        else f"{period.period_id}:{state.funded}:{amount}"
    )
    approve = chain.outbox.submit(
        f"fund-approve:{chain.chain_id}:{stage}",
        account.address,
        chain.token(period.token).approve(registry.address, amount),
    )
    raise_for(ledger.settle(approve.id))
    op = chain.outbox.submit(f"fund:{chain.chain_id}:{stage}", account.address, registry.fund(period.period_id, amount))
    return Funding(amount, period.currency, raise_for(ledger.settle(op.id)))


def mint_test_tokens(ledger: Ledger, token: str, holder: str, amount: int) -> None:
    """On a development chain (no REELLEDGER_SETTLEMENT_TOKEN, so the service deployed the test
    stablecoin and owns it) the service mints the platform what it is about to pay in, through
    the outbox like every other write of its signer. Never on a configured (real) token."""
    chain = ledger.chain
    stablecoin = chain.test_stablecoin
    if ledger.settings.settlement_token or stablecoin is None or token != stablecoin.address:
        return
    short = amount - stablecoin.balance_of(holder)
    if short > 0:
        key = f"test-mint:{chain.chain_id}:{holder}:{stablecoin.total_supply()}:{short}"
        raise_for(ledger.settle(chain.outbox.submit(key, chain.signer, stablecoin.mint(holder, short)).id))
