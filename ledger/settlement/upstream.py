"""What reached a payee through derivatives: its upstream lines, period by period.

An upstream line pays the payees of a parent work out of what a derivative earned (its
`via_work_id`); every such line is already merged per (payee, work, derivative) in its period,
so the view is the payee's upstream lines with their periods and the works' titles.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from eth_utils import is_address, to_checksum_address
from sqlmodel import col, select

from ledger.days import day_date
from ledger.db import session
from ledger.errors import Forbidden, InvalidInput
from ledger.models import Account, Role, SettlementPeriod, StatementLineRecord
from ledger.settlement.payouts import work_titles

if TYPE_CHECKING:
    from ledger.service import Ledger


@dataclass(frozen=True)
class UpstreamRevenue:
    period_id: str
    first_day: date
    last_day: date  # inclusive
    currency: str
    status: str
    line_index: int
    payee: str
    work_id: str
    work_title: str | None
    via_work_id: str
    via_title: str | None
    amount: int


def upstream_revenue(ledger: Ledger, account: Account, *, payee: str | None = None) -> list[UpstreamRevenue]:
    """The payee's upstream lines, oldest period first. A payee sees their own; auditors and
    admins may name any payee."""
    if payee:
        if not is_address(payee):
            raise InvalidInput("payee", f"{payee!r} is not an EVM address")
        payee = to_checksum_address(payee)
        if payee != account.address and account.role not in (Role.auditor, Role.admin):
            raise Forbidden("a payee sees the revenue that reached them; auditors and admins may name a payee")
    payee = payee or account.address
    with session(ledger.engine) as db:
        found = db.exec(
            select(StatementLineRecord, SettlementPeriod)
            .join(SettlementPeriod, col(SettlementPeriod.id) == col(StatementLineRecord.period_pk))
            .where(StatementLineRecord.payee == payee, col(StatementLineRecord.via_work_id).is_not(None))
            .order_by(col(SettlementPeriod.first_day), col(SettlementPeriod.id), col(StatementLineRecord.line_index))
        ).all()
        titles = work_titles(db, {w for line, _ in found for w in (line.work_id, line.via_work_id) if w})
    revenue = []
    for line, period in found:
        assert line.via_work_id is not None  # selected for it
        first = day_date(period.first_day)
        revenue.append(
            UpstreamRevenue(
                period_id=period.period_id,
                first_day=first,
                last_day=first + timedelta(days=period.end_day - period.first_day - 1),
                currency=period.currency,
                status=period.status.value,
                line_index=line.line_index,
                payee=line.payee,
                work_id=line.work_id,
                work_title=titles.get(line.work_id),
                via_work_id=line.via_work_id,
                via_title=titles.get(line.via_work_id),
                amount=int(line.amount),
            )
        )
    return revenue
