"""What every contract gateway shares: one deployed contract, its writes as outbox calls.

A gateway's write methods return the `Call` to make, not a sent transaction: callers record it
under their own idempotency key, often in the database transaction that stores the rows
referring to it. Its reads return plain values and frozen dataclasses, never web3 objects.
"""

from __future__ import annotations

from typing import Any

from web3.contract import Contract

from ledger.chain.outbox import Call


class Gateway:
    def __init__(self, contract: Contract, name: str) -> None:
        self.contract = contract
        self.name = name  # the contract's name, as operations are labelled

    @property
    def address(self) -> str:
        return str(self.contract.address)

    def _call(self, function: str, args: list[Any]) -> Call:
        return Call(f"{self.name}.{function}", self.contract.address, self.contract.encode_abi(function, args))
