"""Errors the chain layer reports, and decoding of reverts into the contracts' custom errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector
from web3.exceptions import ContractLogicError, ProviderConnectionError, Web3RPCError

from ledger.chain import artifacts
from ledger.chain.hexes import from_0x, to_0x


class ChainError(Exception):
    """Base of everything the chain layer raises."""


class ChainUnavailable(ChainError):
    """The node did not answer. The operation is kept in the outbox and sent when it is back."""


class IdempotencyConflict(ChainError):
    """An idempotency key was reused for a different operation."""


class OpTimeout(ChainError):
    """An operation was not final in time; it stays in the outbox and the reconciler carries on."""


class GasPending(ChainError):
    """The account's gas top-up is sent but not mined yet: its write waits in the queue for it."""


class InsufficientFunds(ChainError):
    """An account the service signs for cannot pay for its transaction, and the funding key
    cannot top it up. The operation stays queued in the outbox and is sent once it can pay.

    `address` is the account that must pay, `shortfall` the wei it lacks for this transaction
    at the fees of the moment; `funder` and `funder_balance` say where its gas comes from."""

    code = "insufficient_funds"

    def __init__(
        self,
        address: str,
        shortfall: int,
        funder: str | None = None,
        funder_balance: int | None = None,
        label: str = "",
    ) -> None:
        self.address, self.shortfall, self.funder, self.funder_balance = address, shortfall, funder, funder_balance
        self.label = label
        message = f"{label + ': ' if label else ''}{address} lacks {shortfall} wei to pay for its transaction"
        if funder and funder != address:
            message += f", and the funding key {funder} (holding {funder_balance} wei) cannot top it up"
        super().__init__(message + "; it is sent once the account can pay")

    @property
    def details(self) -> dict[str, str]:
        """The values as JSON strings (wei outgrow a JSON number's exact range)."""
        found = {"address": self.address, "shortfall": str(self.shortfall)}
        if self.funder and self.funder != self.address:
            found.update(funder=self.funder, funder_balance=str(self.funder_balance))
        return found

    @classmethod
    def from_details(cls, details: dict[str, Any], label: str = "") -> InsufficientFunds:
        balance = details.get("funder_balance")
        return cls(
            details["address"],
            int(details["shortfall"]),
            details.get("funder"),
            None if balance is None else int(balance),
            label,
        )


class ChainRevert(ChainError):
    """The contract refused the call; `name` is its custom error, `args` the values it carried."""

    def __init__(self, name: str, args: dict[str, Any], label: str = "") -> None:
        self.name = name
        self.args_by_name = args
        self.label = label
        shown = ", ".join(f"{k}={_show(v)}" for k, v in args.items())
        super().__init__(f"{label + ': ' if label else ''}{name}({shown})")


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return to_0x(value)
    return str(value)


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    types: tuple[str, ...]
    names: tuple[str, ...]


def _type_string(item: dict[str, Any]) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_type_string(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return str(item["type"])


@cache
def _errors_by_selector() -> dict[bytes, _ErrorAbi]:
    table = {
        function_signature_to_4byte_selector("Error(string)"): _ErrorAbi("Error", ("string",), ("message",)),
        function_signature_to_4byte_selector("Panic(uint256)"): _ErrorAbi("Panic", ("uint256",), ("code",)),
    }
    for abi in artifacts.all_abis():
        for item in abi:
            if item["type"] != "error":
                continue
            types = tuple(_type_string(i) for i in item["inputs"])
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            table[selector] = _ErrorAbi(item["name"], types, tuple(i["name"] for i in item["inputs"]))
    return table


def decode_revert(data: bytes | str | None, label: str = "") -> ChainRevert:
    """Name a revert by the custom error whose selector starts its data."""
    if isinstance(data, str):
        data = from_0x(data)
    if not data:
        return ChainRevert("UnknownRevert", {}, label)
    error = _errors_by_selector().get(data[:4])
    if error is None:
        return ChainRevert("UnknownRevert", {"data": data}, label)
    try:
        values = abi_decode(list(error.types), data[4:])
    except Exception:  # malformed payload: keep the raw bytes rather than fail
        return ChainRevert(error.name, {"data": data}, label)
    return ChainRevert(error.name, dict(zip(error.names, values, strict=True)), label)


# Where each node flavour puts the revert bytes in its JSON-RPC error object: `data` itself
# (Anvil, geth with code 3 and "execution reverted", Besu with "Execution reverted", Hardhat's
# string form), `data.data` (Hardhat's object form), `data.result` (Ganache 7), `return` under
# a transaction hash (Ganache 6: `data` keyed by the hash), `revertReason` (Besu receipts and
# errors with --revert-reason-enabled), `output` (traces). Only these names are read: Ganache
# also sends the transaction's hash (`hash`), which is hex too and no revert.
REVERT_KEYS = ("data", "result", "return", "revertReason", "output")
_HEX = re.compile(r"0x(?:[0-9a-fA-F]{2})*")


def revert_payload(value: Any, depth: int = 0) -> str | None:
    """The revert bytes (hex) in one node's error `data` or receipt field, or None."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("Reverted "):  # OpenEthereum and Besu's older form: "Reverted 0x..."
            text = text.removeprefix("Reverted ").strip()
        return text if _HEX.fullmatch(text) else None
    if not isinstance(value, dict) or depth > 3:
        return None
    for key in REVERT_KEYS:
        found = revert_payload(value.get(key), depth + 1)
        if found is not None:
            return found
    # Nested objects: Ganache 6 keys its by the transaction hash ({"0x<hash>": {"return": "0x..."}}),
    # relays wrap the node's own error ({"originalError": {"data": "0x..."}}).
    for inner in value.values():
        if isinstance(inner, dict):
            found = revert_payload(inner, depth + 1)
            if found is not None:
                return found
    return None


def _rpc_error(exc: BaseException) -> dict[str, Any]:
    """The JSON-RPC error object a web3 exception came from (web3 8's Web3RPCError keeps the
    whole response as `rpc_response`), or an empty dict."""
    response = getattr(exc, "rpc_response", None)
    error = response.get("error") if isinstance(response, dict) else None
    return error if isinstance(error, dict) else {}


def revert_data_of(exc: BaseException) -> str | None:
    """The revert payload carried by a web3 exception, whichever node raised it.

    web3 8 raises ContractCustomError / ContractPanicError / ContractLogicError with the
    error object's `data` as `.data` (a hex string, "Reverted 0x...", a dict, or "no data"),
    and a plain Web3RPCError with `.rpc_response` when it does not see a revert (Besu's
    "Execution reverted" with an Error(string) payload, say)."""
    for source in (getattr(exc, "data", None), _rpc_error(exc)):
        found = revert_payload(source)
        if found is not None:
            return found
    return None


def is_revert(exc: BaseException) -> bool:
    """Whether a node's error says the EVM reverted (rather than that the node is unwell)."""
    if isinstance(exc, ContractLogicError):
        return True
    if isinstance(exc, Web3RPCError):
        error = _rpc_error(exc)
        message = str(error.get("message", "")).lower()
        return "revert" in message or revert_payload(error.get("data")) is not None
    return False


# What metrics count chain errors by (ledger.metrics): a short fixed list, never a message.
ERROR_KINDS = (
    "node_unavailable",  # the node did not answer; the write waits in the outbox
    "node_refused",  # the node answered with an error that is no revert (a price too low, say)
    "gas_pending",  # the sender's gas top-up is not mined yet
    "insufficient_funds",  # nobody can pay the sender's gas; the write is held
    "rejected",  # the dry run reverted: nothing was sent
    "reverted",  # mined, and reverted
    "other",
)


def error_kind(exc: BaseException) -> str:
    """The kind (of ERROR_KINDS) of an error met while sending a write."""
    if isinstance(exc, InsufficientFunds):
        return "insufficient_funds"
    if isinstance(exc, GasPending):
        return "gas_pending"
    if isinstance(exc, (ChainUnavailable, OSError, ProviderConnectionError)):
        return "node_unavailable"
    if isinstance(exc, Web3RPCError):
        return "node_refused"
    return "other"
