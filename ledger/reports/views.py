"""Reading reports and held rows, each role seeing only its own."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlmodel import col, select

from ledger.days import day_date
from ledger.db import session, text_rows
from ledger.errors import NotFound
from ledger.models import Account, ChainOp, PlayReport, Role
from ledger.reports.held_reasons import REASONS, Earning, HeldReasons

if TYPE_CHECKING:
    from ledger.service import Ledger


def day_text(day: int) -> str:
    return str(day_date(day))


def list_reports(
    ledger: Ledger, account: Account, *, offset: int = 0, limit: int = 50
) -> list[tuple[PlayReport, ChainOp | None]]:
    """A page of reports, each with its anchoring transaction (read in the same query: a page of
    500 reports is one round trip, not 501)."""
    with session(ledger.engine) as db:
        query = (
            select(PlayReport, ChainOp)
            .outerjoin(ChainOp, col(ChainOp.id) == col(PlayReport.op_id))
            .order_by(col(PlayReport.id))
            .offset(offset)
            .limit(limit)
        )
        if account.role not in (Role.auditor, Role.admin):
            query = query.where(PlayReport.platform_id == account.id)
        return [(report, op) for report, op in db.exec(query).all()]


def get_report(ledger: Ledger, account: Account, report_id: str, *, platform_id: int | None = None) -> PlayReport:
    platform_id = platform_id if account.role in (Role.auditor, Role.admin) and platform_id else account.id
    with session(ledger.engine) as db:
        report = db.exec(
            select(PlayReport).where(PlayReport.platform_id == platform_id, PlayReport.report_id == report_id)
        ).first()
    if report is None:
        raise NotFound("report", report_id)
    return report


HELD = (
    "SELECT r.id, rep.report_id, acc.name, w.work_id, r.territory, r.day, r.plays, r.valid_plays, r.watch_minutes, "
    "r.ad_revenue, rep.platform_id, r.work_pk, rep.first_day, rep.currency, rep.period_pk, sp.period_id, "
    "EXISTS (SELECT 1 FROM play_report c WHERE c.supersedes_pk = rep.id AND c.status <> 'receiving'), "
    "rep.period_pk IS NULL AND EXISTS (SELECT 1 FROM settlement_period p WHERE p.platform_id = rep.platform_id "
    "AND p.currency = rep.currency AND p.first_day = rep.first_day AND p.end_day = rep.end_day) "
    "FROM play_row r JOIN play_report rep ON rep.id = r.report_pk JOIN work w ON w.id = r.work_pk "
    "JOIN account acc ON acc.id = rep.platform_id LEFT JOIN released_row rr ON rr.row_pk = r.id "
    "LEFT JOIN held_release hr ON hr.id = rr.release_pk LEFT JOIN settlement_period sp ON sp.id = hr.applied_period_pk "
    "WHERE r.held AND rep.status = 'accepted' {where} ORDER BY r.id LIMIT :limit OFFSET :offset"
)
STATES = {"held": "AND rr.row_pk IS NULL", "released": "AND rr.row_pk IS NOT NULL", None: ""}


@dataclass(frozen=True)
class HeldRow:
    """A row of an accepted report that no licence covered when it arrived: still held, or
    released into a later period once a licence covered it."""

    row: int  # the play row's id
    report_id: str
    platform: str  # the platform's account name
    work_id: str
    territory: str
    date: date
    plays: int
    valid_plays: int
    watch_minutes: int
    ad_revenue: int
    reason_code: str  # a key of held_reasons.REASONS
    reason: str
    would_earn: Earning | None  # what it earns under the rule in force, after commission
    released_into: str | None  # the period id whose adjustments settled it


def held_rows(
    ledger: Ledger, account: Account, *, state: str | None = None, offset: int = 0, limit: int = 100
) -> list[HeldRow]:
    """Rows no licence covered: a platform sees its own, a rights holder those on its works,
    auditors all. `state`: only those still held, or only those released."""
    if account.role == Role.platform:
        where, params = "AND rep.platform_id = :me", {"me": account.id}
    elif account.role in (Role.auditor, Role.admin):
        where, params = "", {}
    else:
        where, params = "AND w.owner_id = :me", {"me": account.id}
    with session(ledger.engine) as db:
        query = text(HELD.format(where=f"{where} {STATES[state]}"))
        rows = text_rows(db, query, {**params, "limit": limit, "offset": offset})
        reasons = HeldReasons(db)
        return [_held_row(reasons, r) for r in rows]


def _held_row(reasons: HeldReasons, r: Sequence[Any]) -> HeldRow:
    (pk, report_id, platform, work_id, territory, day, plays, valid, minutes, ad) = r[:10]
    platform_id, work_pk, first_day, currency, period_pk, released_into, corrected, correcting = r[10:]
    if released_into is not None:
        code = "released"
    elif period_pk is not None and corrected:
        code = "corrected"
    elif correcting:
        code = "in_correction"
    else:
        code = reasons.why(platform_id, work_pk, territory, day)
    earning = reasons.would_earn(platform_id, work_pk, first_day, currency, (plays, valid, minutes, ad))
    if code == "covered_now" and earning is None:
        code = "no_rule"
    return HeldRow(
        row=pk,
        report_id=report_id,
        platform=platform,
        work_id=work_id,
        territory=territory,
        date=day_date(day),
        plays=plays,
        valid_plays=valid,
        watch_minutes=minutes,
        ad_revenue=ad,
        reason_code=code,
        reason=REASONS[code],
        would_earn=earning,
        released_into=released_into,
    )
