"""Closing a period: settle it once, store its lines, and commit its root on chain once.

A period is one platform's reports for one date range in one currency. Closing it writes the
period, its statement lines, each work's figures and the chain operation that commits the
root, in one transaction; the operation goes out through the outbox, so a node that is down
leaves the period `committing` until the node is back, and the contract refuses a second
root for the same period id. The reconciler then follows each period through its dispute
window to finalisation, and its disputes to their decisions.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from ledger.bulk import insert_many
from ledger.chain.hexes import to_0x
from ledger.db import commit_or, must_get, session
from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.models import (
    Account,
    Adjustment,
    ChainOp,
    HeldRelease,
    OpStatus,
    PeriodStatus,
    PlayReport,
    ReportStatus,
    Role,
    SettlementPeriod,
    Work,
)
from ledger.settlement.computation import (
    Computed,
    compute,
    gather,
    inputs_hash,
    period_id_of,
)
from ledger.settlement.engine import SettlementError
from ledger.settlement.locks import platform_lock
from ledger.settlement.releases import cover_open_rows, release_held

if TYPE_CHECKING:
    from ledger.chain.settlement import OnChainPeriod
    from ledger.service import Ledger

log = logging.getLogger("reelledger.settlement")

MAX_TOTAL = 2**88  # the contract keeps amounts in 88 bits
LINE_COLUMNS = (
    "period_pk",
    "line_index",
    "payee",
    "work_id",
    "amount",
    "rule_version",
    "split_version",
    "adjustment",
    "via_work_id",
)
WORK_COLUMNS = ("period_pk", "work_pk", "rule_pk", "earned", "commission", "recouped", "payable", "advance_after")


@dataclass(frozen=True)
class PeriodView:
    period: SettlementPeriod
    op: ChainOp
    finalise_op: ChainOp | None
    platform: str  # the platform's account name: what people know it by, rather than its address


def token_address(ledger: Ledger) -> str:
    return ledger.settings.settlement_token or ledger.chain.addresses["TestStablecoin"]


def close_period(
    ledger: Ledger,
    account: Account,
    *,
    currency: str,
    first_day: int,
    end_day: int,
    pools: dict[str, int] | None = None,
    platform_id: int | None = None,
) -> PeriodView:
    """Settle and commit a platform's period. Closing the same period again returns it."""
    pools = pools or {}
    platform = _platform_for(ledger, account, platform_id)
    for name, amount in pools.items():
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise InvalidInput("pools", f"pool {name!r}: an amount is a whole non-negative number of minor units")
    if not 0 <= first_day < end_day:
        raise InvalidInput("period_start", "a period starts in 1970 or later and ends after it starts")
    period_id = period_id_of(platform.address, currency, first_day, end_day)
    with session(ledger.engine) as db, platform_lock(db, platform.id):
        existing = db.exec(select(SettlementPeriod).where(SettlementPeriod.period_id == period_id)).first()
        if existing is not None:
            if existing.pools != {k: int(v) for k, v in sorted(pools.items())}:
                raise Conflict(
                    "period_committed", "the period is already closed, with other pool amounts", period_id=period_id
                )
            resend = existing.op_id
        else:
            resend = None
            op = _settle_and_record(ledger, db, platform, period_id, currency, first_day, end_day, pools)
    _send(ledger, resend or op.id)  # closing again also retries a commit the chain has not taken yet
    return get_period(ledger, account, period_id)


def _settle_and_record(
    ledger: Ledger,
    db: Session,
    platform: Account,
    period_id: str,
    currency: str,
    first_day: int,
    end_day: int,
    pools: dict[str, int],
) -> ChainOp:
    """Settle the period and write it, its lines and its commit operation in `db`'s transaction."""
    chain = ledger.chain
    reports = _check_reports(ledger, db, platform, currency, first_day, end_day)
    cover_open_rows(
        db, platform.id, [r.id for r in reports if r.status == ReportStatus.accepted and r.period_pk is None]
    )
    release_held(db, platform, currency)
    inputs, usage = gather(db, platform, currency, first_day, end_day, pools)
    try:
        computed = compute(db, inputs, usage)
    except SettlementError as exc:
        raise InvalidInput("pools", str(exc)) from None
    if not computed.lines:
        raise Conflict(
            "nothing_to_settle",
            "no row of this period earns anything for anyone (held or unsettled rows are listed with the reports)",
            unsettled=inputs["unsettled"],
        )
    tree = computed.tree
    assert tree is not None  # there are lines
    if computed.total >= MAX_TOTAL:
        raise InvalidInput("pools", f"the period's total {computed.total} is beyond what the contract records")
    digest = inputs_hash(inputs)
    token = token_address(ledger)
    period = SettlementPeriod(
        period_id=period_id,
        platform_id=platform.id,
        currency=currency,
        first_day=first_day,
        end_day=end_day,
        pools=inputs["pools"],
        token=token,
        root=to_0x(tree.root),  # computed.root
        total=computed.total,
        line_count=len(computed.lines),
        inputs=dict(inputs),
        inputs_hash=digest,
        op_id=0,
    )
    call = chain.settlement.commit_period(
        period_id=period_id,
        root=tree.root,
        token=token,
        total=computed.total,
        line_count=len(computed.lines),
        inputs_hash=digest,
    )
    op = chain.outbox.record(db, f"commit-period:{chain.chain_id}:{period_id}", chain.signer, call)
    period.op_id = op.id
    db.add(period)
    db.flush()
    _store_results(db, period, computed, platform)
    commit_or(db, Conflict("period_committed", "the period was closed by another request", period_id=period_id))
    return op


def _platform_for(ledger: Ledger, account: Account, platform_id: int | None) -> Account:
    if account.role == Role.platform and platform_id in (None, account.id):
        return account
    if account.role == Role.admin and platform_id is not None:
        with session(ledger.engine) as db:
            platform = db.get(Account, platform_id)
        if platform is None or platform.role != Role.platform:
            raise InvalidInput("platform_id", f"account {platform_id} is not a platform")
        return platform
    raise Forbidden("a platform closes its own periods (an admin may close one for a platform)")


def _check_reports(
    ledger: Ledger, db: Session, platform: Account, currency: str, first_day: int, end_day: int
) -> list[PlayReport]:
    """The period's reports, once each accepted one is anchored on chain."""
    reports = db.exec(
        select(PlayReport).where(
            PlayReport.platform_id == platform.id,
            PlayReport.currency == currency,
            PlayReport.first_day == first_day,
            PlayReport.end_day == end_day,
        )
    ).all()
    if not any(r.status == ReportStatus.accepted for r in reports):
        raise Conflict("no_reports", "no accepted play report covers exactly this period")
    if any(r.status == ReportStatus.receiving for r in reports):
        raise Conflict("report_in_flight", "a report of this period is still being received")
    unanchored = [
        r
        for r in reports
        if r.status == ReportStatus.accepted and must_get(db, ChainOp, r.op_id).status != OpStatus.confirmed
    ]
    for report in unanchored:  # a refused or unsent anchoring is tried again (the outbox repeats nothing sent)
        assert report.op_id is not None  # an accepted report has its anchoring
        _retry(ledger, report.op_id)
    waiting = [r.report_id for r in unanchored if must_get(db, ChainOp, r.op_id).status != OpStatus.confirmed]
    if waiting:
        raise Conflict(
            "reports_not_anchored", "reports are not anchored on chain yet; try again shortly", reports=waiting[:20]
        )
    return list(reports)


def _store_results(db: Session, period: SettlementPeriod, computed: Computed, platform: Account) -> None:
    raw = db.connection().connection
    dialect = db.get_bind().dialect.name
    insert_many(
        raw,
        dialect,
        "statement_line",
        LINE_COLUMNS,
        [
            (
                period.id,
                line.index,
                line.payee,
                line.work_id,
                line.amount,
                line.rule_version,
                line.split_version,
                line.adjustment,
                line.via_work_id,
            )
            for line in computed.lines
        ],
    )
    works = (
        dict(db.exec(select(col(Work.work_id), col(Work.id)).where(col(Work.work_id).in_(list(computed.works)))).all())
        if len(computed.works) <= 5000
        else dict(db.exec(select(Work.work_id, Work.id)).all())
    )
    rules = computed.inputs["rules"]
    insert_many(
        raw,
        dialect,
        "work_settlement",
        WORK_COLUMNS,
        [
            (
                period.id,
                works[w.work_id],
                rules[w.work_id]["pk"],
                w.earned,
                w.commission,
                w.recouped,
                w.payable,
                w.advance_after,
            )
            for w in computed.works.values()
        ],
    )
    for report in computed.inputs["reports"]:
        settled = must_get(db, PlayReport, report["pk"])
        settled.period_pk = period.id
        db.add(settled)
    for adjustment in computed.inputs["adjustments"]:
        applied = must_get(db, Adjustment, adjustment["pk"])
        applied.applied_period_pk = period.id
        db.add(applied)
    for release in computed.inputs.get("held_releases", []):
        released = must_get(db, HeldRelease, release["pk"])
        released.applied_period_pk = period.id
        db.add(released)
    for (payee, work_id), amount in computed.carried.items():
        db.add(
            Adjustment(
                platform_id=platform.id,
                currency=period.currency,
                source_period_pk=period.id,
                payee=payee,
                work_id=work_id,
                amount=amount,
            )
        )


def _retry(ledger: Ledger, op_id: int) -> None:
    from ledger.chain.errors import ChainUnavailable

    try:
        ledger.chain.outbox.send(op_id)
        ledger.settle(op_id, timeout=2)
    except ChainUnavailable:
        pass


def _send(ledger: Ledger, op_id: int) -> None:
    from ledger.chain.errors import ChainUnavailable

    try:
        ledger.chain.outbox.send(op_id)
        ledger.settle(op_id)
    except ChainUnavailable:
        log.warning("the period waits in 'committing' until the chain node answers")
    advance_periods(ledger)


def advance_periods(ledger: Ledger) -> int:
    """Move periods along: committing -> committed once the root is on chain, committed ->
    finalised once the dispute window has passed (a disputed line stays held; every other line
    pays on time), and follow disputes on chain (`disputes.refresh`: decisions, expiries, carried
    money). Returns how many periods moved; with the node down nothing moves and the next pass
    tries again. The reconciler runs this on every pass, and so do the writes that can move a
    period (closing one); reading a period never does."""
    from ledger.chain.errors import ChainUnavailable

    try:
        return _advance(ledger)
    except (ChainUnavailable, OSError) as exc:
        log.info("periods wait for the chain node: %s", type(exc).__name__)
        return 0


def _advance(ledger: Ledger) -> int:
    chain = ledger.chain
    moved = 0
    with session(ledger.engine) as db:
        waiting = db.exec(select(SettlementPeriod).where(SettlementPeriod.status != PeriodStatus.finalised)).all()
    registry = chain.settlement
    for period in waiting:
        with session(ledger.engine) as db:
            row = must_get(db, SettlementPeriod, period.id)
            op = must_get(db, ChainOp, row.op_id)
            if row.status == PeriodStatus.committing:
                if op.status != OpStatus.confirmed:
                    continue
                row.dispute_ends = registry.period(row.period_id).dispute_ends
                row.status = PeriodStatus.committed
                db.add(row)
                db.commit()
                moved += 1
            if row.status == PeriodStatus.committed:
                moved += _finalise(ledger, db, row)
    from ledger.settlement import disputes  # it reads periods through this module

    disputes.refresh(ledger)
    return moved


def _finalise(ledger: Ledger, db: Session, row: SettlementPeriod) -> int:
    chain = ledger.chain
    if row.finalise_op_id is None:
        # The next block is stamped with the time it is mined; a quiet node's latest block may be old.
        now = max(time.time(), chain.latest_block_time())
        if row.dispute_ends is None or now < row.dispute_ends:
            return 0
        call = chain.settlement.finalize(row.period_id)
        op = chain.outbox.record(db, f"finalise-period:{chain.chain_id}:{row.period_id}", chain.signer, call)
        row.finalise_op_id = op.id
        db.add(row)
        db.commit()
        chain.outbox.send(op.id)
    op = chain.outbox.get(row.finalise_op_id)
    if op.status == OpStatus.confirmed:
        row.status = PeriodStatus.finalised
        db.add(row)
        db.commit()
        return 1
    if op.status in (OpStatus.rejected, OpStatus.reverted):  # refused (the node's clock lagged): try again later
        row.finalise_op_id = None
        db.add(row)
        db.commit()
    return 0


# ------------------------------------------------------------------ reading


def _view(db: Session, period: SettlementPeriod) -> PeriodView:
    return PeriodView(
        period,
        must_get(db, ChainOp, period.op_id),
        db.get(ChainOp, period.finalise_op_id) if period.finalise_op_id else None,
        must_get(db, Account, period.platform_id).name,
    )


def may_see_period(account: Account, period: SettlementPeriod) -> bool:
    """Auditors, admins and the arbiter see every period, a platform its own; payees see theirs
    through statements."""
    return account.role in (Role.auditor, Role.admin, Role.arbiter) or account.id == period.platform_id


def find_period(db: Session, period_id: str) -> SettlementPeriod:
    period = db.exec(select(SettlementPeriod).where(SettlementPeriod.period_id == period_id.lower())).first()
    if period is None:
        raise NotFound("period", period_id)
    return period


def get_period(ledger: Ledger, account: Account, period_id: str) -> PeriodView:
    with session(ledger.engine) as db:
        period = find_period(db, period_id)
        if not may_see_period(account, period) and not _is_payee(db, account, period):
            raise NotFound("period", period_id)
        return _view(db, period)


def _is_payee(db: Session, account: Account, period: SettlementPeriod) -> bool:
    from ledger.models import StatementLineRecord

    return (
        db.exec(
            select(StatementLineRecord.id).where(
                StatementLineRecord.period_pk == period.id, StatementLineRecord.payee == account.address
            )
        ).first()
        is not None
    )


def list_periods(ledger: Ledger, account: Account) -> list[PeriodView]:
    from ledger.models import StatementLineRecord

    with session(ledger.engine) as db:
        query = select(SettlementPeriod).order_by(col(SettlementPeriod.id))
        if account.role == Role.platform:
            query = query.where(SettlementPeriod.platform_id == account.id)
        elif account.role not in (Role.auditor, Role.admin, Role.arbiter):
            mine = select(StatementLineRecord.period_pk).where(StatementLineRecord.payee == account.address)
            query = query.where(col(SettlementPeriod.id).in_(mine))
        return [_view(db, p) for p in db.exec(query).all()]


def wait_for_status(ledger: Ledger, period_id: str, status: PeriodStatus, timeout: float) -> SettlementPeriod:
    """For tests and the CLI: poll until the period reaches `status`."""
    deadline = time.monotonic() + timeout
    while True:
        advance_periods(ledger)
        with session(ledger.engine) as db:
            period = find_period(db, period_id)
        if period.status == status or time.monotonic() > deadline:
            return period
        time.sleep(0.2)


def on_chain(ledger: Ledger, period: SettlementPeriod) -> OnChainPeriod | None:
    """The period as the registry holds it, or None while the node does not answer."""
    try:
        return ledger.chain.settlement.period(period.period_id)
    except OSError:
        return None
