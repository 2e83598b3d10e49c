"""The committed ABI and bytecode are exactly what the sources compile to."""

import json

from ledger.chain import artifacts
from ledger.chain.client import CONTRACTS


def test_fresh_compile_reproduces_committed_artifacts_exactly():
    compiled = artifacts.compile_contracts()
    committed = {p.stem: p.read_text() for p in artifacts.ARTIFACTS_DIR.glob("*.json")}
    assert set(compiled) == set(committed)
    for name, artifact in compiled.items():
        assert artifact.to_json() == committed[name], f"{name}.json is stale: run `reelledger compile`"


def test_every_deployed_contract_has_an_artifact_with_code():
    for spec in CONTRACTS:
        body = json.loads((artifacts.ARTIFACTS_DIR / f"{spec.name}.json").read_text())
        assert body["bytecode"].startswith("0x") and len(body["bytecode"]) > 1000
        assert any(item["type"] == "error" for item in body["abi"]), f"{spec.name} declares no custom errors"
