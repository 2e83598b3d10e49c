"""Writes per second through the chain layer (outbox included) against the managed Anvil node,
next to a bare web3 loop sending the same calls in the same run.

    scripts/bench-writes [--writes N] [--database-url URL]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import secrets
import socket
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from ledger.chain.outbox import raise_for
from ledger.config import Settings
from ledger.service import Ledger


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def register_args(tag: str, i: int, owner: str) -> list:
    work = hashlib.sha256(f"{tag}-{i}".encode()).digest()
    return [work, owner, b"\x11" * 32, b"\x22" * 32, f"ipfs://bench/{tag}/{i}"]


def bare_loop(ledger: Ledger, owner: str, n: int, tag: str) -> float:
    """web3 alone: build (with gas estimate), sign, send, wait for the receipt."""
    w3, chain = ledger.chain.w3, ledger.chain
    account = ledger.keys.account(ledger.keys.address_of("bench-bare"))  # its own nonces, apart from the outbox's
    works = chain.contract("WorkRegistry")
    nonce = w3.eth.get_transaction_count(account.address)
    started = time.perf_counter()
    for i in range(n):
        tx = works.functions.register(*register_args(f"bare-{tag}", i, owner)).build_transaction(
            {"from": account.address, "nonce": nonce + i, "chainId": chain.chain_id}
        )
        signed = account.sign_transaction(tx)
        tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
        assert w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=0.01)["status"] == 1
    return n / (time.perf_counter() - started)


def outbox_sequential(ledger: Ledger, owner: str, n: int, tag: str) -> float:
    """Each write recorded, signed, stored, sent and confirmed before the next one starts."""
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    started = time.perf_counter()
    for i in range(n):
        call = ledger.chain.call("WorkRegistry", "register", register_args(f"seq-{tag}", i, owner))
        raise_for(outbox.wait(outbox.submit(f"bench-seq-{tag}-{i}", signer, call).id))
    return n / (time.perf_counter() - started)


def outbox_pipelined(ledger: Ledger, owner: str, n: int, tag: str) -> float:
    """All writes submitted back to back (nonces assigned in order), then confirmed together."""
    outbox, signer = ledger.chain.outbox, ledger.chain.signer
    started = time.perf_counter()
    ops = [
        outbox.submit(
            f"bench-pipe-{tag}-{i}",
            signer,
            ledger.chain.call("WorkRegistry", "register", register_args(f"pipe-{tag}", i, owner)),
        )
        for i in range(n)
    ]
    outbox.reconcile([op.id for op in ops])
    for op in ops:
        raise_for(outbox.wait(op.id))
    return n / (time.perf_counter() - started)


@contextmanager
def bench_ledger(database_url: str | None = None):
    """A started ledger on a fresh data directory and Anvil node, with an owner that has
    approved the service as its operator; yields (ledger, owner)."""
    settings = Settings(
        data_dir=Path(tempfile.mkdtemp(prefix="reelledger-bench-")),
        database_url=database_url,
        anvil_port=free_port(),
        master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    ledger = Ledger(settings).start()
    try:
        owner = ledger.keys.ensure("bench-owner")
        ledger.chain.fund(owner)
        ledger.registries.set_operator("bench-approve", owner, ledger.chain.signer, True)
        yield ledger, owner
    finally:
        ledger.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3, help="each mode runs this many times; the best is kept")
    parser.add_argument(
        "--database-url", help="a database of its own (tables are created); default: SQLite in a temporary directory"
    )
    args = parser.parse_args()

    with bench_ledger(args.database_url) as (ledger, owner):
        bare_sender = ledger.keys.ensure("bench-bare")
        ledger.chain.fund(bare_sender)
        ledger.registries.set_operator("bench-approve-bare", owner, bare_sender, True)
        bare_loop(ledger, owner, 10, "warm-up")  # connections and caches
        results: dict[str, float] = {}
        run = secrets.token_hex(4)  # fresh works and keys even on a database kept from an earlier run
        for round_ in range(args.rounds):
            for name, mode in (
                ("bare web3 loop", bare_loop),
                ("outbox, one at a time", outbox_sequential),
                ("outbox, pipelined", outbox_pipelined),
            ):
                rate = mode(ledger, owner, args.writes, f"{run}-r{round_}")
                results[name] = max(results.get(name, 0.0), rate)
        bare = results["bare web3 loop"]
        print(
            f"writes: WorkRegistry.register x {args.writes}, best of {args.rounds}, "
            f"database {ledger.engine.url.get_backend_name()}, managed Anvil (automine)"
        )
        print(f"{'mode':<26}{'writes/s':>10}{'vs bare':>10}")
        for name, rate in results.items():
            print(f"{name:<26}{rate:>10.1f}{rate / bare:>9.0%}")


if __name__ == "__main__":
    main()
