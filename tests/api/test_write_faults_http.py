"""A database failure in the middle of a licence or split request over HTTP is answered 503
database_unavailable (or, after the write was stored, 201/202), never a 500, and never leaves a
transaction on chain without its row; the client's retry with the same Idempotency-Key gets it
made exactly once. SQLite and PostgreSQL, real HTTP on loopback."""

from __future__ import annotations

import pytest

from ledger.models import LicenceRecord, Role, SplitRecord
from tests.helpers.idempotency import licence_terms, owned  # noqa: F401  (fixture)
from tests.helpers.write_faults import a_request_thread, answered, events, fault_every_step, fault_figures, rows  # noqa: F401  (figures with -s)


@pytest.mark.parametrize("kind", ["licence", "split"])
def test_a_database_failure_during_a_write_request_is_503_and_a_retry_makes_it_once(service, owned, kind):  # noqa: F811
    work_id, owner, address = owned
    if kind == "licence":
        url, body = f"/works/{work_id}/licences", licence_terms(service.new_account(Role.platform)[0])
        model, event = LicenceRecord, ("LicenseRegistry", "LicenseGranted")
    else:
        other = service.new_account(Role.rights_holder)[1]
        url, body = (
            f"/works/{work_id}/splits",
            {"payees": [{"address": address, "bps": 5_000}, {"address": other, "bps": 5_000}], "effective_from": 0},
        )
        model, event = SplitRecord, ("SplitRegistry", "SplitVersionSet")
    ledger = service.ledger
    fault_every_step(
        ledger,
        f"http-{kind}",
        lambda key: answered(owner.post(url, json=body, headers={"Idempotency-Key": key})),
        lambda key: rows(ledger, model, idempotency_key=key),
        lambda: events(ledger, *event),
        also=a_request_thread,
    )
