"""Disputes of statement lines: filed by a payee, decided by a neutral arbiter before a deadline.

A disputed line is held (not claimable, not payable off-chain) while the rest of its period
pays on time. The chain is the record: an arbiter outside the service (a multisig, a rights
society) decides there directly, so the `line_dispute` rows are a cache the reconciler
refreshes from the registry's views (`refresh`), expiring overdue disputes on the way. An
upheld dispute voids the line; its corrected amount becomes an adjustment of the platform's
next closed period, like a correction, and the voided money is carried into that period's
payout once it is committed (`carry_voided`).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ledger.chain.errors import ChainUnavailable
from ledger.chain.hexes import to_0x
from ledger.chain.settlement import OnChainDispute, text_hash
from ledger.currencies import in_both_units
from ledger.db import session
from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.models import (
    Account,
    Adjustment,
    ChainOp,
    DisputeState,
    LineDispute,
    OpStatus,
    PeriodStatus,
    Role,
    SettlementPeriod,
    StatementLineRecord,
    Work,
    utcnow,
)
from ledger.settlement.periods import find_period

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("reelledger.disputes")

MAX_AMOUNT = 2**88  # the contract keeps amounts in 88 bits
# A line's dispute state as its payee's statement shows it.
LINE_STATE = {DisputeState.open: "held", DisputeState.upheld: "voided", DisputeState.rejected: "released"}


def _decided_on_chain(on_chain: OnChainDispute) -> bool:
    return on_chain.state in (DisputeState.upheld.value, DisputeState.rejected.value)


@dataclass(frozen=True)
class DisputeView:
    dispute: LineDispute
    period_id: str
    currency: str  # the period's: the line amounts are minor units of it
    dispute_op: ChainOp | None
    decision_op: ChainOp | None
    carried_to: str | None  # the period id the voided money went to


# ------------------------------------------------------------------ filing


def file(
    ledger: Ledger, account: Account, period_id: str, index: int, *, reason: str, claimed: int
) -> tuple[ChainOp, DisputeView | None]:
    """The payee disputes one of its lines during the dispute window, saying what the line should
    have been. The reason's text stays here, its hash goes on chain; a bond, if the deployment
    asks for one, is approved from the payee's custodial wallet first."""
    from ledger.settlement.payouts import own_write, payee_line

    if isinstance(claimed, bool) or not isinstance(claimed, int) or not 0 <= claimed < MAX_AMOUNT:
        raise InvalidInput("claimed_amount", f"a whole number of minor units from 0 to {MAX_AMOUNT - 1}")
    period, line, proof = payee_line(ledger, account, period_id, index)
    if period.status == PeriodStatus.committing:
        raise Conflict("not_disputable", "the period's root is not on chain yet")
    registry = ledger.chain.settlement
    try:  # the number of disputes so far makes a new dispute after a decided one a new write
        count = registry.dispute_count(period.period_id)
    except OSError as exc:
        raise ChainUnavailable("the chain node does not answer") from exc
    if line.amount == claimed:
        raise InvalidInput(
            "claimed_amount",
            f"the line already pays {in_both_units(claimed, period.currency)}: a dispute claims another amount",
        )
    _approve_bond(ledger, account, f"{period.period_id}:{index}:{count}")
    op = own_write(
        ledger,
        account,
        f"dispute:{ledger.chain.chain_id}:{period.period_id}:{index}:{count}",
        registry.dispute(period.period_id, line.as_leaf(), proof, reason, claimed),
    )
    reason_hash = to_0x(text_hash(reason))
    refresh_period(ledger, period, texts={(index, reason_hash): reason}, op_id=op.id)
    with session(ledger.engine) as db:  # the reconciler may have recorded it first, without the text
        db.exec(
            update(LineDispute)
            .where(
                col(LineDispute.period_pk) == period.id,
                col(LineDispute.line_index) == index,
                col(LineDispute.reason_hash) == reason_hash,
                col(LineDispute.reason).is_(None),
            )
            .values(reason=reason, dispute_op_id=op.id)
        )
        db.commit()
        row = db.exec(
            select(LineDispute)
            .where(LineDispute.period_pk == period.id, LineDispute.line_index == index)
            .order_by(col(LineDispute.dispute_id).desc())
        ).first()
        return op, _view(db, period, row) if row else None


def _approve_bond(ledger: Ledger, account: Account, stage: str) -> None:
    terms = ledger.chain.settlement.dispute_terms()
    if not terms.bond_amount:
        return
    from ledger.settlement.payouts import mint_test_tokens, own_write

    chain = ledger.chain
    mint_test_tokens(ledger, terms.bond_token, account.address, terms.bond_amount)
    own_write(
        ledger,
        account,
        f"dispute-bond:{chain.chain_id}:{stage}",
        chain.token(terms.bond_token).approve(chain.settlement.address, terms.bond_amount),
    )


# ----------------------------------------------------------------- deciding


def decide(
    ledger: Ledger,
    account: Account,
    period_id: str,
    dispute_id: int,
    *,
    upheld: bool,
    corrected: int | None,
    reason: str,
) -> tuple[ChainOp, DisputeView]:
    """The arbiter decides an open dispute before its deadline, from the arbiter account's own
    custodial key. Upheld: `corrected` is what the line should have paid; rejected: none."""
    from ledger.settlement.payouts import own_write

    if account.role != Role.arbiter:
        raise Forbidden("the arbiter decides disputes")
    if upheld and corrected is None:
        raise InvalidInput("corrected_amount", "an upheld dispute says what the line should have paid")
    if not upheld and corrected:
        raise InvalidInput("corrected_amount", "a rejected dispute corrects nothing; leave it out or 0")
    corrected = corrected or 0
    if not 0 <= corrected < MAX_AMOUNT:
        raise InvalidInput("corrected_amount", f"a whole number of minor units from 0 to {MAX_AMOUNT - 1}")
    chain = ledger.chain
    with session(ledger.engine) as db:
        period = find_period(db, period_id)
    refresh_period(ledger, period)
    with session(ledger.engine) as db:
        row = _find(db, period, dispute_id)
    seat = chain.settlement.arbiter()
    if seat.lower() != account.address.lower():
        raise Conflict("not_arbiter", f"the arbiter seat is held by {seat}; this account does not hold it")
    key = f"decide:{chain.chain_id}:{period.period_id}:{dispute_id}"
    if row.state != DisputeState.open and chain.outbox.by_key(key) is None:
        raise Conflict("dispute_decided", f"dispute {dispute_id} is already {row.state.value}")
    if row.state == DisputeState.open and max(time.time(), chain.latest_block_time()) >= row.deadline:
        raise Conflict("decision_window_closed", f"the deadline {row.deadline} has passed: the default outcome applies")
    op = own_write(
        ledger,
        account,
        key,
        chain.settlement.decide(period.period_id, dispute_id, upheld=upheld, corrected_amount=corrected, reason=reason),
    )
    with session(ledger.engine) as db:
        db.exec(
            update(LineDispute)
            .where(col(LineDispute.id) == row.id, col(LineDispute.decision_reason).is_(None))
            .values(decision_reason=reason, decision_op_id=op.id)
        )
        db.commit()
    refresh_period(ledger, period)
    with session(ledger.engine) as db:
        return op, _view(db, period, _find(db, period, dispute_id))


def _find(db: Session, period: SettlementPeriod, dispute_id: int) -> LineDispute:
    row = db.exec(
        select(LineDispute).where(LineDispute.period_pk == period.id, LineDispute.dispute_id == dispute_id)
    ).first()
    if row is None:
        raise NotFound("dispute", f"{dispute_id} of period {period.period_id}")
    return row


# ------------------------------------------------------- following the chain


def refresh(ledger: Ledger) -> int:
    """One reconciler pass: new disputes of committed periods, decisions taken on chain, overdue
    disputes expired, voided money carried. Returns how many disputes changed."""
    with session(ledger.engine) as db:
        open_pks = select(LineDispute.period_pk).where(LineDispute.state == DisputeState.open)
        periods = db.exec(
            select(SettlementPeriod).where(
                or_(col(SettlementPeriod.status) == PeriodStatus.committed, col(SettlementPeriod.id).in_(open_pks))
            )
        ).all()
    changed = sum(refresh_period(ledger, p) for p in periods)
    _expire_overdue(ledger)
    carry_voided(ledger)
    return changed


def refresh_period(
    ledger: Ledger,
    period: SettlementPeriod,
    *,
    texts: dict[tuple[int, str], str] | None = None,
    op_id: int | None = None,
) -> int:
    """Bring the period's dispute rows in line with the chain. `texts`: reason texts filed here,
    by (line index, reason hash), kept with the rows they hashed to."""
    if period.status == PeriodStatus.committing:
        return 0
    registry = ledger.chain.settlement
    count = registry.dispute_count(period.period_id)
    with session(ledger.engine) as db:
        known = {r.dispute_id: r for r in db.exec(select(LineDispute).where(LineDispute.period_pk == period.id)).all()}
    changed = 0
    for number in range(count):
        row = known.get(number)
        if row is not None and row.state != DisputeState.open:
            continue
        on_chain = registry.dispute_of(period.period_id, number)
        if row is None:
            changed += _record(ledger, period, number, on_chain, texts or {}, op_id)
        elif _decided_on_chain(on_chain):
            changed += _decided(ledger, period, row, on_chain)
    return changed


def _record(
    ledger: Ledger,
    period: SettlementPeriod,
    number: int,
    on_chain: OnChainDispute,
    texts: dict[tuple[int, str], str],
    op_id: int | None,
) -> int:
    reason_hash = on_chain.reason
    reason = texts.get((on_chain.index, reason_hash))
    with session(ledger.engine) as db:
        line = db.exec(
            select(StatementLineRecord).where(
                StatementLineRecord.period_pk == period.id, StatementLineRecord.line_index == on_chain.index
            )
        ).one()
        row = LineDispute(
            period_pk=period.id,
            dispute_id=number,
            line_index=on_chain.index,
            payee=line.payee,
            work_id=line.work_id,
            line_amount=int(line.amount),
            claimed_amount=on_chain.claimed_amount,
            reason=reason,
            reason_hash=reason_hash,
            deadline=on_chain.deadline,
            bond=on_chain.bond,
            dispute_op_id=op_id if reason is not None else None,
        )
        db.add(row)
        try:
            db.commit()
        except IntegrityError:  # another pass recorded it first
            db.rollback()
            return 0
        db.refresh(row)
    if _decided_on_chain(on_chain):
        _decided(ledger, period, row, on_chain)
    return 1


def _decided(ledger: Ledger, period: SettlementPeriod, row: LineDispute, on_chain: OnChainDispute) -> int:
    """Record a decision once (a conditional update: two passes add one adjustment); an upheld
    dispute's corrected amount becomes an adjustment of the platform's next closed period."""
    state = DisputeState(on_chain.state)
    with session(ledger.engine) as db:
        result = db.exec(
            update(LineDispute)
            .where(col(LineDispute.id) == row.id, col(LineDispute.state) == DisputeState.open)
            .values(
                state=state,
                by_default=on_chain.by_default,
                corrected_amount=on_chain.corrected_amount if state == DisputeState.upheld else 0,
                decision_reason_hash=on_chain.decision_reason,
                updated_at=utcnow(),
            )
        )
        if not result.rowcount:
            return 0
        if state == DisputeState.upheld and on_chain.corrected_amount:
            db.add(
                Adjustment(
                    platform_id=period.platform_id,
                    currency=period.currency,
                    source_period_pk=period.id,
                    dispute_pk=row.id,
                    payee=row.payee,
                    work_id=row.work_id,
                    amount=on_chain.corrected_amount,
                )
            )
        db.commit()
    log.info("dispute %s of period %s %s", row.dispute_id, period.period_id, state.value)
    return 1


def _expire_overdue(ledger: Ledger) -> None:
    """Anyone may expire a dispute past its deadline; the service does, so the default applies on time."""
    chain = ledger.chain
    now = max(time.time(), chain.latest_block_time())
    with session(ledger.engine) as db:
        overdue = db.exec(
            select(LineDispute, SettlementPeriod.period_id)
            .join(SettlementPeriod, col(SettlementPeriod.id) == col(LineDispute.period_pk))
            .where(LineDispute.state == DisputeState.open, col(LineDispute.deadline) <= now)
        ).all()
    for row, period_id in overdue:
        key = f"expire-dispute:{chain.chain_id}:{period_id}:{row.dispute_id}"
        op = chain.outbox.by_key(key)
        if op is not None and op.status in (OpStatus.reverted, OpStatus.rejected):
            continue  # decided in the same block, most likely: the next refresh reads the outcome
        if op is None:
            chain.outbox.submit(key, chain.signer, chain.settlement.expire(period_id, row.dispute_id))


def carry_voided(ledger: Ledger) -> None:
    """Move the money of each voided line into the payout of the period its corrected amount was
    settled in, once that period is committed and the disputed one final: counted there as the
    platform's funding, so the platform pays in only the rest."""
    chain = ledger.chain
    with session(ledger.engine) as db:
        waiting = db.exec(
            select(LineDispute, Adjustment.applied_period_pk)
            .join(Adjustment, col(Adjustment.dispute_pk) == col(LineDispute.id))
            .where(col(LineDispute.carry_op_id).is_(None), col(Adjustment.applied_period_pk).is_not(None))
        ).all()
        for row, target_pk in waiting:
            source = db.get(SettlementPeriod, row.period_pk)
            target = db.get(SettlementPeriod, target_pk)
            assert source is not None and target is not None  # foreign keys
            if source.status != PeriodStatus.finalised or target.status == PeriodStatus.committing:
                continue
            left = chain.settlement.period(source.period_id)
            owed = chain.settlement.period(target.period_id).owed
            amount = min(int(row.line_amount), left.voided - left.carried_out, owed)
            if amount <= 0:
                continue
            call = chain.settlement.carry_voided(source.period_id, target.period_id, amount)
            key = f"carry-voided:{chain.chain_id}:{source.period_id}:{row.dispute_id}"
            op = chain.outbox.record(db, key, chain.signer, call)
            row.carry_op_id = op.id
            row.carried_to_pk = target.id
            db.add(row)
            db.commit()
            chain.outbox.send(op.id)  # the next pass reads the outcome


# ------------------------------------------------------------------ reading


def may_see(db: Session, account: Account, row: LineDispute, period: SettlementPeriod) -> bool:
    """The payee its own, the platform those of its periods, a rights holder those on its works;
    auditors, admins and the arbiter all."""
    if account.role in (Role.auditor, Role.admin, Role.arbiter):
        return True
    if row.payee.lower() == account.address.lower() or period.platform_id == account.id:
        return True
    if account.role == Role.rights_holder:
        return (
            db.exec(select(Work.id).where(Work.work_id == row.work_id, Work.owner_id == account.id)).first() is not None
        )
    return False


def list_disputes(
    ledger: Ledger,
    account: Account,
    *,
    period_id: str | None = None,
    state: DisputeState | None = None,
    payee: str | None = None,
    work_id: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[DisputeView]:
    with session(ledger.engine) as db:
        query = select(LineDispute, SettlementPeriod).join(
            SettlementPeriod, col(SettlementPeriod.id) == col(LineDispute.period_pk)
        )
        if period_id is not None:
            query = query.where(SettlementPeriod.id == find_period(db, period_id).id)
        if state is not None:
            query = query.where(LineDispute.state == state)
        if payee is not None:
            query = query.where(col(LineDispute.payee) == payee)
        if work_id is not None:
            query = query.where(col(LineDispute.work_id) == work_id.lower())
        if account.role == Role.platform:
            query = query.where(SettlementPeriod.platform_id == account.id)
        elif account.role == Role.rights_holder:
            owned = select(Work.work_id).where(Work.owner_id == account.id)
            query = query.where((col(LineDispute.payee) == account.address) | col(LineDispute.work_id).in_(owned))
        elif account.role not in (Role.auditor, Role.admin, Role.arbiter):
            query = query.where(col(LineDispute.payee) == account.address)
        rows = db.exec(query.order_by(col(LineDispute.id)).offset(offset).limit(limit)).all()
        return [_view(db, period, row) for row, period in rows]


def line_disputes(db: Session, period: SettlementPeriod) -> dict[int, LineDispute]:
    """Each disputed line's latest dispute, by line index."""
    rows = db.exec(
        select(LineDispute).where(LineDispute.period_pk == period.id).order_by(col(LineDispute.dispute_id))
    ).all()
    return {r.line_index: r for r in rows}


def refuse_if_held(ledger: Ledger, period: SettlementPeriod, index: int) -> None:
    """A held line is not claimed or paid off-chain; a voided one never is: a clear 409 first."""
    try:
        refresh_period(ledger, period)
    except OSError:
        pass  # the contract refuses a held line anyway
    with session(ledger.engine) as db:
        row = line_disputes(db, period).get(index)
    if row is None or row.state == DisputeState.rejected:
        return
    if row.state == DisputeState.open:
        raise Conflict(
            "line_held",
            f"line {index} is disputed (dispute {row.dispute_id}): it is held until the arbiter decides or its "
            f"deadline {row.deadline} passes",
            dispute_id=row.dispute_id,
            deadline=row.deadline,
        )
    raise Conflict(
        "line_voided",
        f"dispute {row.dispute_id} was upheld: line {index} is void; its corrected amount is paid in a later period",
        dispute_id=row.dispute_id,
    )


def _view(db: Session, period: SettlementPeriod, row: LineDispute) -> DisputeView:
    carried = db.get(SettlementPeriod, row.carried_to_pk) if row.carried_to_pk else None
    return DisputeView(
        row,
        period.period_id,
        period.currency,
        db.get(ChainOp, row.dispute_op_id) if row.dispute_op_id else None,
        db.get(ChainOp, row.decision_op_id) if row.decision_op_id else None,
        carried.period_id if carried else None,
    )
