"""Days as the ledger counts them: whole days since 1970-01-01, the unit of report periods,
settlement periods and rule versions, in the database and on chain."""

from __future__ import annotations

from datetime import date, timedelta

EPOCH = date(1970, 1, 1)


def day_number(day: date) -> int:
    return (day - EPOCH).days


def day_date(number: int) -> date:
    return EPOCH + timedelta(days=number)
