"""Domain operations on the work, licence, derivative and split registries.

Writes go through the outbox under the caller's idempotency key and come back as results
or as `ChainRevert` named after the contract's custom error. Reads come from contract state,
and from event logs for what the contracts keep only there (a work's fingerprint and metadata).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from web3.contract import Contract
from web3.logs import DISCARD as _DISCARD

from ledger.chain import web3_types
from ledger.chain.client import Chain
from ledger.chain.errors import ChainError
from ledger.chain.hexes import to_0x
from ledger.chain.outbox import Call, raise_for
from ledger.choices import DerivativeKind
from ledger.errors import NotFound
from ledger.models import ChainOp

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
TOTAL_BPS = 10_000


class Right(enum.IntFlag):
    """Rights a licence can carry; the bit values are the contract's."""

    STREAMING = 1 << 0
    DOWNLOAD = 1 << 1
    BROADCAST = 1 << 2
    THEATRICAL = 1 << 3
    DERIVE = 1 << 4  # making derivative works; only on root licences granted with DerivativeTerms


DERIVATIVE_KINDS: tuple[DerivativeKind, ...] = tuple(DerivativeKind)  # bit i of a kinds mask is the i-th


def kinds_mask(kinds: Sequence[DerivativeKind]) -> int:
    """The contract's kinds mask of a set of derivative kinds."""
    mask = 0
    for kind in kinds:
        mask |= 1 << DERIVATIVE_KINDS.index(kind)
    return mask


def kinds_of(mask: int) -> tuple[DerivativeKind, ...]:
    """The derivative kinds in a kinds mask, in the published order."""
    return tuple(kind for i, kind in enumerate(DERIVATIVE_KINDS) if mask >> i & 1)


@dataclass(frozen=True)
class DerivativeTerms:
    """What every derivative made under a licence owes the licensed work, fixed at grant."""

    kinds: tuple[DerivativeKind, ...]
    share_bps: int
    min_per_valid_play_micro: int = 0

    def as_tuple(self) -> tuple[int, int, int]:
        return (kinds_mask(self.kinds), self.share_bps, self.min_per_valid_play_micro)

    @classmethod
    def from_chain(cls, raw: Sequence[int]) -> DerivativeTerms | None:
        """The terms as the contract returns them; None for a licence without the derive right."""
        kinds, share_bps, min_micro = raw
        return None if kinds == 0 else cls(kinds_of(kinds), int(share_bps), int(min_micro))


@dataclass(frozen=True)
class DerivativeParent:
    """One parent of a derivative as declared: the parent work, the licence and the kind."""

    parent_id: bytes
    licence_id: int
    kind: DerivativeKind

    def as_tuple(self) -> tuple[bytes, int, int]:
        return (self.parent_id, self.licence_id, DERIVATIVE_KINDS.index(self.kind))


@dataclass(frozen=True)
class DerivativeEdge:
    """One parent of a derivative as the chain records it, with its licence's terms."""

    parent_id: bytes
    licence_id: int
    kind: DerivativeKind
    terms: DerivativeTerms


@dataclass(frozen=True)
class Scope:
    territories: int  # bitmask over ledger.territories
    rights: int  # bitmask of Right
    start: int  # unix seconds, inclusive
    end: int  # unix seconds, exclusive
    exclusive: bool = False
    sublicensable: bool = False

    def as_tuple(self) -> tuple[Any, ...]:
        return (int(self.territories), int(self.rights), self.start, self.end, self.exclusive, self.sublicensable)


@dataclass(frozen=True)
class WorkRecord:
    work_id: bytes
    owner: str
    registered_at: int
    fingerprint: bytes
    metadata_hash: bytes
    metadata_uri: str
    pending_owner: str | None


@dataclass(frozen=True)
class Licence:
    licence_id: int
    work_id: bytes
    parent_id: int
    licensor: str
    licensee: str
    scope: Scope
    revoked: bool
    depth: int


@dataclass(frozen=True)
class SplitSet:
    """What a confirmed setSplit recorded: its version number and when that version takes effect, in
    Unix seconds as the chain stored it (0 for a first version in force from the start)."""

    version: int
    effective_from: int


@dataclass(frozen=True)
class SplitVersion:
    work_id: bytes
    version: int
    payees: tuple[str, ...]
    bps: tuple[int, ...]
    effective_from: int
    split_hash: bytes


class DerivativeReader:
    """The derivative graph and the licences' upstream terms as the chain holds them, read only: over
    the service's DerivativeRegistry and LicenseRegistry, or over ones an auditor checked."""

    def __init__(self, derivatives: Contract, licences: Contract) -> None:
        self.derivatives = derivatives
        self.licences = licences

    def parents(self, work_id: bytes) -> list[DerivativeEdge]:
        """A work's parents as registered, in declaration order, each with its licence's terms; empty
        for a work that is no derivative."""
        result = []
        for parent_id, licence_id, kind, raw_terms in self.derivatives.functions.parentsOf(work_id).call():
            terms = DerivativeTerms.from_chain(raw_terms)
            assert terms is not None  # an edge exists only under a licence with terms
            result.append(DerivativeEdge(parent_id, int(licence_id), DERIVATIVE_KINDS[kind], terms))
        return result

    def terms(self, licence_id: int) -> DerivativeTerms | None:
        """The upstream terms a licence was granted with; None for one without the derive right."""
        if not 0 < licence_id <= self.licences.functions.licenseCount().call():
            raise NotFound("licence", licence_id)
        return DerivativeTerms.from_chain(self.licences.functions.derivativeTerms(licence_id).call())


class Registries:
    def __init__(self, chain: Chain, timeout: float = 30.0) -> None:
        self.chain = chain
        self.timeout = timeout

    def _write(self, key: str, sender: str, call: Call) -> ChainOp:
        outbox = self.chain.outbox
        op = outbox.submit(key, sender, call)
        return raise_for(outbox.wait(op.id, self.timeout))

    def event_of(self, op: ChainOp, contract: str, event: str) -> Mapping[str, Any]:
        """The arguments of the first `event` in a confirmed operation's receipt."""
        assert op.tx_hash is not None  # a confirmed operation was sent
        receipt = self.chain.w3.eth.get_transaction_receipt(web3_types.hex_str(op.tx_hash))
        logs = self.chain.contract(contract).events[event]().process_receipt(receipt, errors=_DISCARD)
        if not logs:
            raise ChainError(f"{op.label} confirmed without a {event} event")
        args: Mapping[str, Any] = logs[0]["args"]
        return args

    # ------------------------------------------------------------------ works

    def set_operator_call(self, operator: str, approved: bool = True) -> Call:
        return self.chain.call("WorkRegistry", "setOperator", [operator, approved])

    def set_operator(self, key: str, owner: str, operator: str, approved: bool = True) -> ChainOp:
        return self._write(key, owner, self.set_operator_call(operator, approved))

    def register_call(
        self, *, work_id: bytes, owner: str, fingerprint: bytes, metadata_hash: bytes, metadata_uri: str
    ) -> Call:
        return self.chain.call("WorkRegistry", "register", [work_id, owner, fingerprint, metadata_hash, metadata_uri])

    def register_work(
        self,
        key: str,
        sender: str,
        *,
        work_id: bytes,
        owner: str,
        fingerprint: bytes,
        metadata_hash: bytes,
        metadata_uri: str,
    ) -> ChainOp:
        call = self.register_call(
            work_id=work_id,
            owner=owner,
            fingerprint=fingerprint,
            metadata_hash=metadata_hash,
            metadata_uri=metadata_uri,
        )
        return self._write(key, sender, call)

    def update_metadata(
        self, key: str, sender: str, work_id: bytes, metadata_hash: bytes, metadata_uri: str
    ) -> ChainOp:
        call = self.chain.call("WorkRegistry", "updateMetadata", [work_id, metadata_hash, metadata_uri])
        return self._write(key, sender, call)

    def transfer_work(self, key: str, sender: str, work_id: bytes, new_owner: str) -> ChainOp:
        return self._write(key, sender, self.chain.call("WorkRegistry", "transferWorkOwnership", [work_id, new_owner]))

    def accept_work(self, key: str, sender: str, work_id: bytes) -> ChainOp:
        return self._write(key, sender, self.chain.call("WorkRegistry", "acceptWorkOwnership", [work_id]))

    def work(self, work_id: bytes) -> WorkRecord:
        works = self.chain.contract("WorkRegistry")
        owner, registered_at = works.functions.work(work_id).call()
        if owner == ZERO_ADDRESS:
            raise NotFound("work", to_0x(work_id))
        registered = self.chain.events("WorkRegistry", "WorkRegistered", workId=work_id)
        updates = self.chain.events("WorkRegistry", "WorkMetadataUpdated", workId=work_id)
        latest = (updates or registered)[-1]["args"]
        pending = works.functions.pendingOwnerOf(work_id).call()
        return WorkRecord(
            work_id=work_id,
            owner=owner,
            registered_at=registered_at,
            fingerprint=registered[0]["args"]["fingerprint"],
            metadata_hash=latest["metadataHash"],
            metadata_uri=latest["metadataURI"],
            pending_owner=None if pending == ZERO_ADDRESS else pending,
        )

    # --------------------------------------------------------------- licences

    def grant_call(self, *, work_id: bytes, licensee: str, scope: Scope) -> Call:
        return self.chain.call("LicenseRegistry", "grant", [work_id, licensee, scope.as_tuple()])

    def grant_sublicence_call(self, *, parent_id: int, licensee: str, scope: Scope) -> Call:
        return self.chain.call("LicenseRegistry", "grantSublicense", [parent_id, licensee, scope.as_tuple()])

    def grant_with_terms_call(self, *, work_id: bytes, licensee: str, scope: Scope, terms: DerivativeTerms) -> Call:
        """A root licence carrying the derive right and the upstream terms of every derivative made under it."""
        return self.chain.call(
            "LicenseRegistry", "grantWithDerivativeTerms", [work_id, licensee, scope.as_tuple(), terms.as_tuple()]
        )

    def revoke_call(self, licence_id: int) -> Call:
        return self.chain.call("LicenseRegistry", "revoke", [licence_id])

    def granted_licence_id(self, op: ChainOp) -> int:
        """The chain's id of the licence a confirmed grant made."""
        return int(self.event_of(op, "LicenseRegistry", "LicenseGranted")["licenseId"])

    def grant_licence(self, key: str, sender: str, *, work_id: bytes, licensee: str, scope: Scope) -> int:
        op = self._write(key, sender, self.grant_call(work_id=work_id, licensee=licensee, scope=scope))
        return self.granted_licence_id(op)

    def grant_licence_with_terms(
        self, key: str, sender: str, *, work_id: bytes, licensee: str, scope: Scope, terms: DerivativeTerms
    ) -> int:
        call = self.grant_with_terms_call(work_id=work_id, licensee=licensee, scope=scope, terms=terms)
        return self.granted_licence_id(self._write(key, sender, call))

    def grant_sublicence(self, key: str, sender: str, *, parent_id: int, licensee: str, scope: Scope) -> int:
        op = self._write(key, sender, self.grant_sublicence_call(parent_id=parent_id, licensee=licensee, scope=scope))
        return self.granted_licence_id(op)

    def revoke_licence(self, key: str, sender: str, licence_id: int) -> ChainOp:
        return self._write(key, sender, self.revoke_call(licence_id))

    def licence(self, licence_id: int) -> Licence:
        registry = self.chain.contract("LicenseRegistry")
        if not 0 < licence_id <= registry.functions.licenseCount().call():
            raise NotFound("licence", licence_id)
        raw = registry.functions.getLicense(licence_id).call()
        work_id, parent_id, licensor, licensee, scope, revoked, depth = raw
        return Licence(licence_id, work_id, parent_id, licensor, licensee, Scope(*scope), revoked, depth)

    def derivative_terms(self, licence_id: int) -> DerivativeTerms | None:
        """The upstream terms a licence was granted with; None for one without the derive right."""
        return self.derivatives.terms(licence_id)

    def licence_valid(self, licence_id: int, at: int) -> bool:
        return bool(self.chain.contract("LicenseRegistry").functions.isValid(licence_id, at).call())

    def is_licensed(self, work_id: bytes, licensee: str, territory: int, right: int, at: int) -> int | None:
        """The id of a licence that covers the use, or None."""
        ok, licence_id = (
            self.chain.contract("LicenseRegistry")
            .functions.isLicensed(work_id, licensee, territory, int(right), at)
            .call()
        )
        return licence_id if ok else None

    # ------------------------------------------------------------ derivatives

    def register_derivative_call(self, *, work_id: bytes, parents: Sequence[DerivativeParent]) -> Call:
        return self.chain.call(
            "DerivativeRegistry", "registerDerivative", [work_id, [parent.as_tuple() for parent in parents]]
        )

    def register_derivative(
        self, key: str, sender: str, *, work_id: bytes, parents: Sequence[DerivativeParent]
    ) -> ChainOp:
        return self._write(key, sender, self.register_derivative_call(work_id=work_id, parents=parents))

    @property
    def derivatives(self) -> DerivativeReader:
        """The service's derivative graph and upstream terms, read only."""
        return DerivativeReader(self.chain.contract("DerivativeRegistry"), self.chain.contract("LicenseRegistry"))

    def derivative_parents(self, work_id: bytes) -> list[DerivativeEdge]:
        """A work's parents as registered on chain, in declaration order, each with its licence's terms;
        empty for a work that is no derivative."""
        return self.derivatives.parents(work_id)

    def derivative_children(self, work_id: bytes) -> list[bytes]:
        """The works registered as derivatives of a work, in registration order."""
        return list(self.chain.contract("DerivativeRegistry").functions.childrenOf(work_id).call())

    def derivative_depth(self, work_id: bytes) -> int:
        """0 for a work without parents, else one more than its deepest parent's."""
        return int(self.chain.contract("DerivativeRegistry").functions.depthOf(work_id).call())

    # ----------------------------------------------------------------- splits

    def set_split_call(
        self, *, work_id: bytes, payees: Sequence[str], bps: Sequence[int], effective_from: int = 0
    ) -> Call:
        return self.chain.call("SplitRegistry", "setSplit", [work_id, list(payees), list(bps), effective_from])

    def split_version_set(self, op: ChainOp) -> SplitSet:
        """The version a confirmed setSplit made and its start as the chain recorded it: an
        `effective_from` of 0 asked for is 0 (from the start) for a work's first version and the
        block's timestamp (when mined) for every later one."""
        event = self.event_of(op, "SplitRegistry", "SplitVersionSet")
        return SplitSet(version=int(event["version"]), effective_from=int(event["effectiveFrom"]))

    def set_split(
        self, key: str, sender: str, *, work_id: bytes, payees: list[str], bps: list[int], effective_from: int = 0
    ) -> int:
        call = self.set_split_call(work_id=work_id, payees=payees, bps=bps, effective_from=effective_from)
        return self.split_version_set(self._write(key, sender, call)).version

    def split_version_count(self, work_id: bytes) -> int:
        return int(self.chain.contract("SplitRegistry").functions.splitVersionCount(work_id).call())

    def split_versions(self, work_id: bytes) -> list[SplitVersion]:
        """Every version of a work's split, oldest first."""
        return [self.split_version(work_id, v) for v in range(1, self.split_version_count(work_id) + 1)]

    def split_version(self, work_id: bytes, version: int) -> SplitVersion:
        registry = self.chain.contract("SplitRegistry")
        if not 0 < version <= self.split_version_count(work_id):
            raise NotFound("split version", f"{version} of work {to_0x(work_id)}")
        payees, bps, effective_from, split_hash = registry.functions.splitVersion(work_id, version).call()
        return SplitVersion(work_id, version, tuple(payees), tuple(bps), effective_from, split_hash)

    def split_at(self, work_id: bytes, at: int) -> SplitVersion:
        version = self.chain.contract("SplitRegistry").functions.splitVersionAt(work_id, at).call()
        if version == 0:
            raise NotFound("split in force", f"at {at} for work {to_0x(work_id)}")
        return self.split_version(work_id, version)
