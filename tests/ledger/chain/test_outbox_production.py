"""The outbox on a chain that behaves like a public one, driven by Anvil's own controls: a reorg
that drops a write before its confirmations, a base fee that rises past a sent transaction's
price, and the signer's nonce used by another program holding the same key. In every case the
write ends on chain exactly once.

The ledgers here run no background reconciler: each test reconciles itself, so that what it
sees between two steps is its own doing. Each runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from ledger.chain.fees import signed_fees
from ledger.models import OpStatus
from ledger.service import Ledger
from tests.helpers.outbox import chain_nonce, make_owner, register_call, registered_events, work_id
from tests.helpers.settings import make_settings

CONFIRMATIONS = 2


@pytest.fixture(params=["sqlite", "postgresql"])
def quiet(request, tmp_path):
    """Starts ledgers on one data directory and database (SQLite, then PostgreSQL) whose
    reconciler never runs by itself."""
    started: list[Ledger] = []
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    settings = make_settings(tmp_path / "data", url, reconcile_interval=3600)

    def start(**overrides) -> Ledger:
        ledger = Ledger(settings.model_copy(update=overrides)).start()
        started.append(ledger)
        return ledger

    yield start
    for ledger in started:
        ledger.stop()


@pytest.fixture
def deep(quiet):
    """A ledger counting writes final CONFIRMATIONS blocks deep, as on a chain that can reorg.

    The managed node mines only when a transaction comes, so the contracts are deployed and
    the owner approved by a first start without confirmations; the operator then restarts
    the service with REELLEDGER_CONFIRMATIONS set."""
    first = quiet()
    make_owner(first)
    first.stop()
    return quiet(confirmations=CONFIRMATIONS)


def rpc(ledger: Ledger, method: str, *params):
    answer = ledger.chain.w3.provider.make_request(method, list(params))
    assert "error" not in answer, answer
    return answer.get("result")


def mine(ledger: Ledger, blocks: int) -> None:
    rpc(ledger, "anvil_mine", hex(blocks))


def the_owner(ledger: Ledger) -> str:
    return ledger.keys.ensure("owner")


def mined_block(ledger: Ledger, op) -> int:
    """The block the node mined the op's transaction in (Anvil answers a send before it mines)."""
    return ledger.chain.w3.eth.wait_for_transaction_receipt(op.tx_hash, timeout=30)["blockNumber"]


def transactions_at(ledger: Ledger, sender: str, nonce: int) -> list[str]:
    """The hashes of every mined transaction from `sender` with `nonce`, on the whole chain."""
    w3 = ledger.chain.w3
    return [
        "0x" + bytes(tx["hash"]).hex()
        for number in range(w3.eth.block_number + 1)
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]
        if tx["from"] == sender and tx["nonce"] == nonce
    ]


def same_key_transfer(ledger: Ledger, op, to: str, price_times: int):
    """A transfer signed with the op's sender key at the op's nonce, as another program holding
    the key would send it, offering `price_times` the op's price."""
    offered = signed_fees(op.raw_tx)
    return ledger.keys.account(op.sender).sign_transaction(
        {
            "to": to,
            "value": 1,
            "gas": 21_000,
            "nonce": op.nonce,
            "chainId": ledger.chain.chain_id,
            "maxFeePerGas": price_times * offered.cap,
            "maxPriorityFeePerGas": price_times * offered.tip,
            "type": 2,
        }
    )


def hashes(op) -> list[str]:
    return [version["hash"] for version in op.sent_txs]


# ------------------------------------------------------------------------------------ reorgs


def test_a_write_a_reorg_drops_before_its_confirmations_is_sent_again_and_confirmed_once(deep):
    ledger, owner = deep, the_owner(deep)
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    op = outbox.submit("reorged", signer, register_call(ledger, owner, "reorged"))
    mined_in = mined_block(ledger, op)
    mine(ledger, 1)
    outbox.reconcile([op.id])
    assert outbox.get(op.id).status == OpStatus.pending  # its receipt is seen, one block deep of two

    rpc(ledger, "anvil_reorg", 2, [])  # its block and the one on top give way to two empty blocks
    mine(ledger, CONFIRMATIONS)  # the new chain is deep enough where its block used to be
    assert registered_events(ledger, [work_id("reorged")]) == 0
    outbox.reconcile([op.id])
    resent = outbox.get(op.id)
    assert (resent.status, resent.broadcasts) == (OpStatus.pending, 1)

    mined_block(ledger, resent)
    mine(ledger, CONFIRMATIONS)
    outbox.reconcile([op.id])
    done = outbox.get(op.id)
    assert done.status == OpStatus.confirmed
    assert (done.nonce, done.tx_hash) == (op.nonce, op.tx_hash)  # the same signed bytes: its nonce was free
    assert done.block_number > mined_in
    assert registered_events(ledger, [work_id("reorged")]) == 1
    assert chain_nonce(ledger, signer) == op.nonce + 1


def test_a_write_whose_nonce_a_reorg_gives_to_another_transaction_is_signed_again_once_that_is_final(deep):
    ledger, owner = deep, the_owner(deep)
    outbox, signer, w3 = ledger.chain.outbox, ledger.chain.signer, ledger.chain.w3
    op = outbox.submit("nonce-reorged", signer, register_call(ledger, owner, "nonce-reorged"))
    mined_block(ledger, op)
    other = same_key_transfer(ledger, op, owner, price_times=1)
    rpc(ledger, "anvil_reorg", 1, [["0x" + bytes(other.raw_transaction).hex(), 0]])  # its block now holds `other`

    outbox.reconcile([op.id])  # `other` holds the nonce, but may yet be reorged away itself
    waiting = outbox.get(op.id)
    assert (waiting.status, waiting.nonce) == (OpStatus.pending, op.nonce)
    assert f"nonce {op.nonce} is used by another transaction" in waiting.last_error

    mine(ledger, CONFIRMATIONS)  # now `other` is final: these bytes can never be mined
    outbox.reconcile([op.id])
    resigned = outbox.get(op.id)
    assert resigned.nonce == op.nonce + 1 and resigned.tx_hash != op.tx_hash
    mined_block(ledger, resigned)
    mine(ledger, CONFIRMATIONS)
    outbox.reconcile([op.id])

    assert outbox.get(op.id).status == OpStatus.confirmed
    assert transactions_at(ledger, signer, op.nonce) == ["0x" + bytes(other.hash).hex()]
    assert registered_events(ledger, [work_id("nonce-reorged")]) == 1
    assert w3.eth.get_transaction_count(signer) == op.nonce + 2


def test_without_confirmations_a_reorg_after_the_first_receipt_is_not_watched(quiet):
    """REELLEDGER_CONFIRMATIONS=0 (the default, for the development chain) makes a write final
    at its first receipt: a reorg that then drops it leaves the op confirmed and the chain
    without it. On a chain that can reorg, set confirmations."""
    ledger = quiet()
    owner = make_owner(ledger)
    outbox = ledger.chain.outbox
    op = outbox.wait(outbox.submit("unwatched", ledger.chain.signer, register_call(ledger, owner, "unwatched")).id)
    assert op.status == OpStatus.confirmed

    rpc(ledger, "anvil_reorg", 1, [])
    ledger.chain.recover_lost()
    outbox.reconcile()

    assert outbox.get(op.id).status == OpStatus.confirmed
    assert registered_events(ledger, [work_id("unwatched")]) == 0


def test_without_confirmations_a_chain_rewound_below_a_write_has_it_sent_again(quiet):
    """What confirmations = 0 does notice: a node that comes back with fewer blocks than the
    write's (a snapshot restored, a state file older than the write)."""
    ledger = quiet()
    owner = make_owner(ledger)
    outbox = ledger.chain.outbox
    before = rpc(ledger, "evm_snapshot")
    op = outbox.wait(outbox.submit("rewound", ledger.chain.signer, register_call(ledger, owner, "rewound")).id)
    rpc(ledger, "evm_revert", before)

    assert ledger.chain.recover_lost() == 1
    done = outbox.wait(op.id)

    assert (done.status, done.tx_hash) == (OpStatus.confirmed, op.tx_hash)
    assert registered_events(ledger, [work_id("rewound")]) == 1


# ------------------------------------------------------------------------ rising base fee


@pytest.fixture
def stalled(quiet):
    """A ledger whose node mines only when told to, with a long fee-bump bound."""
    ledger = quiet(fee_bump_after=3600)
    make_owner(ledger)
    rpc(ledger, "evm_setAutomine", False)
    yield ledger
    rpc(ledger, "evm_setAutomine", True)


@pytest.mark.parametrize("node_keeps_it", [True, False], ids=["in-the-pool", "dropped-from-the-pool"])
def test_a_write_stuck_under_a_rising_base_fee_is_replaced_at_the_same_nonce_after_the_bound(stalled, node_keeps_it):
    """geth keeps an underpriced transaction in its pool; Anvil drops it once a block at the
    higher base fee is mined and refuses its bytes again. Either way the outbox replaces it."""
    ledger, owner = stalled, the_owner(stalled)
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    op = outbox.submit("stuck", signer, register_call(ledger, owner, "stuck"))
    offered = signed_fees(op.raw_tx)
    rpc(ledger, "anvil_setNextBlockBaseFeePerGas", hex(4 * offered.cap))
    if not node_keeps_it:
        mine(ledger, 1)  # a block it cannot pay for: Anvil leaves it out and forgets it

    outbox.reconcile([op.id])
    assert hashes(outbox.get(op.id)) == [op.tx_hash]  # the bound has not passed: nothing replaced
    outbox.fee_bump_after = 0  # now it has
    outbox.reconcile([op.id])
    replaced = outbox.get(op.id)
    assert hashes(replaced) == [op.tx_hash, replaced.tx_hash] and replaced.nonce == op.nonce

    mine(ledger, 1)
    done = outbox.wait(op.id)
    bumped = signed_fees(replaced.raw_tx)
    assert done.status == OpStatus.confirmed and done.tx_hash in hashes(replaced)
    assert bumped.cap * 10 >= offered.cap * 11 and bumped.tip * 10 >= offered.tip * 11  # geth's +10% minimum
    assert transactions_at(ledger, signer, op.nonce) == [done.tx_hash]
    assert registered_events(ledger, [work_id("stuck")]) == 1


def test_a_receipt_for_an_earlier_version_confirms_the_op(stalled):
    """A replacement may never reach the block builder that mines the version it replaced."""
    ledger, owner = stalled, the_owner(stalled)
    outbox, signer, w3 = ledger.chain.outbox, ledger.chain.signer, ledger.chain.w3
    op = outbox.submit("first-wins", signer, register_call(ledger, owner, "first-wins"))
    offered = signed_fees(op.raw_tx)
    rpc(ledger, "anvil_setNextBlockBaseFeePerGas", hex(4 * offered.cap))
    outbox.fee_bump_after = 0
    outbox.reconcile([op.id])
    replaced = outbox.get(op.id)
    assert len(hashes(replaced)) == 2

    rpc(ledger, "anvil_dropTransaction", replaced.tx_hash)  # the replacement is lost on its way
    rpc(ledger, "anvil_setNextBlockBaseFeePerGas", hex(w3.eth.get_block("latest")["baseFeePerGas"]))
    w3.eth.send_raw_transaction(op.raw_tx)  # and the first version, still out there, is mined
    mine(ledger, 1)
    outbox.reconcile([op.id])

    done = outbox.get(op.id)
    assert (done.status, done.tx_hash) == (OpStatus.confirmed, op.tx_hash)
    assert transactions_at(ledger, signer, op.nonce) == [op.tx_hash]
    assert registered_events(ledger, [work_id("first-wins")]) == 1


# ----------------------------------------------------------------- nonce taken elsewhere


def test_a_sent_write_whose_nonce_another_program_takes_is_signed_again_at_a_fresh_nonce_once(stalled):
    """An operator sends a transaction from the signer's key (as with `cast send`), outbidding
    the outbox's own in the node's pool: the node mines the operator's, and the outbox, finding
    no receipt for its transaction while the account's nonce has passed it, signs it again."""
    ledger, owner = stalled, the_owner(stalled)
    outbox, signer, w3 = ledger.chain.outbox, ledger.chain.signer, ledger.chain.w3
    op = outbox.submit("outbid-by-operator", signer, register_call(ledger, owner, "operator"))
    operator = same_key_transfer(ledger, op, owner, price_times=2)  # outbids it in the node's pool
    w3.eth.send_raw_transaction(operator.raw_transaction)
    mine(ledger, 1)
    rpc(ledger, "evm_setAutomine", True)

    done = outbox.wait(op.id)

    assert done.status == OpStatus.confirmed
    assert done.nonce == op.nonce + 1 and hashes(done) == [done.tx_hash]
    assert transactions_at(ledger, signer, op.nonce) == ["0x" + bytes(operator.hash).hex()]
    assert registered_events(ledger, [work_id("operator")]) == 1
    assert w3.eth.get_transaction_count(signer) == op.nonce + 2
