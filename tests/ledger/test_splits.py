"""A split version confirmed after its request stopped waiting for it (answered 202, or its
replica died) gets its version number all the same, from the reconciler's pass: settlement
counts only split versions whose number it knows."""

from __future__ import annotations

import time

from sqlmodel import select

from ledger.db import session
from ledger.models import SplitRecord
from ledger.splits import record_versions
from tests.helpers.service import running_service, written
from tests.helpers.settlement import make_deal


def test_a_split_confirmed_after_its_request_gets_its_version_from_the_reconciler(tmp_path):
    with running_service(tmp_path / "data") as svc:
        make_deal(svc)
        with session(svc.ledger.engine) as db:
            row = db.exec(select(SplitRecord)).one()
            known, row.version = row.version, None  # as a 202 leaves it
            db.add(row)
            db.commit()
        assert known is not None
        deadline = time.monotonic() + 30
        while (version := current(svc)) is None and time.monotonic() < deadline:
            time.sleep(0.1)  # the service's reconciler passes every 0.2 s
        assert version == known
        assert record_versions(svc.ledger) == 0  # nothing left to record


def current(svc) -> int | None:
    with session(svc.ledger.engine) as db:
        return db.exec(select(SplitRecord)).one().version


def test_the_reconciler_records_the_start_the_chain_gave_each_version(tmp_path):
    """A version asked for with effective_from 0 starts where the chain says: from the start (0)
    for the work's first, when mined for a later one. A version recorded late keeps that too."""
    with running_service(tmp_path / "data") as svc:
        deal = make_deal(svc)  # version 1, asked for with 0
        later = deal.owner.post(
            f"/works/{deal.work_id}/splits",
            json={"payees": [{"address": deal.owner_address, "bps": 10_000}], "effective_from": 0},
        )
        written(svc, later)
        on_chain = [v.effective_from for v in svc.ledger.registries.split_versions(bytes.fromhex(deal.work_id[2:]))]
        assert on_chain[0] == 0 and on_chain[1] > 0
        assert wait_recorded(svc) == [(1, on_chain[0]), (2, on_chain[1])]
        with session(svc.ledger.engine) as db:
            for row in db.exec(select(SplitRecord)).all():
                row.version, row.effective_from = None, 0  # as a 202 leaves them: the start asked for
                db.add(row)
            db.commit()
        assert wait_recorded(svc) == [(1, on_chain[0]), (2, on_chain[1])]


def wait_recorded(svc) -> list[tuple[int | None, int]]:
    """(version, effective_from) of every split row, once every one has its version."""
    deadline = time.monotonic() + 30
    while True:
        with session(svc.ledger.engine) as db:
            recorded = [(r.version, r.effective_from) for r in db.exec(select(SplitRecord).order_by(SplitRecord.id))]
        if all(version is not None for version, _ in recorded) or time.monotonic() > deadline:
            return recorded
        time.sleep(0.1)  # the service's reconciler passes every 0.2 s
