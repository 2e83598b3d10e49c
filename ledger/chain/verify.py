"""Checking a registration against the chain alone, trusting neither the service nor its database."""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from ledger.chain import artifacts
from ledger.chain.errors import ChainError, ChainUnavailable

ZERO = "0x0000000000000000000000000000000000000000"


@dataclass(frozen=True)
class Registration:
    work_id: str
    owner: str
    registered_at: int
    block_number: int
    tx_hash: str
    fingerprint: str
    metadata_hash: str
    metadata_uri: str


def find_registration(rpc_url: str, registry: str, sha256: bytes) -> Registration | None:
    """The on-chain registration of a content hash, or None. Raises if `registry` does not hold
    ReelLedger's WorkRegistry code, so that nobody can point a verifier at a look-alike."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}, exception_retry_configuration=None))
    artifact = artifacts.load("WorkRegistry")
    try:
        code = w3.eth.get_code(Web3.to_checksum_address(registry))
    except OSError as exc:
        raise ChainUnavailable(f"no EVM node answers at {rpc_url}") from exc
    if "0x" + bytes(code).hex() != artifact.deployed_bytecode:
        raise ChainError(f"{registry} does not hold the WorkRegistry contract this release was built from")
    contract = w3.eth.contract(address=Web3.to_checksum_address(registry), abi=artifact.abi)
    owner, registered_at = contract.functions.work(sha256).call()
    if owner == ZERO:
        return None
    log = contract.events.WorkRegistered().get_logs(from_block=0, argument_filters={"workId": sha256})[0]
    updates = contract.events.WorkMetadataUpdated().get_logs(from_block=0, argument_filters={"workId": sha256})
    latest = (updates or [log])[-1]["args"]
    return Registration(
        work_id="0x" + sha256.hex(),
        owner=owner,
        registered_at=registered_at,
        block_number=log["blockNumber"],
        tx_hash="0x" + bytes(log["transactionHash"]).hex(),
        fingerprint="0x" + log["args"]["fingerprint"].hex(),
        metadata_hash="0x" + latest["metadataHash"].hex(),
        metadata_uri=latest["metadataURI"],
    )
