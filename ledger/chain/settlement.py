"""Reading the settlement contract: a period's record as a dict keyed by the ABI's names."""

from __future__ import annotations

from web3.contract import Contract


def read_period(contract: Contract, period_id: str | bytes) -> dict:
    raw_id = bytes.fromhex(period_id[2:]) if isinstance(period_id, str) else period_id
    value = contract.functions.period(raw_id).call()
    outputs = next(f for f in contract.abi if f.get("type") == "function" and f.get("name") == "period")["outputs"]
    names = [c["name"] for c in outputs[0]["components"]]
    return dict(zip(names, value))
