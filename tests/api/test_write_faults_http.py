"""A database failure in the middle of a licence or split request over HTTP is answered 503
database_unavailable (or, after the write was stored, 201/202), never a 500, and never leaves a
transaction on chain without its row; the client's retry with the same Idempotency-Key gets it
made exactly once. SQLite and PostgreSQL, real HTTP on loopback."""

from __future__ import annotations

import threading

from ledger.errors import Unavailable
from ledger.models import LicenceRecord, Role, SplitRecord
from tests.api.test_idempotency import licence_terms, owned  # noqa: F401  (fixture)
from tests.test_write_faults import events, fault_every_step, rows


def not_the_reconciler() -> bool:
    return threading.current_thread().name != "outbox-reconciler"


def answered(response):
    """A write's answer as the fault harness expects it: a 503 is a clean refusal."""
    assert response.status_code in (201, 202, 503), response.text
    if response.status_code == 503:
        assert response.json()["error"]["code"] == "database_unavailable"
        raise Unavailable("503")
    return response


def test_a_database_failure_during_a_licence_request_is_503_and_a_retry_makes_it_once(service, owned):  # noqa: F811
    work_id, owner, _ = owned
    platform_id, _, _ = service.new_account(Role.platform)
    terms = licence_terms(platform_id)
    ledger = service.ledger
    fault_every_step(
        ledger, "http-licence",
        lambda key: answered(owner.post(f"/works/{work_id}/licences", json=terms, headers={"Idempotency-Key": key})),
        lambda key: rows(ledger, LicenceRecord, idempotency_key=key),
        lambda: events(ledger, "LicenseRegistry", "LicenseGranted"),
        also=not_the_reconciler,
    )


def test_a_database_failure_during_a_split_request_is_503_and_a_retry_makes_it_once(service, owned):  # noqa: F811
    work_id, owner, address = owned
    _, other, _ = service.new_account(Role.rights_holder)
    body = {"payees": [{"address": address, "bps": 5_000}, {"address": other, "bps": 5_000}],
            "effective_from": 0}
    ledger = service.ledger
    fault_every_step(
        ledger, "http-split",
        lambda key: answered(owner.post(f"/works/{work_id}/splits", json=body, headers={"Idempotency-Key": key})),
        lambda key: rows(ledger, SplitRecord, idempotency_key=key),
        lambda: events(ledger, "SplitRegistry", "SplitVersionSet"),
        also=not_the_reconciler,
    )
