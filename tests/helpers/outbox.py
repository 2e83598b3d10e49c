"""Builders shared by the outbox tests: a work registration to send, an owner who lets the
service send it, and what the chain shows afterwards."""

from __future__ import annotations

import hashlib

from ledger.service import Ledger


def work_id(n: int | str) -> bytes:
    return hashlib.sha256(f"master file {n}".encode()).digest()


def register_call(ledger: Ledger, owner: str, n: int | str):
    return ledger.chain.call(
        "WorkRegistry", "register", [work_id(n), owner, b"\x11" * 32, b"\x22" * 32, f"ipfs://meta/{n}"]
    )


def make_owner(ledger: Ledger) -> str:
    """An owner who lets the service register works on its behalf."""
    owner = ledger.keys.ensure("owner")
    ledger.chain.fund(owner)
    ledger.registries.set_operator("approve-service", owner, ledger.chain.signer, True)
    return owner


def chain_nonce(ledger: Ledger, address: str) -> int:
    return ledger.chain.w3.eth.get_transaction_count(address)


def registered_events(ledger: Ledger, ids: list[bytes]) -> int:
    logs = ledger.chain.contract("WorkRegistry").events.WorkRegistered().get_logs(from_block=0)
    wanted = set(ids)
    return sum(1 for log in logs if log["args"]["workId"] in wanted)
