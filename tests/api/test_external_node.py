"""The service on a chain it does not run (REELLEDGER_RPC_URL): an Anvil node started by the
tests, which the service reaches only by URL. Nothing sets a balance by fiat there: every
account the service signs for gets its gas from the funding key, by top-ups sent through the
outbox, and the test stablecoin reaches platforms by mints sent through the outbox."""

from __future__ import annotations

import hashlib
import secrets
import time

import pytest
from eth_account import Account
from sqlmodel import select

from ledger.chain.gas import TOP_UP_LABEL
from ledger.db import session
from ledger.models import ChainOp, OpStatus, Role
from tests.helpers.chain import ANVIL_DEV_KEY, ether_flows, external_anvil
from tests.helpers.service import running_service, settle
from tests.helpers.settlement import close, make_deal, post_report, rows, wait_status

FUNDER = Account.from_key(ANVIL_DEV_KEY).address


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    with external_anvil(tmp_path_factory.mktemp("external-node")) as running:
        yield running


@pytest.fixture(scope="module")
def service(node, tmp_path_factory):
    """A service whose signer is a fresh key with no ether; the funding key pays for everything."""
    with running_service(
        tmp_path_factory.mktemp("svc") / "data",
        rpc_url=node.url,
        funding_key=ANVIL_DEV_KEY,
        write_wait=10,
        dispute_window=2,
    ) as svc:
        yield svc


def top_ups(service, address: str) -> list[ChainOp]:
    with session(service.ledger.engine) as db:
        return list(db.exec(select(ChainOp).where(ChainOp.label == TOP_UP_LABEL, ChainOp.to == address)).all())


def test_a_custodial_studio_registers_licences_and_a_platform_funds_a_period_on_an_external_node(service):
    chain = service.ledger.chain
    assert chain.node is None and (chain.funder, chain.signer) != (FUNDER, FUNDER)

    deal = make_deal(service)  # custodial studio and platform: register, licence, split, rule
    assert post_report(deal, "external-week", rows(deal)).status_code == 201
    closed = close(deal)
    assert closed.status_code == 201, closed.text
    period = closed.json()
    funded = deal.platform.post(f"/periods/{period['period_id']}/fund", json={})
    assert funded.status_code == 200 and funded.json()["funded"] == period["total"], funded.text
    assert wait_status(deal.platform, period["period_id"], "finalised")["status"] == "finalised"
    line = deal.second_payee.get(f"/periods/{period['period_id']}/statement").json()["lines"][0]
    claimed = deal.second_payee.post(f"/periods/{period['period_id']}/lines/{line['index']}/claim")
    assert claimed.status_code == 200 and claimed.json()["chain"]["status"] == "confirmed", claimed.text

    settle(chain.outbox)  # a top-up sent for the last write may still await its receipt
    token = chain.contract("TestStablecoin")
    assert token.functions.balanceOf(deal.second_address).call() == int(line["amount"])
    with session(service.ledger.engine) as db:
        mints = db.exec(select(ChainOp).where(ChainOp.label == "TestStablecoin.mint")).all()
    assert [(m.sender, m.status) for m in mints] == [(chain.signer, OpStatus.confirmed)]  # the signer's own nonces
    # Every account the service signed for holds exactly what the funding key sent it, less what
    # it spent: no balance was set by fiat, and each top-up is an outbox operation of the funder.
    for address in (chain.signer, deal.owner_address, deal.platform_address, deal.second_address):
        received, spent, senders = ether_flows(chain.w3, address)
        assert senders == {FUNDER} and received > 0, address
        assert chain.w3.eth.get_balance(address) == received - spent, address
        sent = top_ups(service, address)
        assert sent and {(op.sender, op.status) for op in sent} == {(FUNDER, OpStatus.confirmed)}
        assert sum(int(op.value) for op in sent) == received


def test_health_shows_the_funding_key_and_its_balance(service):
    health = service.client().get("/health").json()

    assert health["funding"]["address"] == FUNDER
    assert int(health["funding"]["balance"]) == service.ledger.chain.w3.eth.get_balance(FUNDER)
    assert health["funding"]["warning"] is None and health["warnings"] == []


@pytest.fixture(scope="module")
def unfunded(node, tmp_path_factory):
    """A service that signs with the funded development key but whose funding key holds nothing."""
    key = "0x" + secrets.token_hex(32)
    with running_service(
        tmp_path_factory.mktemp("svc") / "data",
        rpc_url=node.url,
        signer_key=ANVIL_DEV_KEY,
        funding_key=key,
        write_wait=10,
    ) as svc:
        yield svc


def test_an_account_nobody_can_pay_for_is_insufficient_funds_naming_it_and_its_shortfall(unfunded, node):
    ledger = unfunded.ledger
    funder = ledger.chain.funder
    _, studio, client = unfunded.new_account(Role.rights_holder)
    content_hash = hashlib.sha256(b"a studio with no gas").hexdigest()
    work = {"sha256": content_hash, "title": "Dry", "kind": "film"}

    refused = client.post("/works", json=work)

    assert refused.status_code == 503, refused.text
    error = refused.json()["error"]
    assert error["code"] == "insufficient_funds" and studio in error["message"]
    assert (error["details"]["address"], error["details"]["funder"], error["details"]["funder_balance"]) == (
        studio,
        funder,
        "0",
    )
    assert int(error["details"]["shortfall"]) > 0
    op = ledger.chain.outbox.by_key(f"approve-operator:{studio}")  # held in the outbox, unsigned
    assert (op.status, op.nonce, op.error_name) == (OpStatus.queued, None, "insufficient_funds")
    assert op.error_args == error["details"]
    health = unfunded.client().get("/health").json()
    assert health["funding"]["balance"] == "0" and funder in health["funding"]["warning"]
    assert health["status"] == "ok" and health["warnings"] == [health["funding"]["warning"]]

    # Someone refills the funding key from outside: the reconciler tops the studio up and sends
    # its approval by itself, and the registration goes through.
    w3 = ledger.chain.w3
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[1], "to": funder, "value": 10**18})
    )
    deadline = time.monotonic() + 60
    while ledger.chain.outbox.get(op.id).status != OpStatus.confirmed:
        assert time.monotonic() < deadline, ledger.chain.outbox.get(op.id)
        time.sleep(0.2)
    assert client.post("/works", json=work).status_code == 201
    settle(ledger.chain.outbox)
    assert [top_up.status for top_up in top_ups(unfunded, studio)] == [OpStatus.confirmed]
