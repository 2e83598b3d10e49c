"""A report left half-received by a stopped process is removed, and one another replica is
still receiving (it holds the report's reception lock) is left alone, on PostgreSQL where the
sweep runs while other replicas serve."""

from __future__ import annotations

from sqlmodel import select

from ledger.accounts import create_account
from ledger.advisory import attempt
from ledger.db import session
from ledger.models import PlayReport, ReportStatus, Role
from ledger.reports.ingest import discard_interrupted, reception_lock
from ledger.service import Ledger
from tests.helpers.settings import make_settings


def receiving(ledger: Ledger, platform_id: int, report_id: str) -> None:
    with session(ledger.engine) as db:
        db.add(
            PlayReport(
                platform_id=platform_id,
                report_id=report_id,
                report_hash="0x" + "00" * 32,
                currency="CNY",
                first_day=20_000,
                end_day=20_007,
            )
        )
        db.commit()


def left(ledger: Ledger) -> set[str]:
    with session(ledger.engine) as db:
        return set(db.exec(select(PlayReport.report_id).where(PlayReport.status == ReportStatus.receiving)).all())


def test_a_report_still_arriving_elsewhere_stays_and_one_a_stopped_replica_left_goes(tmp_path, postgres_url):
    ledger = Ledger(make_settings(tmp_path / "data", postgres_url))  # the schema; nothing started
    try:
        platform = create_account(ledger.engine, ledger.keys, name="streamer", role=Role.platform).account
        receiving(ledger, platform.id, "arriving")
        receiving(ledger, platform.id, "cut-off")
        with attempt(ledger.engine, reception_lock(platform.id, "arriving")) as held:  # another replica's upload
            assert held
            assert discard_interrupted(ledger.engine) == 1
            assert left(ledger) == {"arriving"}
        assert discard_interrupted(ledger.engine) == 1  # its replica stopped: now it goes too
        assert left(ledger) == set()
    finally:
        ledger.engine.dispose()
