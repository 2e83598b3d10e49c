"""The outbox: every chain write is recorded before it is sent, sent once, and survives faults."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import select

from ledger.chain.errors import ChainRevert, ChainUnavailable, IdempotencyConflict
from ledger.chain.outbox import Outbox, raise_for
from ledger.db import session
from ledger.models import ChainOp, OpStatus
from ledger.service import Ledger
from tests.helpers.outbox import chain_nonce, make_owner, register_call, registered_events, work_id
from tests.helpers.settings import make_settings


def wait_until_settled(ledger: Ledger, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while ledger.chain.outbox.unfinished() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert ledger.chain.outbox.unfinished() == 0, "the outbox did not settle"


def test_same_key_submitted_twice_sends_one_transaction(any_db_ledger):
    ledger = any_db_ledger
    owner = make_owner(ledger)
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    before = chain_nonce(ledger, signer)

    first = outbox.wait(outbox.submit("register-1", signer, register_call(ledger, owner, 1)).id)
    again = outbox.submit("register-1", signer, register_call(ledger, owner, 1))

    assert (again.id, again.tx_hash) == (first.id, first.tx_hash)
    assert first.status == OpStatus.confirmed
    assert chain_nonce(ledger, signer) == before + 1
    assert registered_events(ledger, [work_id(1)]) == 1


def test_same_key_submitted_concurrently_sends_one_transaction(any_db_ledger):
    ledger = any_db_ledger
    owner = make_owner(ledger)
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    before = chain_nonce(ledger, signer)
    results: list[ChainOp] = []

    def submit():
        results.append(outbox.submit("register-race", signer, register_call(ledger, owner, "race")))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    outbox.wait(results[0].id)

    assert len({op.id for op in results}) == 1
    assert chain_nonce(ledger, signer) == before + 1
    assert registered_events(ledger, [work_id("race")]) == 1


def test_reusing_a_key_for_a_different_call_is_refused(ledger):
    owner = make_owner(ledger)
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    outbox.submit("register-x", signer, register_call(ledger, owner, "x"))
    with pytest.raises(IdempotencyConflict, match="register-x"):
        outbox.submit("register-x", signer, register_call(ledger, owner, "y"))


def test_revert_in_dry_run_is_named_and_nothing_is_sent(ledger):
    owner = make_owner(ledger)
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    outbox.wait(outbox.submit("first", signer, register_call(ledger, owner, 7)).id)
    before = chain_nonce(ledger, signer)

    op = outbox.submit("second", signer, register_call(ledger, owner, 7))

    assert op.status == OpStatus.rejected
    assert op.error_name == "WorkAlreadyRegistered"
    assert op.error_args["owner"].lower() == owner.lower()
    assert op.tx_hash is None
    assert chain_nonce(ledger, signer) == before
    with pytest.raises(ChainRevert) as raised:
        raise_for(op)
    assert raised.value.name == "WorkAlreadyRegistered"


def test_transaction_that_reverts_on_chain_is_named_by_replay(ledger):
    """A split due to start soon passes its dry run, but is mined after its start time and reverts."""
    owner = make_owner(ledger)
    outbox, w3 = ledger.chain.outbox, ledger.chain.w3
    outbox.wait(outbox.submit("work", ledger.chain.signer, register_call(ledger, owner, "late")).id)
    soon = w3.eth.get_block("latest")["timestamp"] + 30
    call = ledger.chain.call("SplitRegistry", "setSplit", [work_id("late"), [owner], [10_000], soon])

    w3.provider.make_request("evm_setAutomine", [False])
    try:
        op = outbox.submit("late-split", owner, call)
        assert op.status == OpStatus.pending
        w3.provider.make_request("evm_increaseTime", [3600])
        w3.provider.make_request("evm_mine", [])
    finally:
        w3.provider.make_request("evm_setAutomine", [True])

    done = outbox.wait(op.id)
    assert done.status == OpStatus.reverted
    assert done.error_name == "SplitEffectiveInPast"
    assert int(done.error_args["effectiveFrom"]) == soon


@pytest.fixture
def quiet_ledger(tmp_path):
    """A ledger whose background reconciler does not run: the test alone sends and looks, so
    what it sees between two steps is not changed by a pass it did not ask for."""
    running = Ledger(make_settings(tmp_path / "data", reconcile_interval=3600)).start()
    yield running
    running.stop()


def test_crash_between_signing_and_broadcast_is_sent_by_the_next_process(quiet_ledger, monkeypatch):
    ledger = quiet_ledger
    owner = make_owner(ledger)
    outbox, signer = ledger.chain.outbox, ledger.chain.signer

    class Crash(BaseException):
        pass

    def crash(_raw):
        raise Crash()

    monkeypatch.setattr(ledger.chain.w3.eth, "send_raw_transaction", crash)
    with pytest.raises(Crash):
        outbox.submit("crashy", signer, register_call(ledger, owner, "crash"))
    monkeypatch.undo()
    stored = outbox.by_key("crashy")
    assert stored.status == OpStatus.pending and stored.raw_tx
    assert ledger.chain.w3.eth.get_transaction_count(signer) == stored.nonce  # never reached the node

    restarted = Outbox(ledger.engine, ledger.chain.w3, ledger.keys, ledger.chain.chain_id)
    done = restarted.wait(stored.id)

    assert done.status == OpStatus.confirmed and done.tx_hash == stored.tx_hash
    assert registered_events(ledger, [work_id("crash")]) == 1


def test_write_while_node_is_down_is_kept_and_sent_when_it_is_back(tmp_path):
    ledger = Ledger(make_settings(tmp_path / "data", reconcile_interval=3600)).start()
    try:
        owner = make_owner(ledger)
        outbox, signer = ledger.chain.outbox, ledger.chain.signer
        ledger.chain.node.stop()

        op = outbox.submit("while-down", signer, register_call(ledger, owner, "down"))
        assert op.status == OpStatus.queued and op.last_error
        with pytest.raises(ChainUnavailable, match="kept"):
            outbox.wait(op.id, timeout=0.5)

        assert ledger.chain.ensure_node()
        assert outbox.wait(op.id).status == OpStatus.confirmed
        assert registered_events(ledger, [work_id("down")]) == 1
    finally:
        ledger.stop()


def test_node_killed_mid_batch_loses_nothing_and_sends_nothing_twice(any_db_ledger):
    ledger = any_db_ledger
    owner = make_owner(ledger)
    outbox, signer, node = ledger.chain.outbox, ledger.chain.signer, ledger.chain.node
    # A clean stop writes the state file; what is mined after it exists only in the node's
    # memory until the next periodic dump, so the hard kill below loses it from the chain.
    node.state_interval = 3600
    node.stop()
    node.start()
    batch = 24
    ids = [work_id(f"batch-{i}") for i in range(batch)]
    submitted = threading.Event()

    def submit_all():
        for i in range(batch):
            outbox.submit(f"batch-{i}", signer, register_call(ledger, owner, f"batch-{i}"))
        submitted.set()

    writer = threading.Thread(target=submit_all)
    writer.start()
    deadline = time.monotonic() + 60
    while _count(ledger, OpStatus.confirmed, OpStatus.pending) < batch // 3:
        assert writer.is_alive() and time.monotonic() < deadline, "the writer stopped before a third of the batch"
        time.sleep(0.005)
    node.kill()  # the reconciler notices and restarts it from the older state file
    writer.join(60)
    assert submitted.is_set()
    wait_until_settled(ledger)

    with session(ledger.engine) as db:
        ops = db.exec(select(ChainOp).where(ChainOp.idempotency_key.like("batch-%"))).all()
    nonces = sorted(op.nonce for op in ops)
    assert [op.status for op in ops] == [OpStatus.confirmed] * batch
    assert sum(op.broadcasts for op in ops) > 0, "the kill was meant to lose mined transactions"
    assert nonces == list(range(nonces[0], nonces[0] + batch))
    assert registered_events(ledger, ids) == batch
    assert all(ledger.registries.work(i).owner == owner for i in ids)
    assert chain_nonce(ledger, signer) == nonces[-1] + 1


def _count(ledger: Ledger, *statuses: OpStatus) -> int:
    with session(ledger.engine) as db:
        return len(
            db.exec(
                select(ChainOp.id).where(ChainOp.idempotency_key.like("batch-%"), ChainOp.status.in_(statuses))
            ).all()
        )


def test_nonce_taken_outside_the_outbox_is_signed_again_and_sent_once(ledger):
    owner = make_owner(ledger)
    outbox, signer, w3 = ledger.chain.outbox, ledger.chain.signer, ledger.chain.w3
    outbox.wait(outbox.submit("warm", signer, register_call(ledger, owner, "warm")).id)  # nonce now cached
    account = ledger.keys.account(signer)
    stray = account.sign_transaction(
        {
            "to": owner,
            "value": 1,
            "gas": 21_000,
            "gasPrice": w3.eth.gas_price,
            "nonce": w3.eth.get_transaction_count(signer),
            "chainId": ledger.chain.chain_id,
        }
    )
    w3.eth.send_raw_transaction(stray.raw_transaction)  # the same key used by another program

    op = outbox.wait(outbox.submit("after-stray", signer, register_call(ledger, owner, "stray")).id)

    assert op.status == OpStatus.confirmed
    assert op.tx_hash != "0x" + bytes(stray.hash).hex()
    assert registered_events(ledger, [work_id("stray")]) == 1


def test_a_resend_that_finds_its_own_transaction_mined_signs_nothing_again(quiet_ledger):
    """The reconciler may look for a receipt just before the transaction is mined and then
    broadcast it again: the node answers "nonce too low", which must not be read as the nonce
    being taken by someone else (that would sign and send the call a second time)."""
    ledger = quiet_ledger
    owner = make_owner(ledger)
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    op = outbox.wait(outbox.submit("mined-before-resend", signer, register_call(ledger, owner, "race")).id)
    assert op.status == OpStatus.confirmed
    with session(ledger.engine) as db:  # as the reconciler saw it a moment before it was mined
        row = db.get(ChainOp, op.id)
        row.status = OpStatus.pending
        db.add(row)
        db.commit()
        outbox._broadcast(db, row)
        db.refresh(row)
        assert (row.status, row.nonce, row.tx_hash) == (OpStatus.pending, op.nonce, op.tx_hash)
    outbox.reconcile([op.id])
    assert outbox.get(op.id).status == OpStatus.confirmed
    assert registered_events(ledger, [work_id("race")]) == 1
    assert chain_nonce(ledger, signer) == op.nonce + 1


def _seen_before_its_receipt(ledger: Ledger, key: str, title: str) -> ChainOp:
    """An op mined on chain but pending in the outbox, as a pass that looked for its receipt a
    moment before it was mined leaves it."""
    outbox = ledger.chain.outbox
    op = outbox.wait(outbox.submit(key, ledger.chain.signer, register_call(ledger, make_owner(ledger), title)).id)
    assert op.status == OpStatus.confirmed
    with session(ledger.engine) as db:
        row = db.get(ChainOp, op.id)
        row.status, row.block_number = OpStatus.pending, None
        db.add(row)
        db.commit()
    return op


def test_a_nonce_the_node_names_as_ours_is_not_signed_again_while_its_receipt_is_unseen(quiet_ledger, monkeypatch):
    """The count of the sender's transactions may move before a receipt is found (a node that
    indexes receipts after the state, a load balancer in front of two nodes): the node's answer
    to which transaction holds the nonce keeps that from reading as someone else's."""
    ledger = quiet_ledger
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    op = _seen_before_its_receipt(ledger, "receipt-late", "late")
    monkeypatch.setattr(outbox, "_receipts", lambda hashes: {})
    for _ in range(3):
        outbox.reconcile([op.id])
    row = outbox.get(op.id)
    assert (row.status, row.nonce, row.tx_hash) == (OpStatus.pending, op.nonce, op.tx_hash)
    monkeypatch.undo()
    assert outbox.wait(op.id).status == OpStatus.confirmed
    assert registered_events(ledger, [work_id("late")]) == 1
    assert chain_nonce(ledger, signer) == op.nonce + 1


def test_a_node_that_cannot_name_the_nonces_holder_is_given_time_before_anything_is_signed_again(
    quiet_ledger, monkeypatch
):
    ledger = quiet_ledger
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    op = _seen_before_its_receipt(ledger, "receipt-later", "later")
    monkeypatch.setattr(outbox, "_holder_of", lambda sender, nonce: None)
    monkeypatch.setattr(outbox, "_receipts", lambda hashes: {})
    outbox.reconcile([op.id])
    row = outbox.get(op.id)
    assert (row.status, row.nonce) == (OpStatus.pending, op.nonce)
    assert "no receipt of ours" in (row.last_error or "")
    monkeypatch.setattr(outbox, "_receipts", Outbox._receipts.__get__(outbox))  # the receipt shows up in time
    assert outbox.wait(op.id).status == OpStatus.confirmed
    assert registered_events(ledger, [work_id("later")]) == 1
    assert chain_nonce(ledger, signer) == op.nonce + 1
