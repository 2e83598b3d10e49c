"""Compiled contracts: compiled by py-solc-x through the solcjs shim, committed as JSON.

The committed artifacts let ReelLedger deploy to and talk with a remote chain without Node.
`compile_contracts` is deterministic, so a test can prove that the sources in `contracts/src`
still produce exactly the committed files.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ledger.chain.hexes import from_0x
from ledger.config import REPO_ROOT

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "artifacts"
SOURCES_DIR = REPO_ROOT / "contracts" / "src"
SOLC_SHIM = REPO_ROOT / "scripts" / "solc"
SOLC_VERSION = "0.8.28"
# Shanghai, not Cancun: one build for every chain from Shanghai on (Ganache 7 stops there; Anvil and Hardhat run it
# too). Measured against the Cancun build: claims, commits and finalising cost the same, funding a period +7 % (a
# storage reentrancy guard instead of a transient one), anchoring a report +3 % (memory copied without MCOPY).
# contracts/foundry.toml compiles for the same target.
COMPILER_SETTINGS = {
    "optimizer": {"enabled": True, "runs": 200},
    "evmVersion": "shanghai",
    "remappings": ["@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"],
    "outputSelection": {
        "*": {
            "*": [
                "abi",
                "evm.bytecode.object",
                "evm.deployedBytecode.object",
                "evm.deployedBytecode.immutableReferences",
            ]
        }
    },
}


@dataclass(frozen=True)
class Artifact:
    name: str
    source: str
    abi: list[dict[str, Any]]
    bytecode: str
    deployed_bytecode: str
    immutable_ranges: tuple[tuple[int, int], ...] = ()  # (byte offset, length) set by the constructor

    def runtime_matches(self, code: bytes) -> bool:
        """Is `code` this contract's runtime code, whatever its constructor wrote into immutables?"""
        expected = bytearray(from_0x(self.deployed_bytecode))
        actual = bytearray(code)
        if len(actual) != len(expected):
            return False
        for start, length in self.immutable_ranges:
            actual[start : start + length] = expected[start : start + length]
        return actual == expected

    def to_json(self) -> str:
        body = {
            "contractName": self.name,
            "sourceName": self.source,
            "compiler": f"solc {SOLC_VERSION}",
            "settings": {k: v for k, v in COMPILER_SETTINGS.items() if k != "outputSelection"},
            "abi": self.abi,
            "bytecode": self.bytecode,
            "deployedBytecode": self.deployed_bytecode,
            "immutableRanges": [list(r) for r in self.immutable_ranges],
        }
        return json.dumps(body, indent=1, sort_keys=True) + "\n"


def compile_contracts() -> dict[str, Artifact]:
    """Compile every contract under contracts/src; returns the deployable ones by name."""
    import solcx

    sources = {
        str(path.relative_to(REPO_ROOT)): {"content": path.read_text()} for path in sorted(SOURCES_DIR.rglob("*.sol"))
    }
    output = solcx.compile_standard(
        {"language": "Solidity", "sources": sources, "settings": COMPILER_SETTINGS},
        solc_binary=SOLC_SHIM,
        base_path=str(REPO_ROOT),
        allow_paths=[str(REPO_ROOT)],
    )
    artifacts: dict[str, Artifact] = {}
    for source, contracts in output["contracts"].items():
        if not source.startswith("contracts/"):
            continue
        for name, out in contracts.items():
            bytecode = out["evm"]["bytecode"]["object"]
            if not bytecode or not out["abi"]:  # interfaces, abstract contracts, internal-only libraries
                continue
            artifacts[name] = Artifact(
                name=name,
                source=source,
                abi=out["abi"],
                bytecode="0x" + bytecode,
                deployed_bytecode="0x" + out["evm"]["deployedBytecode"]["object"],
                immutable_ranges=tuple(
                    sorted(
                        (ref["start"], ref["length"])
                        for refs in out["evm"]["deployedBytecode"].get("immutableReferences", {}).values()
                        for ref in refs
                    )
                ),
            )
    return artifacts


def write_artifacts(artifacts: dict[str, Artifact], directory: Path = ARTIFACTS_DIR) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.json"):
        if stale.stem not in artifacts:
            stale.unlink()
    paths = []
    for artifact in artifacts.values():
        path = directory / f"{artifact.name}.json"
        path.write_text(artifact.to_json())
        paths.append(path)
    return paths


@cache
def load(name: str) -> Artifact:
    """The committed artifact of one contract."""
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.exists():
        raise FileNotFoundError(f"no artifact for {name}: run `reelledger compile`")
    body = json.loads(path.read_text())
    return Artifact(
        name=body["contractName"],
        source=body["sourceName"],
        abi=body["abi"],
        bytecode=body["bytecode"],
        deployed_bytecode=body["deployedBytecode"],
        immutable_ranges=tuple(tuple(r) for r in body.get("immutableRanges", [])),
    )


def all_abis() -> list[list[dict[str, Any]]]:
    return [load(path.stem).abi for path in sorted(ARTIFACTS_DIR.glob("*.json"))]
