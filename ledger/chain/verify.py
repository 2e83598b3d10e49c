"""Checking a registration against the chain alone, trusting neither the service nor its database."""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import Any

from sqlalchemy import Engine
from web3 import Web3
from web3.contract import Contract
from web3.exceptions import Web3Exception

from ledger.chain import artifacts, web3_types
from ledger.chain.anchors import EVIDENCE_REGISTRY, EvidenceGateway
from ledger.chain.errors import ChainError, ChainUnavailable
from ledger.chain.hexes import from_0x, to_0x
from ledger.chain.registries import DerivativeReader
from ledger.chain.settlement import SETTLEMENT_REGISTRY, LineLeaf, SettlementGateway
from ledger.days import day_number

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


def checked_contract(rpc_url: str, address: str, name: str) -> tuple[Web3, Contract]:
    """A connection and the contract `name` at `address`, once its code on chain is checked to
    be the one this release was built from, so that nobody can point a verifier at a look-alike."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}, exception_retry_configuration=None))
    artifact = artifacts.load(name)
    try:
        code = w3.eth.get_code(Web3.to_checksum_address(address))
    except OSError as exc:
        raise ChainUnavailable(f"no EVM node answers at {rpc_url}") from exc
    if not artifact.runtime_matches(bytes(code)):
        raise ChainError(f"{address} does not hold the {name} contract this release was built from")
    return w3, w3.eth.contract(address=Web3.to_checksum_address(address), abi=artifact.abi)


def find_registration(rpc_url: str, registry: str, sha256: bytes) -> Registration | None:
    """The on-chain registration of a content hash, or None. Raises if `registry` does not hold
    ReelLedger's WorkRegistry code, so that nobody can point a verifier at a look-alike."""
    _, contract = checked_contract(rpc_url, registry, "WorkRegistry")
    owner, registered_at = contract.functions.work(sha256).call()
    if owner == ZERO:
        return None
    log = contract.events.WorkRegistered().get_logs(from_block=0, argument_filters={"workId": sha256})[0]
    updates = contract.events.WorkMetadataUpdated().get_logs(from_block=0, argument_filters={"workId": sha256})
    latest = (updates or [log])[-1]["args"]
    return Registration(
        work_id=to_0x(sha256),
        owner=owner,
        registered_at=registered_at,
        block_number=log["blockNumber"],
        tx_hash=to_0x(log["transactionHash"]),
        fingerprint=to_0x(log["args"]["fingerprint"]),
        metadata_hash=to_0x(latest["metadataHash"]),
        metadata_uri=latest["metadataURI"],
    )


@dataclass(frozen=True)
class LineCheck:
    index: int
    amount: int
    proof_ok: bool  # the proof leads to the root held on chain, checked here
    contract_ok: bool  # the contract's own verifyLine agrees
    settled: bool  # claimed or recorded as paid off-chain


@dataclass(frozen=True)
class StatementCheck:
    period_state: int  # 0 none, 1 committed, 2 finalised
    root_matches: bool
    token_matches: bool
    total_matches: bool
    lines: tuple[LineCheck, ...]
    problems: tuple[str, ...] = ()  # what in the statement itself does not add up

    @property
    def ok(self) -> bool:
        return (
            not self.problems
            and self.root_matches
            and self.token_matches
            and self.total_matches
            and all(line.proof_ok and line.contract_ok for line in self.lines)
        )


def _statement_problems(statement: dict[str, Any], line_count: int) -> list[str]:
    """The statement's own claims that the chain does not hold line by line: its period id is
    that of its platform, currency and days; each line once; lines the named payee's; totals."""
    from datetime import date

    from ledger.settlement.computation import period_id_of

    first = day_number(date.fromisoformat(statement["period"]["first_day"]))
    last = day_number(date.fromisoformat(statement["period"]["last_day"]))
    problems = []
    if (
        period_id_of(Web3.to_checksum_address(statement["platform"]), statement["currency"], first, last + 1)
        != statement["period_id"].lower()
    ):
        problems.append("the period id is not that of the statement's platform, currency and days")
    indexes = [line["index"] for line in statement["lines"]]
    if len(set(indexes)) != len(indexes):
        problems.append("a line appears more than once")
    if any(not 0 <= i < line_count for i in indexes) or int(statement["line_count"]) != line_count:
        problems.append(f"the chain holds {line_count} lines for this period")
    payee = statement.get("payee")
    if payee is not None and any(line["payee"].lower() != payee.lower() for line in statement["lines"]):
        problems.append(f"a line is not {payee}'s")
    if payee is not None and sum(int(line["amount"]) for line in statement["lines"]) != int(statement["payee_total"]):
        problems.append("the lines do not add up to the payee's total")
    return problems


def verify_statement(rpc_url: str, statement: dict[str, Any], registry: str) -> StatementCheck:
    """Check every line of a payee statement against the settlement contract at `registry`, an
    address the verifier trusts (never the one the statement names: anyone can deploy a
    look-alike contract and commit what they like in it)."""
    from ledger.merkle import verify
    from ledger.settlement.lines import LINE_TYPES

    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 10}, exception_retry_configuration=None))
    try:
        chain_id = w3.eth.chain_id
    except OSError as exc:
        raise ChainUnavailable(f"no EVM node answers at {rpc_url}") from exc
    if chain_id != statement["chain_id"]:
        raise ChainError(
            f"the statement is for chain {statement['chain_id']}, the node at {rpc_url} is chain {chain_id}"
        )
    address = Web3.to_checksum_address(registry)
    if Web3.to_checksum_address(statement["contract"]) != address:
        raise ChainError(f"the statement names the contract {statement['contract']}, not {address}")
    artifact = artifacts.load(SETTLEMENT_REGISTRY)
    if not artifact.runtime_matches(bytes(w3.eth.get_code(address))):
        raise ChainError(f"{address} does not hold the SettlementRegistry contract this release was built from")
    settlement = SettlementGateway(w3.eth.contract(address=address, abi=artifact.abi))
    period_id = statement["period_id"]
    on_chain = settlement.period(period_id)
    root = from_0x(on_chain.root)
    checks = []
    for line in statement["lines"]:
        leaf = LineLeaf(
            index=line["index"],
            payee=Web3.to_checksum_address(line["payee"]),
            work_id=from_0x(line["work_id"]),
            amount=int(line["amount"]),
            rule_version=line["rule_version"],
            split_version=line["split_version"],
        )
        proof = [from_0x(p) for p in line["proof"]]
        checks.append(
            LineCheck(
                index=line["index"],
                amount=int(line["amount"]),
                proof_ok=verify(root, LINE_TYPES, astuple(leaf), proof),
                contract_ok=settlement.verify_line(period_id, leaf, proof),
                settled=settlement.is_line_settled(period_id, line["index"]),
            )
        )
    problems = _statement_problems(statement, on_chain.line_count)
    payout = statement.get("payout")
    if payout is not None and on_chain.committed and Web3.to_checksum_address(payout) != on_chain.payout:
        problems.append(f"the statement sends claims to {payout}, the period's payout is {on_chain.payout}")
    return StatementCheck(
        period_state=on_chain.state,
        root_matches=on_chain.committed and on_chain.root == statement["root"].lower(),
        token_matches=Web3.to_checksum_address(on_chain.token) == Web3.to_checksum_address(statement["token"]),
        total_matches=on_chain.total == int(statement["total"]),
        lines=tuple(checks),
        problems=tuple(problems),
    )


@dataclass(frozen=True)
class EvidenceCheck:
    evidence_hash: str
    anchored: bool
    anchored_at: int
    anchored_by: str | None
    block_number: int | None
    tx_hash: str | None
    work_id: str | None  # as anchored
    work_matches: bool  # the bundle names the work the anchor names
    work_registered: bool  # and that work is registered in the WorkRegistry the evidence registry defers to


def find_evidence(rpc_url: str, registry: str, bundle: bytes) -> EvidenceCheck:
    """Re-hash an evidence bundle exactly as given and look its anchor up in the
    EvidenceRegistry at `registry` (whose code is checked first)."""
    import hashlib
    import json

    from ledger.errors import TooDeep
    from ledger.json_limits import check_depth

    try:
        check_depth(bundle, "the bundle")
        named = json.loads(bundle)["work"]["work_id"].lower()
    except (ValueError, KeyError, TypeError, AttributeError, TooDeep):
        raise ChainError("this file is not an evidence bundle (no work.work_id in it)") from None
    digest = hashlib.sha256(bundle).digest()
    _, contract = checked_contract(rpc_url, registry, EVIDENCE_REGISTRY)
    evidence = EvidenceGateway(contract)
    try:
        anchor = evidence.anchor_of(digest)
        if anchor.work_id is None:
            return EvidenceCheck(to_0x(digest), False, 0, None, None, None, None, False, False)
        anchored_work = anchor.work_id
        logs = contract.events.EvidenceAnchored().get_logs(from_block=0, argument_filters={"evidenceHash": digest})
        _, works = checked_contract(rpc_url, evidence.work_registry(), "WorkRegistry")
        owner, _ = works.functions.work(from_0x(anchored_work)).call()
    except (OSError, ValueError, Web3Exception) as exc:  # the node stopped answering, or refused the log query
        raise ChainError(f"the chain did not answer the evidence lookup: {exc}") from exc
    if not logs:
        raise ChainError("the anchor is there but its EvidenceAnchored event is not: the node has pruned its logs")
    log = logs[0]
    return EvidenceCheck(
        evidence_hash=to_0x(digest),
        anchored=True,
        anchored_at=anchor.anchored_at,
        anchored_by=anchor.anchored_by,
        block_number=log["blockNumber"],
        tx_hash=to_0x(log["transactionHash"]),
        work_id=anchored_work,
        work_matches=anchored_work == named,
        work_registered=owner != ZERO,
    )


def registry_for_audit(engine: Engine, rpc_url: str) -> SettlementGateway:
    """The settlement contract this database recorded on the chain at `rpc_url`, after checking
    that the address holds exactly this release's SettlementRegistry code."""
    return SettlementGateway(_recorded_contract(engine, *_node(rpc_url), SETTLEMENT_REGISTRY))


def derivatives_for_audit(engine: Engine, rpc_url: str) -> DerivativeReader:
    """The DerivativeRegistry and LicenseRegistry this database recorded on the chain at `rpc_url`,
    each checked to hold exactly this release's code, to read the derivative graph and terms from."""
    node = _node(rpc_url)
    return DerivativeReader(
        _recorded_contract(engine, *node, "DerivativeRegistry"), _recorded_contract(engine, *node, "LicenseRegistry")
    )


def _node(rpc_url: str) -> tuple[Web3, int]:
    """A connection to the node at `rpc_url` and its chain id."""
    w3 = Web3(Web3.HTTPProvider(rpc_url, request_kwargs={"timeout": 30}, exception_retry_configuration=None))
    try:
        return w3, w3.eth.chain_id
    except OSError as exc:
        raise ChainUnavailable(f"no EVM node answers at {rpc_url}") from exc


def _recorded_contract(engine: Engine, w3: Web3, chain_id: int, name: str) -> Contract:
    """The contract `name` at the address this database recorded for the node's chain, once its
    code there is checked to be this release's."""
    from sqlmodel import select

    from ledger.db import session
    from ledger.models import Deployment

    with session(engine) as db:
        deployment = db.exec(select(Deployment).where(Deployment.chain_id == chain_id, Deployment.name == name)).first()
    if deployment is None:
        raise ChainError(f"this database has no {name} on chain {chain_id}")
    artifact = artifacts.load(name)
    address = web3_types.address(deployment.address)
    if not artifact.runtime_matches(bytes(w3.eth.get_code(address))):
        raise ChainError(f"{deployment.address} does not hold the {name} this release was built from")
    return w3.eth.contract(address=address, abi=artifact.abi)
