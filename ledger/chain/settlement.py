"""Reading the settlement contract: a period's record as a dict keyed by the ABI's names."""

from __future__ import annotations

from typing import Any

from web3.contract import Contract

from ledger.chain.hexes import from_0x


def read_period(contract: Contract, period_id: str | bytes) -> dict[str, Any]:
    raw_id = from_0x(period_id) if isinstance(period_id, str) else period_id
    value = contract.functions.period(raw_id).call()
    function = next(f for f in contract.abi if f.get("type") == "function" and f.get("name") == "period")
    names = [c["name"] for c in function["outputs"][0]["components"]]  # type: ignore[typeddict-item]  # a function's entry
    return dict(zip(names, value, strict=True))


def payout_address(registry: str, period_id: str, root: str, token: str) -> str:
    """Where a committed period's funds go and its lines are claimed: the CREATE2 address at which
    the registry deploys the period's PeriodPayout (`SettlementRegistry.payoutOf`), known from the
    commitment alone."""
    from eth_abi import encode
    from eth_utils import keccak, to_checksum_address

    from ledger.chain import artifacts

    salt = from_0x(period_id)
    init_code = bytes.fromhex(artifacts.load("PeriodPayout").bytecode[2:]) + encode(
        ["bytes32", "bytes32", "address"], [salt, from_0x(root), to_checksum_address(token)]
    )
    digest = keccak(b"\xff" + from_0x(registry) + salt + keccak(init_code))
    return to_checksum_address(digest[12:])
