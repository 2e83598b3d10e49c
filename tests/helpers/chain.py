"""A chain the service does not run: an Anvil node started beside it, its funding key, and the
ether that moved on it."""

from __future__ import annotations

from contextlib import contextmanager

from ledger.chain.node import ManagedAnvil
from ledger.config import native_foundry_binary
from tests.helpers.settings import free_port

# Anvil's first development account (its well-known mnemonic), given 10,000 ether at genesis:
# on an external node the tests' funding key, as an operator's own funded key would be.
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


@contextmanager
def external_anvil(directory):
    """An Anvil node started here, not by the service: the service is given only its URL
    (REELLEDGER_RPC_URL), as it would be a chain someone else runs, and has no anvil_setBalance."""
    node = ManagedAnvil(binary=native_foundry_binary("anvil"), port=free_port(), state_file=directory / "external.json")
    node.start()
    try:
        yield node
    finally:
        node.stop()


def ether_flows(w3, address: str) -> tuple[int, int, set[str]]:
    """Wei sent to `address` by transactions, wei it spent (values and fees), and who sent it
    ether, from every block of the chain. On a node where nothing sets balances by fiat, the
    balance is exactly what came in minus what went out."""
    received = spent = 0
    senders = set()
    for number in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["to"] == address and tx["value"]:
                received += tx["value"]
                senders.add(tx["from"])
            if tx["from"] == address:
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                spent += tx["value"] + receipt["gasUsed"] * receipt["effectiveGasPrice"]
    return received, spent, senders
