"""A registered photograph and a leaked, watermarked copy of it, on a given service."""

from __future__ import annotations

import time

import pytest

from ledger.models import Role
from tests.api.test_distributions import MASTER, decode, distribute, register


@pytest.fixture
def leaked_copy():
    def make(svc):
        _, _, studio = svc.new_account(Role.rights_holder)
        _, _, platform = svc.new_account(Role.platform)
        name = platform.get("/accounts/me").json()["name"]
        work_id = register(studio, MASTER, "Astronaut", svc)
        dist_id = distribute(studio, work_id, MASTER, name).json()["id"]
        deadline = time.monotonic() + 60
        while (dist := studio.get(f"/distributions/{dist_id}").json())["status"] not in ("ready", "failed"):
            assert time.monotonic() < deadline, dist["status"]
            svc.ledger.chain.outbox.reconcile()  # the service's own reconciler may be idle in these tests
            time.sleep(0.1)
        assert dist["status"] == "ready", dist
        return work_id, decode(studio.get(dist["copy"]["url"]).content), name

    return make
