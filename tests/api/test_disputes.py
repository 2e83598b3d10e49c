"""A payee's dispute of a line holds the period's finalisation until an admin answers it."""

from __future__ import annotations

import pytest

from ledger.models import Role
from tests.helpers.service import running_service
from tests.helpers.settlement import close, make_deal, post_report, rows, wait_status


@pytest.fixture
def slow_window_service(tmp_path):
    # a minute, so that a loaded machine raises the dispute inside it; the test then moves the
    # chain's clock past it rather than waiting
    with running_service(tmp_path / "data", write_wait=10, dispute_window=60) as svc:
        yield svc


def test_a_payees_dispute_holds_finalisation_until_an_admin_answers_it(slow_window_service):
    svc = slow_window_service
    deal = make_deal(svc)
    _, _, admin = svc.new_account(Role.admin)
    assert post_report(deal, "d1", rows(deal)).status_code == 201
    period_id = close(deal).json()["period_id"]
    line = deal.second_payee.get(f"/periods/{period_id}/statement").json()["lines"][0]
    outsider = deal.owner.post(f"/periods/{period_id}/lines/{line['index']}/dispute", json={"reason": "not mine"})
    assert outsider.status_code == 404  # another payee's line is not even visible
    raised = deal.second_payee.post(
        f"/periods/{period_id}/lines/{line['index']}/dispute", json={"reason": "our deal has a higher per-play price"}
    )
    assert raised.status_code == 200 and raised.json()["chain"]["status"] == "confirmed", raised.text

    w3 = svc.ledger.chain.w3
    w3.provider.make_request("evm_increaseTime", [61])
    w3.provider.make_request("evm_mine", [])  # the window has passed, but a dispute is open
    held = wait_status(deal.platform, period_id, "finalised", timeout=2)
    assert held["status"] == "committed" and held["open_disputes"] == 1
    assert deal.platform.post(f"/periods/{period_id}/disputes/0/resolve", json={"resolution": "x"}).status_code == 403
    answered = admin.post(
        f"/periods/{period_id}/disputes/0/resolve",
        json={"resolution": "the rule in force on the period's first day applies"},
    )
    assert answered.status_code == 200, answered.text
    assert wait_status(deal.platform, period_id, "finalised")["status"] == "finalised"
