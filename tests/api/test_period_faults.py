"""A database failure at any step of closing a settlement period (its statement lines, its
commitment's outbox operation, the reports it takes in) leaves either nothing or the period with
its commitment, which is then sent once; closing it again commits it on chain exactly once.
SQLite and PostgreSQL, real HTTP on loopback."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import select

from ledger.db import session
from ledger.models import SettlementPeriod
from tests.helpers.settlement import close, make_deal, post_report, rows
from tests.helpers.write_faults import a_request_thread, answered, events, fault_every_step, fault_figures  # noqa: F401  (figures with -s)

PERIODS = 24


def test_a_database_failure_at_any_step_of_a_period_close_commits_nothing_without_its_period(settlement_service):
    service = settlement_service
    ledger = service.ledger
    deal = make_deal(service)
    days = [deal.end - timedelta(days=i) for i in range(PERIODS)]  # one-day periods, each with its own report
    for day in days:
        one_day = [{**row, "date": str(day)} for row in rows(deal, days=1)]
        response = post_report(deal, f"day-{day}", one_day, period_start=str(day), period_end=str(day))
        assert response.status_code == 201, response.text
    assigned: dict[str, object] = {}

    def attempt(key):
        if key not in assigned:  # a retry closes the same day again
            assigned[key] = days.pop()
        day = assigned[key]
        return answered(close(deal, period_start=str(day), period_end=str(day)))

    def stored(key):
        first_day = (assigned[key] - type(assigned[key])(1970, 1, 1)).days
        with session(ledger.engine) as db:
            return db.exec(
                select(func.count())
                .select_from(SettlementPeriod)
                .where(SettlementPeriod.platform_id == deal.platform_id, SettlementPeriod.first_day == first_day)
            ).one()

    steps = fault_every_step(
        ledger,
        "period",
        attempt,
        stored,
        lambda: events(ledger, "SettlementRegistry", "PeriodCommitted"),
        also=a_request_thread,
        one_send_each=False,
    )  # a committed period is finalised after its dispute window
    assert "INSERT settlement_period" in steps and "INSERT chain_op" in steps
