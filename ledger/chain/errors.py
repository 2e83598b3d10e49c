"""Errors the chain layer reports, and decoding of reverts into the contracts' custom errors."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import function_signature_to_4byte_selector

from ledger.chain import artifacts


class ChainError(Exception):
    """Base of everything the chain layer raises."""


class ChainUnavailable(ChainError):
    """The node did not answer. The operation is kept in the outbox and sent when it is back."""


class IdempotencyConflict(ChainError):
    """An idempotency key was reused for a different operation."""


class OpTimeout(ChainError):
    """An operation was not final in time; it stays in the outbox and the reconciler carries on."""


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
        return "0x" + value.hex()
    return str(value)


@dataclass(frozen=True)
class _ErrorAbi:
    name: str
    types: tuple[str, ...]
    names: tuple[str, ...]


def _type_string(item: dict) -> str:
    if item["type"].startswith("tuple"):
        inner = ",".join(_type_string(c) for c in item["components"])
        return f"({inner}){item['type'][5:]}"
    return item["type"]


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
        data = bytes.fromhex(data.removeprefix("0x"))
    if not data:
        return ChainRevert("UnknownRevert", {}, label)
    error = _errors_by_selector().get(data[:4])
    if error is None:
        return ChainRevert("UnknownRevert", {"data": data}, label)
    try:
        values = abi_decode(list(error.types), data[4:])
    except Exception:  # malformed payload: keep the raw bytes rather than fail
        return ChainRevert(error.name, {"data": data}, label)
    return ChainRevert(error.name, dict(zip(error.names, values)), label)


def revert_data_of(exc: BaseException) -> str | None:
    """The revert payload carried by a web3 exception, where there is one."""
    data = getattr(exc, "data", None)
    if isinstance(data, dict):
        data = data.get("data")
    if isinstance(data, str) and data.startswith("0x"):
        return data
    return None
