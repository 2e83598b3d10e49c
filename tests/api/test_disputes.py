"""A disputed line is held alone while the rest of its period pays on time; a neutral arbiter
decides it before its deadline (upheld: the corrected amount is paid in the platform's next
period, with the voided line's money carried there; rejected: the line is released), or the
deployment's default applies at the deadline. Through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import re
import time
from datetime import timedelta

import pytest

from ledger.chain.verify import verify_statement
from ledger.currencies import major
from ledger.models import Role
from tests.helpers.service import running_service
from tests.helpers.settlement import close, make_deal, post_report, rows, wait_status

DISPUTE_WINDOW = 60  # a loaded machine raises its disputes inside it; the chain's clock is moved past it
DECISION_WINDOW = 600


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def svc(request, tmp_path_factory):
    url = request.getfixturevalue("module_postgres_url") if request.param == "postgresql" else None
    with running_service(
        tmp_path_factory.mktemp("svc") / "data",
        url,
        write_wait=10,
        dispute_window=DISPUTE_WINDOW,
        decision_window=DECISION_WINDOW,
        dispute_default="upheld",
    ) as service:
        yield service


@pytest.fixture(scope="module")
def admin(svc):
    return svc.new_account(Role.admin)[2]


@pytest.fixture(scope="module")
def arbiter(svc, admin):
    """An arbiter account that took the seat from the service signer through the two-step handover."""
    arbiter_id, address, client = svc.new_account(Role.arbiter)
    assert client.post("/arbiter/handover", json={"account_id": arbiter_id}).status_code == 403
    offered = admin.post("/arbiter/handover", json={"account_id": arbiter_id})
    assert offered.status_code == 200, offered.text
    assert client.get("/arbiter").json()["pending"] == address
    accepted = client.post("/arbiter/accept")
    assert accepted.status_code == 200, accepted.text
    return client


def _move_time(svc, seconds: int) -> None:
    w3 = svc.ledger.chain.w3
    w3.provider.make_request("evm_increaseTime", [seconds])
    w3.provider.make_request("evm_mine", [])


def _wait_dispute(client, period_id: str, dispute_id: int, state: str, timeout: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        found = {d["dispute_id"]: d for d in client.get(f"/periods/{period_id}/disputes").json()}
        if found.get(dispute_id, {}).get("state") == state or time.monotonic() > deadline:
            return found[dispute_id]
        time.sleep(0.2)


def _disputed_period(svc):
    """A funded period of two lines, the second payee's line disputed, finalised on time."""
    deal = make_deal(svc)
    assert post_report(deal, "d1", rows(deal)).status_code == 201
    period_id = close(deal).json()["period_id"]
    line = deal.second_payee.get(f"/periods/{period_id}/statement").json()["lines"][0]
    claimed = int(line["amount"]) + 2_500
    url = f"/periods/{period_id}/lines/{line['index']}/dispute"
    assert deal.owner.post(url, json={"reason": "not mine", "claimed_amount": 1}).status_code in (403, 404)
    raised = deal.second_payee.post(url, json={"reason": "our deal has a higher price", "claimed_amount": claimed})
    assert raised.status_code == 200, raised.text
    dispute = raised.json()["dispute"]
    assert dispute["state"] == "open" and dispute["line_state"] == "held" and dispute["claimed_amount"] == str(claimed)
    assert dispute["reason"] == "our deal has a higher price"
    assert deal.platform.post(f"/periods/{period_id}/fund", json={}).status_code == 200
    _move_time(svc, DISPUTE_WINDOW + 1)
    # one open dispute no longer holds the period: it finalises, and the other line is claimed on time
    assert wait_status(deal.platform, period_id, "finalised")["status"] == "finalised"
    owner_line = deal.owner.get(f"/periods/{period_id}/statement").json()["lines"][0]
    claimed_ok = deal.owner.post(f"/periods/{period_id}/lines/{owner_line['index']}/claim")
    assert claimed_ok.status_code == 200, claimed_ok.text
    held = deal.second_payee.post(f"/periods/{period_id}/lines/{line['index']}/claim")
    assert held.status_code == 409 and held.json()["error"]["code"] == "line_held", held.text
    paid = deal.second_payee.post(
        f"/periods/{period_id}/lines/{line['index']}/paid-off-chain", json={"payment_ref": "wire 1"}
    )
    assert paid.status_code == 409 and paid.json()["error"]["code"] == "line_held"
    shown = deal.second_payee.get(f"/periods/{period_id}/statement").json()["lines"][0]["dispute"]
    assert shown["state"] == "held" and shown["deadline"] == dispute["deadline"]
    return deal, period_id, line, dispute


def test_an_upheld_dispute_pays_its_corrected_amount_in_the_next_period_with_the_voided_money(svc, admin, arbiter):
    deal, period_id, line, dispute = _disputed_period(svc)
    corrected = int(dispute["claimed_amount"])
    url = f"/periods/{period_id}/disputes/{dispute['dispute_id']}/decide"
    body = {"outcome": "upheld", "corrected_amount": corrected, "reason": "the contract price applies"}
    assert admin.post(url, json=body).status_code == 403  # the operator does not judge its own statements
    decided = arbiter.post(url, json=body)
    assert decided.status_code == 200, decided.text
    result = decided.json()["dispute"]
    assert result["state"] == "upheld" and not result["by_default"] and result["corrected_amount"] == str(corrected)
    assert result["line_state"] == "voided" and result["decision_reason"] == "the contract price applies"
    again = arbiter.post(url, json={**body, "reason": "changed my mind"})
    assert again.status_code == 409, again.text
    voided = deal.second_payee.post(f"/periods/{period_id}/lines/{line['index']}/claim")
    assert voided.status_code == 409 and voided.json()["error"]["code"] == "line_voided"

    # the platform's next period carries the corrected amount as an adjustment line of the payee
    later = dataclasses.replace(deal, start=deal.end + timedelta(days=1), end=deal.end + timedelta(days=3))
    assert post_report(later, "d2", rows(later, days=3)).status_code == 201
    closed = close(later)
    assert closed.status_code == 201, closed.text
    next_id = closed.json()["period_id"]
    assert closed.json()["adjustments_applied"] == 1
    statement = deal.second_payee.get(f"/periods/{next_id}/statement").json()
    assert [int(x["adjustment"]) for x in statement["lines"]] == [corrected]
    carried = _wait_dispute(deal.second_payee, period_id, dispute["dispute_id"], "upheld")
    deadline = time.monotonic() + 30
    while carried["carried_to"] is None and time.monotonic() < deadline:
        time.sleep(0.3)
        carried = _wait_dispute(deal.second_payee, period_id, dispute["dispute_id"], "upheld")
    assert carried["carried_to"] == next_id
    chain_next = svc.ledger.chain.settlement.period(next_id)
    assert chain_next.funded == int(line["amount"])  # the voided line's money counts as funding
    funded = deal.platform.post(f"/periods/{next_id}/fund", json={})
    assert funded.status_code == 200 and int(funded.json()["funded"]) == int(statement["total"]) - int(line["amount"])
    check = verify_statement(svc.ledger.chain.rpc_url, statement, svc.ledger.chain.settlement.address)
    assert check.ok and check.lines[0].amount == int(statement["lines"][0]["amount"])


def test_a_rejected_dispute_releases_the_line(svc, arbiter):
    deal, period_id, line, dispute = _disputed_period(svc)
    url = f"/periods/{period_id}/disputes/{dispute['dispute_id']}/decide"
    wrong = arbiter.post(url, json={"outcome": "rejected", "corrected_amount": 5, "reason": "x"})
    assert wrong.status_code == 422, wrong.text
    decided = arbiter.post(url, json={"outcome": "rejected", "reason": "the statement follows the rule in force"})
    assert decided.status_code == 200, decided.text
    assert decided.json()["dispute"]["line_state"] == "released"
    assert deal.second_payee.get(f"/periods/{period_id}/statement").json()["lines"][0]["dispute"]["state"] == (
        "released"
    )
    claim = deal.second_payee.post(f"/periods/{period_id}/lines/{line['index']}/claim")
    assert claim.status_code == 200, claim.text


def test_an_undecided_dispute_takes_the_default_at_its_deadline(svc, arbiter):
    deal, period_id, line, dispute = _disputed_period(svc)
    _move_time(svc, DECISION_WINDOW + 1)
    late = arbiter.post(
        f"/periods/{period_id}/disputes/{dispute['dispute_id']}/decide",
        json={"outcome": "rejected", "reason": "too late"},
    )
    assert late.status_code == 409, late.text
    expired = _wait_dispute(deal.second_payee, period_id, dispute["dispute_id"], "upheld")
    assert expired["state"] == "upheld" and expired["by_default"]
    assert expired["corrected_amount"] == dispute["claimed_amount"]  # the default upholds what was claimed


def test_each_role_sees_the_disputes_it_is_party_to(svc, arbiter):
    deal, period_id, _, dispute = _disputed_period(svc)
    _, _, auditor = svc.new_account(Role.auditor)
    _, _, stranger = svc.new_account(Role.rights_holder)
    _, _, other_platform = svc.new_account(Role.platform)

    def seen(client, **params):
        return {(d["period_id"], d["dispute_id"]) for d in client.get("/disputes", params=params).json()}

    mine = (period_id, dispute["dispute_id"])
    for party in (deal.second_payee, deal.platform, deal.owner, auditor, arbiter):  # payee, platform, rights holder
        assert mine in seen(party, state="open"), party
    assert mine not in seen(stranger) and mine not in seen(other_platform)
    assert stranger.get(f"/periods/{period_id}/disputes").status_code == 404
    assert seen(auditor, work_id=deal.work_id) == {mine}
    assert mine not in seen(auditor, state="rejected")


def test_the_arbiter_seat_moves_in_two_steps(svc, admin, arbiter):
    seat = arbiter.get("/arbiter").json()
    assert not seat["held_by_service"] and seat["pending"] is None and seat["arbiter_account_id"] is not None
    assert seat["decision_window"] == DECISION_WINDOW and seat["default_outcome"] == "upheld"
    successor_id, _, successor = svc.new_account(Role.arbiter)
    refused = successor.post("/arbiter/accept")  # not offered to it
    assert refused.status_code == 409, refused.text
    held = admin.post("/arbiter/handover", json={"account_id": successor_id})
    assert held.status_code == 409 and held.json()["error"]["code"] == "seat_not_held"  # the arbiter's to give


def _cli(svc, client, *args: str):
    from typer.testing import CliRunner

    from ledger.cli import app

    key = client.headers["Authorization"].removeprefix("Bearer ")
    env = {"REELLEDGER_URL": svc.url, "REELLEDGER_API_KEY": key, "COLUMNS": "250"}
    return CliRunner().invoke(app, list(args), env=env)


def test_the_cli_disputes_lists_and_decides(svc, arbiter):
    def cli(client, *args: str) -> str:
        result = _cli(svc, client, *args)
        assert result.exit_code == 0, result.output
        return result.output

    deal = make_deal(svc)
    assert post_report(deal, "c1", rows(deal)).status_code == 201
    period_id = close(deal).json()["period_id"]
    line = deal.second_payee.get(f"/periods/{period_id}/statement").json()["lines"][0]
    index, pays = line["index"], int(line["amount"])
    same = _cli(
        svc, deal.second_payee, "periods", "dispute", period_id, str(index), "--claimed", str(pays), "--reason", "x"
    )
    assert same.exit_code == 1 and "refused (422 invalid_input)" in same.output, same.output
    # as people read it, and in the minor units --claimed counts
    assert f"the line already pays {major(pays, 'CNY')} ({pays} minor units): a dispute claims" in same.output
    # the README's order, a claim right after the close: refused saying when claims open, and how to follow it
    early = _cli(svc, deal.second_payee, "periods", "claim", period_id, str(index))
    assert early.exit_code == 1 and "refused (409 period_not_finalised)" in early.output, early.output
    assert re.search(
        r"claims open after \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, when the dispute window closes;", early.output
    ), early.output
    assert f"reelledger periods show {period_id}" in early.output
    filed = cli(deal.second_payee, "periods", "dispute", period_id, str(index), "--claimed", "999", "--reason", "price")
    assert "confirmed" in filed and "claimed 9.99 CNY" in filed and "line held" in filed
    assert re.search(r"pays \d+\.\d\d CNY, claimed", filed)  # major units, as everywhere people read money
    assert "open (line held)" in cli(deal.platform, "periods", "disputes", period_id)
    assert "decision window" in cli(arbiter, "arbiter", "show")
    decided = cli(arbiter, "periods", "decide", period_id, "0", "--outcome", "rejected", "--reason", "rule in force")
    assert "rejected (line released)" in decided
    assert "rejected (line released)" in cli(deal.second_payee, "periods", "disputes", "--state", "rejected")


EXTERNAL_ARBITER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # an unlocked account of Anvil's test mnemonic
BOND = 500  # minor units a payee puts up with each dispute


@pytest.fixture(params=["sqlite", "postgresql"])
def external_svc(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    with running_service(
        tmp_path / "data",
        url,
        write_wait=10,
        dispute_window=DISPUTE_WINDOW,
        arbiter=EXTERNAL_ARBITER,
        dispute_bond=BOND,
    ) as service:
        yield service


def test_an_external_arbiters_decision_on_chain_is_followed_by_the_ledger(external_svc):
    """A multisig decides on chain; the payee's bond comes back with the dispute upheld."""
    svc = external_svc
    auditor = svc.new_account(Role.auditor)[2]
    seat = auditor.get("/arbiter").json()
    assert seat["arbiter"] == EXTERNAL_ARBITER and seat["external"] and not seat["held_by_service"]
    assert seat["bond_amount"] == str(BOND) and seat["bond_token"] is not None
    assert seat["bond_currency"] == "CNY"  # what the bond's minor units are of
    shown = _cli(svc, auditor, "arbiter", "show")
    assert shown.exit_code == 0, shown.output
    assert re.search(rf"bond +5\.00 CNY in token {seat['bond_token']} *\n", shown.output), shown.output
    arbiter_id, _, arbiter = svc.new_account(Role.arbiter)
    _, _, admin = svc.new_account(Role.admin)
    refused = admin.post("/arbiter/handover", json={"account_id": arbiter_id})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "seat_not_held"

    deal = make_deal(svc)
    assert post_report(deal, "x1", rows(deal)).status_code == 201
    period_id = close(deal).json()["period_id"]
    line = deal.second_payee.get(f"/periods/{period_id}/statement").json()["lines"][0]
    claimed = int(line["amount"]) + 700
    filed = deal.second_payee.post(
        f"/periods/{period_id}/lines/{line['index']}/dispute", json={"reason": "price", "claimed_amount": claimed}
    )
    assert filed.status_code == 200, filed.text
    assert filed.json()["dispute"]["bond"] == str(BOND)
    token = svc.ledger.chain.token(seat["bond_token"])
    assert token.balance_of(deal.second_address) == 0  # the bond is held by the registry
    not_seated = arbiter.post(
        f"/periods/{period_id}/disputes/0/decide",
        json={"outcome": "upheld", "corrected_amount": claimed, "reason": "x"},
    )
    assert not_seated.status_code == 409 and not_seated.json()["error"]["code"] == "not_arbiter"

    # the multisig decides on chain, not through this service
    registry = svc.ledger.chain.settlement.contract
    tx = registry.functions.decide(bytes.fromhex(period_id[2:]), 0, True, claimed, b"\x01" * 32).transact(
        {"from": EXTERNAL_ARBITER}
    )
    assert svc.ledger.chain.w3.eth.wait_for_transaction_receipt(tx)["status"] == 1
    decided = _wait_dispute(deal.platform, period_id, 0, "upheld")
    assert decided["state"] == "upheld" and decided["corrected_amount"] == str(claimed) and not decided["by_default"]
    assert decided["decision_reason_hash"] == "0x" + "01" * 32 and decided["decision_reason"] is None
    assert token.balance_of(deal.second_address) == BOND  # upheld: the bond is returned
