"""Reading reports and held rows, each role seeing only its own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlmodel import col, select

from ledger.days import day_date
from ledger.db import session, text_rows
from ledger.errors import NotFound
from ledger.models import Account, PlayReport, Role

if TYPE_CHECKING:
    from ledger.service import Ledger


def day_text(day: int) -> str:
    return str(day_date(day))


def list_reports(ledger: Ledger, account: Account, *, offset: int = 0, limit: int = 50) -> list[PlayReport]:
    with session(ledger.engine) as db:
        query = select(PlayReport).order_by(col(PlayReport.id)).offset(offset).limit(limit)
        if account.role not in (Role.auditor, Role.admin):
            query = query.where(PlayReport.platform_id == account.id)
        return list(db.exec(query).all())


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
    "SELECT rep.report_id, acc.name, w.work_id, r.territory, r.day, r.plays, r.valid_plays, r.watch_minutes, "
    "r.ad_revenue FROM play_row r JOIN play_report rep ON rep.id = r.report_pk JOIN work w ON w.id = r.work_pk "
    "JOIN account acc ON acc.id = rep.platform_id WHERE r.held AND rep.status = 'accepted' {where} "
    "ORDER BY r.id LIMIT :limit OFFSET :offset"
)


HELD_REASON = "no valid licence covers this work, territory, right and date"


@dataclass(frozen=True)
class HeldRow:
    """A row of an accepted report that no licence covered, kept out of settlement."""

    report_id: str
    platform: str  # the platform's account name
    work_id: str
    territory: str
    date: date
    plays: int
    valid_plays: int
    watch_minutes: int
    ad_revenue: int
    reason: str = HELD_REASON


def held_rows(ledger: Ledger, account: Account, *, offset: int = 0, limit: int = 100) -> list[HeldRow]:
    """Rows no licence covered: a platform sees its own, a rights holder those on its works."""
    if account.role == Role.platform:
        where, params = "AND rep.platform_id = :me", {"me": account.id}
    elif account.role in (Role.auditor, Role.admin):
        where, params = "", {}
    else:
        where, params = "AND w.owner_id = :me", {"me": account.id}
    with session(ledger.engine) as db:
        query = text(HELD.format(where=where))
        rows = text_rows(db, query, {**params, "limit": limit, "offset": offset})
    return [
        HeldRow(
            report_id=r[0],
            platform=r[1],
            work_id=r[2],
            territory=r[3],
            date=day_date(r[4]),
            plays=r[5],
            valid_plays=r[6],
            watch_minutes=r[7],
            ad_revenue=r[8],
        )
        for r in rows
    ]
