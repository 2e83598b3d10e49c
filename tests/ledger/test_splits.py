"""A split version confirmed after its request stopped waiting for it (answered 202, or its
replica died) gets its version number all the same, from the reconciler's pass: settlement
counts only split versions whose number it knows."""

from __future__ import annotations

import time

from sqlmodel import select

from ledger.db import session
from ledger.models import SplitRecord
from ledger.splits import record_versions
from tests.helpers.service import running_service
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
