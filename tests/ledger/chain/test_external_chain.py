"""The chain layer on a node it does not run: gas top-ups that survive a restart without being
sent twice, and the settlement token an operator names, checked at start."""

from __future__ import annotations

import time

import pytest
from eth_account import Account
from sqlmodel import select

from ledger.chain.errors import GasPending
from ledger.chain.gas import TOP_UP_LABEL
from ledger.chain.tokens import SettlementTokenMismatch
from ledger.db import session
from ledger.models import ChainOp, OpStatus
from ledger.service import Ledger
from tests.helpers.chain import ANVIL_DEV_KEY, ether_flows, external_anvil
from tests.helpers.settings import make_settings

FUNDER = Account.from_key(ANVIL_DEV_KEY).address


@pytest.fixture
def node(tmp_path):
    with external_anvil(tmp_path) as running:
        yield running


def on(node, data_dir, **overrides) -> Ledger:
    return Ledger(settings_on(node, data_dir, **overrides))


def settings_on(node, data_dir, **overrides):
    return make_settings(data_dir, rpc_url=node.url, funding_key=ANVIL_DEV_KEY, **overrides)


def automine(ledger: Ledger, on: bool) -> None:
    """The node's own control, used by the test as the chain's miners would behave: blocks
    come only when asked for, so a top-up can be sent and still be unmined at a restart."""
    ledger.chain.w3.provider.make_request("evm_setAutomine", [on])


def top_ups(ledger: Ledger, address: str) -> list[ChainOp]:
    with session(ledger.engine) as db:
        return list(db.exec(select(ChainOp).where(ChainOp.label == TOP_UP_LABEL, ChainOp.to == address)).all())


def test_a_top_up_unmined_at_a_restart_is_sent_once_and_its_write_goes_through(node, tmp_path):
    settings = settings_on(node, tmp_path / "data", gas_topup_wait=1)  # one master key for both processes
    first = Ledger(settings).start()
    account = first.keys.ensure("custodial-studio")
    call = first.chain.call("WorkRegistry", "setOperator", [first.chain.signer, True])
    automine(first, False)
    op = first.chain.outbox.submit("approve-after-restart", account, call)
    time.sleep(1.5)  # the reconciler, every 0.2 s, tries it again meanwhile: the same need, the same top-up

    assert first.chain.outbox.get(op.id).block_number is None  # nothing mined yet
    [pending] = top_ups(first, account)
    assert pending.status == OpStatus.pending and pending.sender == FUNDER
    first.stop()

    second = Ledger(settings).start()  # a new process, same database
    try:
        automine(second, True)
        second.chain.w3.provider.make_request("evm_mine", [])
        assert second.chain.outbox.wait(op.id, timeout=30).status == OpStatus.confirmed
        assert [t.id for t in top_ups(second, account)] == [pending.id]
        received, spent, senders = ether_flows(second.chain.w3, account)
        assert (received, senders) == (int(pending.value), {FUNDER})  # one top-up on chain
        assert second.chain.w3.eth.get_balance(account) == received - spent
    finally:
        second.stop()


def test_a_top_up_held_for_an_empty_funding_key_across_a_restart_is_sent_once_when_it_is_refilled(node, tmp_path):
    """The write and its top-up wait in the database, unsigned; every reconciler pass of both
    processes asks for the same need again, and finds the same top-up."""
    empty = Account.create()
    settings = make_settings(
        tmp_path / "data", rpc_url=node.url, signer_key=ANVIL_DEV_KEY, funding_key=empty.key.hex(), gas_topup_wait=1
    )  # one master key for both processes
    first = Ledger(settings).start()
    account = first.keys.ensure("custodial-studio")
    op = first.chain.outbox.submit(
        "approve-held", account, first.chain.call("WorkRegistry", "setOperator", [first.chain.signer, True])
    )
    time.sleep(1)  # reconciler passes every 0.2 s
    assert (op.status, op.error_name, op.error_args["address"]) == (OpStatus.queued, "insufficient_funds", account)
    [held] = top_ups(first, account)
    assert (held.status, held.error_name, held.error_args["address"]) == (
        OpStatus.queued,
        "insufficient_funds",
        empty.address,
    )
    first.stop()

    w3 = first.chain.w3
    w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": w3.eth.accounts[2], "to": empty.address, "value": 10**18})
    )
    second = Ledger(settings).start()
    try:
        assert second.chain.outbox.wait(op.id, timeout=30).status == OpStatus.confirmed
        assert second.chain.outbox.wait(held.id, timeout=30).status == OpStatus.confirmed
        assert [t.id for t in top_ups(second, account)] == [held.id]
        assert ether_flows(second.chain.w3, account)[0] == int(held.value)
    finally:
        second.stop()


def test_the_same_need_asked_again_finds_the_same_top_up(node, tmp_path):
    ledger = on(node, tmp_path / "data", gas_topup_wait=0.3).start()
    try:
        account = ledger.keys.ensure("custodial-platform")
        gas, cost = ledger.chain.outbox.gas, 50_000 * 10**9
        automine(ledger, False)
        with pytest.raises(GasPending):  # sent, not mined in time: the write stays queued
            gas.cover(account, 0, cost)
        for _ in range(2):  # retried while the top-up is still unmined: the node's pending state has it
            gas.cover(account, 0, cost)
        [top_up] = top_ups(ledger, account)
        assert int(top_up.value) == ledger.settings.gas_topup_wei

        automine(ledger, True)
        ledger.chain.w3.provider.make_request("evm_mine", [])
        gas.cover(account, 0, cost)  # met now: the balance has it
        assert [t.id for t in top_ups(ledger, account)] == [top_up.id]
        assert ether_flows(ledger.chain.w3, account)[0] == ledger.settings.gas_topup_wei
    finally:
        ledger.stop()


@pytest.fixture
def stablecoin(node, tmp_path) -> str:
    """An ERC-20 already on the chain (2 decimals), deployed by another service before."""
    other = on(node, tmp_path / "other").start()
    try:
        return other.chain.addresses["TestStablecoin"]
    finally:
        other.stop()


def test_a_settlement_token_counting_the_currency_minor_unit_is_used_and_none_is_deployed(node, tmp_path, stablecoin):
    ledger = on(node, tmp_path / "data", settlement_token=stablecoin, settlement_currency="CNY").start()
    try:
        assert "TestStablecoin" not in ledger.chain.addresses
    finally:
        ledger.stop()


@pytest.mark.parametrize("currency, decimals", [("JPY", 0), ("KWD", 3)])
def test_a_settlement_token_with_other_decimals_than_the_currency_refuses_to_start(
    node, tmp_path, stablecoin, currency, decimals
):
    ledger = on(node, tmp_path / "data", settlement_token=stablecoin, settlement_currency=currency)
    try:
        with pytest.raises(SettlementTokenMismatch) as refused:
            ledger.start()
    finally:
        ledger.stop()

    assert f"{stablecoin} has 2 decimals, but {currency} amounts are kept in minor units of {decimals} decimals" in str(
        refused.value
    )


def test_a_settlement_token_address_without_a_contract_refuses_to_start(node, tmp_path):
    nowhere = Account.create().address
    ledger = on(node, tmp_path / "data", settlement_token=nowhere)
    try:
        with pytest.raises(SettlementTokenMismatch, match=f"{nowhere} holds no contract"):
            ledger.start()
    finally:
        ledger.stop()
