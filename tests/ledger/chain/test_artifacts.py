"""The committed ABI and bytecode are exactly what the sources compile to."""

import json
import re

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


CANCUN_OPCODES = {0x5C: "TLOAD", 0x5D: "TSTORE", 0x5E: "MCOPY", 0x49: "BLOBHASH", 0x4A: "BLOBBASEFEE"}
# solc's CBOR metadata trailer, {"ipfs": <34 bytes>, "solc": <3 bytes>} and its length: data, not code (a contract
# that deploys another embeds the other's trailer too).
METADATA = re.compile(rb"\xa2\x64ipfs\x58\x22.{34}\x64solc\x43.{3}\x00\x33", re.DOTALL)


def _opcodes(code: bytes):
    """The instructions of EVM code, PUSH data and metadata skipped (a 0x5e pushed is data, not MCOPY)."""
    code = METADATA.sub(b"", code)
    i = 0
    while i < len(code):
        op = code[i]
        yield op
        i += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)


def test_no_contract_uses_an_opcode_newer_than_shanghai():
    """One build runs on every chain from Shanghai on (Ganache 7 stops there): no artifact, creation or
    runtime code, holds a Cancun instruction."""
    for path in sorted(artifacts.ARTIFACTS_DIR.glob("*.json")):
        artifact = artifacts.load(path.stem)
        for kind, code in (("creation", artifact.bytecode), ("runtime", artifact.deployed_bytecode)):
            found = {CANCUN_OPCODES[op] for op in _opcodes(bytes.fromhex(code[2:])) if op in CANCUN_OPCODES}
            assert not found, f"{artifact.name} {kind} code uses {sorted(found)}"
