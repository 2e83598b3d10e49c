"""The two anchoring registries as domain operations: the DistributionRegistry (which copy of
a work went to whom, by its watermark payload) and the EvidenceRegistry (piracy evidence
bundles). Each holds a hash, when it was anchored and by whom; results come out as dataclasses.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3.contract import Contract

from ledger.chain.gateway import Gateway
from ledger.chain.hexes import to_0x, to_bytes32
from ledger.chain.outbox import Call

DISTRIBUTION_REGISTRY = "DistributionRegistry"
EVIDENCE_REGISTRY = "EvidenceRegistry"
ANCHOR = "anchor"


@dataclass(frozen=True)
class DistributionAnchor:
    record_hash: bytes  # zero when nothing was anchored
    anchored_at: int  # unix seconds, 0 when nothing was anchored


@dataclass(frozen=True)
class EvidenceAnchor:
    work_id: str | None  # None when the bundle was never anchored
    anchored_at: int
    anchored_by: str | None


class DistributionGateway(Gateway):
    def __init__(self, contract: Contract) -> None:
        super().__init__(contract, DISTRIBUTION_REGISTRY)

    def anchor(self, *, work_id: str, payload: int, record_hash: bytes) -> Call:
        return self._call(ANCHOR, [to_bytes32(work_id), payload, record_hash])

    def anchor_of(self, work_id: str, payload: int) -> DistributionAnchor:
        record_hash, anchored_at, _ = self.contract.functions.anchorOf(to_bytes32(work_id), payload).call()
        return DistributionAnchor(bytes(record_hash), int(anchored_at))


class EvidenceGateway(Gateway):
    def __init__(self, contract: Contract) -> None:
        super().__init__(contract, EVIDENCE_REGISTRY)

    def anchor(self, *, evidence_hash: bytes, work_id: str) -> Call:
        return self._call(ANCHOR, [evidence_hash, to_bytes32(work_id)])

    def anchor_of(self, evidence_hash: bytes) -> EvidenceAnchor:
        work_id, at, by = self.contract.functions.anchorOf(evidence_hash).call()
        if int(at) == 0:
            return EvidenceAnchor(None, 0, None)
        return EvidenceAnchor(to_0x(work_id), int(at), str(by))

    def work_registry(self) -> str:
        """The WorkRegistry this registry defers to for what a registered work is."""
        return str(self.contract.functions.works().call())
