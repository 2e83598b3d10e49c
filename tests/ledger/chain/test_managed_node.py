"""The managed Anvil node starts again after a hard kill cut its state file short.

Anvil rewrites its state file in place every second; a SIGKILL in the middle of a dump leaves
a prefix that Anvil refuses to load (it exits with a usage error), so a node killed at the
wrong moment would never come back without the whole copy kept beside the file.
"""

from __future__ import annotations

import json
import time
import urllib.request

from ledger.chain.node import ManagedAnvil, rpc_answers
from ledger.config import native_foundry_binary
from ledger.service import Ledger
from tests.helpers.outbox import make_owner, register_call, registered_events, work_id
from tests.helpers.service import settle
from tests.helpers.settings import free_port, make_settings


def rpc(node: ManagedAnvil, method: str, params: list):
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(node.url, data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())["result"]


def head(node: ManagedAnvil) -> int:
    return int(rpc(node, "eth_blockNumber", []), 16)


def saved_block(path) -> int:
    return int(json.loads(path.read_bytes())["block"]["number"], 16)


def wait_for(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except (OSError, ValueError, KeyError):
            pass
        time.sleep(0.05)
    raise AssertionError("timed out")


def node_in(tmp_path, **kwargs) -> ManagedAnvil:
    return ManagedAnvil(native_foundry_binary("anvil"), free_port(), tmp_path / "anvil-state.json", **kwargs)


def cut_short(path) -> bytes:
    body = path.read_bytes()
    path.write_bytes(body[: len(body) // 2])
    return body[: len(body) // 2]


def test_a_state_file_cut_short_falls_back_to_the_last_whole_copy(tmp_path):
    node = node_in(tmp_path, backup_interval=0.1)
    node.start()
    try:
        rpc(node, "anvil_mine", ["0x5"])
        wait_for(lambda: saved_block(node.whole_copy) == 5)
        node.kill()
        cut = cut_short(node.state_file)
        node.start()
        assert head(node) == 5
        assert node.cut_file.read_bytes() == cut
        rpc(node, "anvil_mine", ["0x2"])
        node.stop()  # a clean stop dumps whole, and the next start copies it
        node.start()
        assert head(node) == 7 and saved_block(node.whole_copy) == 7
    finally:
        node.stop()


def test_a_cut_state_file_without_a_whole_copy_starts_an_empty_chain(tmp_path):
    node = node_in(tmp_path, backup_interval=3600)
    node.state_file.write_bytes(b'{"block":{"number":"0x9","benefici')
    node.start()
    try:
        assert rpc_answers(node.url) == node.chain_id and head(node) == 0
        assert node.cut_file.read_bytes() == b'{"block":{"number":"0x9","benefici'
        assert not node.whole_copy.exists()
    finally:
        node.stop()


def test_the_ledger_sends_again_what_a_cut_state_file_lost(tmp_path):
    """Worst case: no whole copy at all, so the node starts empty and every write, the
    contracts' deployments included, is sent again from the outbox's signed bytes."""
    ledger = Ledger(make_settings(tmp_path / "data", reconcile_interval=3600)).start()  # restarts by hand here
    try:
        node, outbox = ledger.chain.node, ledger.chain.outbox
        owner = make_owner(ledger)
        ids = [work_id(f"cut-{i}") for i in range(3)]
        for i in range(3):
            outbox.wait(outbox.submit(f"cut-{i}", ledger.chain.signer, register_call(ledger, owner, f"cut-{i}")).id)
        mined = head(node)
        wait_for(lambda: saved_block(node.state_file) == mined)
        node.kill()
        node.whole_copy.unlink(missing_ok=True)
        cut_short(node.state_file)

        assert ledger.chain.ensure_node()
        assert head(node) == 0 and node.cut_file.exists()
        settle(outbox)
        assert head(node) >= mined
        assert registered_events(ledger, ids) == 3
        assert all(ledger.registries.work(i).owner == owner for i in ids)
    finally:
        ledger.stop()


def test_a_whole_state_file_anvil_cannot_load_is_set_aside(tmp_path):
    """JSON that parses but is not a state Anvil knows (another version's, say): the node starts
    empty, the outbox fills it again, and the file is kept."""
    node = node_in(tmp_path, backup_interval=3600)
    node.state_file.write_text('{"block": "from another version"}')
    node.start()
    try:
        assert head(node) == 0
        assert node.unloadable_file.read_text() == '{"block": "from another version"}'
    finally:
        node.stop()


def test_a_managed_node_with_confirmations_keeps_mining_so_writes_become_final(tmp_path):
    """Anvil mines only when a transaction arrives: a write waiting for blocks on top of its own
    would wait forever (the contracts' deployments first). With confirmations asked for, the
    managed node mines a block every second."""
    ledger = Ledger(make_settings(tmp_path / "data", confirmations=2)).start()
    try:
        owner = make_owner(ledger)
        outbox = ledger.chain.outbox
        op = outbox.wait(outbox.submit("final-1", ledger.chain.signer, register_call(ledger, owner, "final-1")).id)
        assert op.status.value == "confirmed"
        assert head(ledger.chain.node) >= op.block_number + 2
        assert registered_events(ledger, [work_id("final-1")]) == 1
    finally:
        ledger.stop()
