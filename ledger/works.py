"""Registering and reading works.

A registration stores the work and its chain operation in one transaction, then sends the
operation: the work is `pending` until the chain confirms it, and a node outage only delays
that. The content hash is the work's identity, so the same file can never become two works:
a duplicate known here is refused at once, one registered on chain by other means is refused
by the contract (WorkAlreadyRegistered) in the dry run.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from ledger.accounts import authorise_service
from ledger.chain.hexes import from_0x, to_0x
from ledger.db import commit_or, must_get, session
from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.idempotency import check_same, earlier_request, key_reused, request_digest
from ledger.models import Account, ChainOp, OpStatus, Role, Work, WorkFrames, WorkKind
from ledger.op_views import OpView, op_status
from ledger.service import Ledger
from watermark.errors import WatermarkError
from watermark.fingerprint import Fingerprint, fingerprint_file
from watermark.frame_hashes import EARLIER_REGISTERED_VARIANTS, REGISTERED_VARIANTS
from watermark.hash_sequence import HashSequence, Progress, hash_file

NEAR_DUPLICATE_BITS = 10  # of 64: pHash distance under which two works look the same
READ_ALL = {Role.auditor, Role.admin, Role.crawler}


@dataclass(frozen=True)
class WorkMeta:
    title: str
    kind: WorkKind
    parent: str | None = None  # work id of the series an episode belongs to
    parties: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class WorkView(OpView):
    work: Work
    op: ChainOp


def work_id_of(sha256: bytes) -> str:
    return to_0x(sha256)


def parse_work_id(text: str) -> bytes:
    """A work id or SHA-256 as 64 hex characters, with or without 0x."""
    raw = text.strip().lower().removeprefix("0x")
    if len(raw) != 64 or any(c not in "0123456789abcdef" for c in raw):
        raise InvalidInput("sha256", "a SHA-256 is 64 hexadecimal characters")
    return bytes.fromhex(raw)


def metadata_document(work_id: str, meta: WorkMeta, fingerprint: Fingerprint | None) -> bytes:
    """The canonical metadata whose SHA-256 goes on chain; anyone can rebuild and re-hash it."""
    body = {
        "work_id": work_id,
        "title": meta.title,
        "kind": meta.kind.value,
        "parent": meta.parent,
        "parties": meta.parties,
        "fingerprint": {"kind": fingerprint.kind, "hashes": fingerprint.hex_hashes()} if fingerprint else None,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def metadata_of(ledger: Ledger, work: Work) -> bytes:
    """The metadata document of a registered work, byte for byte as it was hashed."""
    with session(ledger.engine) as db:
        parent = must_get(db, Work, work.parent_id).work_id if work.parent_id else None
    fingerprint = (
        Fingerprint.from_hex(work.fingerprint_kind, work.fingerprint_hashes)
        if work.fingerprint_kind and work.fingerprint_hashes is not None  # stored together
        else None
    )
    return metadata_document(work.work_id, WorkMeta(work.title, work.kind, parent, work.parties), fingerprint)


def metadata_uri(work_id: str) -> str:
    return f"urn:reelledger:work:{work_id}:metadata"


def register_work(
    ledger: Ledger,
    account: Account,
    *,
    sha256: bytes,
    meta: WorkMeta,
    fingerprint: Fingerprint | None = None,
    frames: HashSequence | None = None,
    size_bytes: int | None = None,
    idempotency_key: str | None = None,
) -> WorkView:
    """Register a work; `frames`, its frame hashes, are kept with it for matching copies."""
    if account.role != Role.rights_holder:
        raise Forbidden("only a rights holder registers works")
    if not meta.title.strip():
        raise InvalidInput("title", "a work needs a title")
    parent = work_id_of(parse_work_id(meta.parent)) if meta.parent else None
    meta = WorkMeta(meta.title.strip(), meta.kind, parent, meta.parties)  # as the metadata document has it
    work_id = work_id_of(sha256)
    asked = _request_digest(work_id, meta, fingerprint, frames, size_bytes)
    with session(ledger.engine) as db:
        if idempotency_key:
            again = earlier_request(db, Work, idempotency_key, owner_id=account.id)
            if again is not None:
                if again.work_id != work_id:
                    raise key_reused(idempotency_key, "work")
                check_same(again, idempotency_key, asked, "work")
                return _view(db, again)
        existing = db.exec(select(Work).where(Work.work_id == work_id)).first()
        if existing is not None and op_status(must_get(db, ChainOp, existing.op_id)) == "failed":
            db.exec(delete(WorkFrames).where(col(WorkFrames.work_pk) == existing.id))
            db.delete(existing)  # a registration the chain refused later (after a 202) blocks nothing
            db.commit()
        elif existing is not None:
            raise Conflict("duplicate_work", f"work {work_id} is already registered", work_id=work_id)
        parent_id = _parent(db, account, meta)
        near, distance = _nearest(db, fingerprint)

    authorise_service(ledger, account)
    document = metadata_document(work_id, meta, fingerprint)
    metadata_hash = hashlib.sha256(document).digest()
    digest = fingerprint.digest() if fingerprint else b"\0" * 32
    chain = ledger.chain
    call = ledger.registries.register_call(
        work_id=sha256,
        owner=account.address,
        fingerprint=digest,
        metadata_hash=metadata_hash,
        metadata_uri=metadata_uri(work_id),
    )
    with session(ledger.engine) as db:
        # The key names the exact call: a retry of this request sends nothing new, and a
        # different request for the same file is a different operation that the chain refuses.
        op_key = f"register-work:{work_id}:{hashlib.sha256(call.data.encode()).hexdigest()[:16]}"
        op = chain.outbox.record(db, op_key, chain.signer, call)
        work = Work(
            work_id=work_id,
            owner_id=account.id,
            title=meta.title,
            kind=meta.kind,
            parent_id=parent_id,
            parties=meta.parties,
            size_bytes=size_bytes,
            fingerprint_kind=fingerprint.kind if fingerprint else None,
            fingerprint_hashes=fingerprint.hex_hashes() if fingerprint else None,
            fingerprint_digest=to_0x(digest),
            metadata_hash=to_0x(metadata_hash),
            near_duplicate_of=near,
            near_duplicate_distance=distance,
            idempotency_key=idempotency_key,
            request_digest=asked,
            op_id=op.id,
        )
        db.add(work)  # a concurrent registration of the same file may have won:
        duplicate = Conflict("duplicate_work", f"work {work_id} is already registered", work_id=work_id)
        if frames is not None:
            commit_or(db, duplicate, flush_only=True)
            db.add(frames_row(work.id, frames))
        commit_or(db, duplicate)
    ledger.finish_write(op.id, Work, work.id)
    with session(ledger.engine) as db:
        return _view(db, must_get(db, Work, work.id))


def _request_digest(
    work_id: str, meta: WorkMeta, fingerprint: Fingerprint | None, frames: HashSequence | None, size_bytes: int | None
) -> str:
    """What a registration request asks for, whether its file was uploaded or named by hash."""
    frames_digest = None
    if frames is not None:
        packed = hashlib.sha256(f"{frames.kind}:{','.join(frames.variants)}:".encode())
        packed.update(frames.times_ms.astype("<i8").tobytes())
        packed.update(np.ascontiguousarray(frames.hashes, dtype=np.uint8).tobytes())
        frames_digest = packed.hexdigest()
    return request_digest(
        "work",
        work_id=work_id,
        title=meta.title,
        work_kind=meta.kind.value,
        parent=meta.parent,
        parties=meta.parties,
        fingerprint=[fingerprint.kind, fingerprint.hex_hashes()] if fingerprint else None,
        frames=frames_digest,
        size_bytes=size_bytes,
    )


def frames_row(work_pk: int, sequence: HashSequence) -> WorkFrames:
    """The row that keeps a registered work's hash sequence."""
    return WorkFrames(
        work_pk=work_pk,
        kind=sequence.kind,
        variants=",".join(sequence.variants),
        frames=len(sequence),
        duration_ms=round(sequence.duration * 1000),
        times_ms=sequence.times_ms.astype("<i8").tobytes(),
        hashes=np.ascontiguousarray(sequence.hashes, dtype=np.uint8).tobytes(),
    )


def fingerprints_of(path: Path, progress: Progress | None = None) -> tuple[Fingerprint | None, HashSequence | None]:
    """What registration keeps of a master file's pictures: the on-chain fingerprint of its
    opening and the frame hashes of all of it; (None, None) for a file that is not media.
    `progress` hears (seconds hashed, seconds in all) as a video's frames are hashed."""
    fingerprint = fingerprint_file(path)
    try:
        frames = hash_file(path, REGISTERED_VARIANTS, progress=progress)
    except WatermarkError:
        frames = None  # not media, or no decodable frames: registered, but nothing to match
    return fingerprint, frames


def parse_frames(body: dict[str, Any]) -> HashSequence:
    """Frame hashes a client computed (`reelledger works register --hash-only`)."""
    try:
        frames = HashSequence.from_json(body)
    except WatermarkError as e:
        raise InvalidInput("frames", str(e)) from None
    if frames.variants != REGISTERED_VARIANTS and frames.variants not in EARLIER_REGISTERED_VARIANTS:
        now, earlier = ", ".join(REGISTERED_VARIANTS), "; ".join(", ".join(v) for v in EARLIER_REGISTERED_VARIANTS)
        raise InvalidInput("frames", f"registered frames carry the variants {now} (from an earlier client: {earlier})")
    return frames


def _parent(db: Session, account: Account, meta: WorkMeta) -> int | None:
    if meta.kind != WorkKind.episode:
        if meta.parent:
            raise InvalidInput("parent", "only an episode has a parent series")
        return None
    if not meta.parent:
        return None
    parent = db.exec(select(Work).where(Work.work_id == meta.parent)).first()
    if parent is None or parent.owner_id != account.id:
        raise InvalidInput("parent", f"no series {meta.parent} of yours")
    if parent.kind != WorkKind.series:
        raise InvalidInput("parent", f"{meta.parent} is a {parent.kind.value}, not a series")
    return parent.id


def _nearest(db: Session, fingerprint: Fingerprint | None) -> tuple[str | None, int | None]:
    """The registered work whose fingerprint is closest, if within the near-duplicate threshold."""
    if fingerprint is None:
        return None, None
    best: tuple[int, str] | None = None
    rows = db.exec(select(Work.work_id, Work.fingerprint_hashes).where(Work.fingerprint_kind == fingerprint.kind)).all()
    for other_id, hashes in rows:
        assert hashes is not None  # stored together with the kind selected on
        distance = fingerprint.distance(Fingerprint.from_hex(fingerprint.kind, list(hashes)))
        if distance is not None and distance <= NEAR_DUPLICATE_BITS and (best is None or distance < best[0]):
            best = (distance, other_id)
    return (best[1], best[0]) if best else (None, None)


def _view(db: Session, work: Work) -> WorkView:
    return WorkView(work, must_get(db, ChainOp, work.op_id))


def visible_to(account: Account, work: Work, licensee_work_ids: set[int] | None = None) -> bool:
    if account.role in READ_ALL or work.owner_id == account.id:
        return True
    return bool(licensee_work_ids and work.id in licensee_work_ids)


@dataclass(frozen=True)
class OnChainWork:
    """A work's registration as the WorkRegistry holds it."""

    owner: str
    registered_at: int  # unix seconds
    pending_owner: str | None  # offered the work, not yet accepted
    fingerprint: str
    metadata_hash: str
    metadata_uri: str


def registration_on_chain(ledger: Ledger, work: Work) -> OnChainWork | None:
    """The work's registration read back from the chain, or None while the chain has none yet."""
    try:
        record = ledger.registries.work(from_0x(work.work_id))
    except NotFound:
        return None  # not confirmed yet
    return OnChainWork(
        owner=record.owner,
        registered_at=record.registered_at,
        pending_owner=record.pending_owner,
        fingerprint=to_0x(record.fingerprint),
        metadata_hash=to_0x(record.metadata_hash),
        metadata_uri=record.metadata_uri,
    )


def get_work(ledger: Ledger, account: Account, work_id: str) -> WorkView:
    """A work the account may see; other tenants' works are not found rather than forbidden."""
    ident = work_id_of(parse_work_id(work_id))
    with session(ledger.engine) as db:
        work = db.exec(select(Work).where(Work.work_id == ident)).first()
        if work is None or not visible_to(account, work, _licensed_work_ids(db, account)):
            raise NotFound("work", ident)
        return _view(db, work)


def list_works(
    ledger: Ledger,
    account: Account,
    *,
    offset: int = 0,
    limit: int = 50,
    kind: WorkKind | None = None,
    title: str | None = None,
) -> tuple[list[WorkView], int]:
    with session(ledger.engine) as db:
        query = select(Work)
        if account.role not in READ_ALL:
            licensed = _licensed_work_ids(db, account)
            query = query.where((col(Work.owner_id) == account.id) | (col(Work.id).in_(licensed or {-1})))
        if kind:
            query = query.where(Work.kind == kind)
        if title:
            query = query.where(col(Work.title).ilike(f"%{title}%"))
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        works = db.exec(query.order_by(col(Work.id)).offset(offset).limit(limit)).all()
        return [_view(db, w) for w in works], total


def _licensed_work_ids(db: Session, account: Account) -> set[int]:
    """Works an account reads as a licensee: those a licence it holds is in force for (its grant,
    and every grant above it, confirmed and not revoked, and not yet ended), and those it still
    has a period to settle for (rows the licence covered, in an accepted report whose period is not
    committed yet). A revoked or ended licence reads as never granted once that is settled."""
    from ledger.models import LicenceRecord, PlayReport, PlayRowRecord, ReportStatus, SettlementPeriod

    held = db.exec(select(LicenceRecord).where(LicenceRecord.licensee_id == account.id)).all()
    if not held:
        return set()
    records = {r.id: r for r in held}
    wanted = {r.parent_pk for r in held if r.parent_pk}
    while wanted - records.keys():
        for parent in db.exec(select(LicenceRecord).where(col(LicenceRecord.id).in_(wanted - records.keys()))).all():
            records[parent.id] = parent
            if parent.parent_pk:
                wanted.add(parent.parent_pk)
        wanted &= records.keys()  # a missing parent ends the walk (its child then is not in force)
    ops = {r.op_id for r in records.values()}
    confirmed = set(
        db.exec(
            select(col(ChainOp.id)).where(col(ChainOp.id).in_(ops), col(ChainOp.status) == OpStatus.confirmed)
        ).all()
    )
    now = time.time()

    def in_force(record: LicenceRecord | None) -> bool:
        if record is None:
            return False
        if record.op_id not in confirmed or record.revoke_op_id is not None or record.end <= now:
            return False
        return record.parent_pk is None or in_force(records.get(record.parent_pk))

    readable = {r.work_pk for r in held if in_force(r)}
    lapsed = {r.work_pk for r in held if r.op_id in confirmed} - readable
    if lapsed:
        committed = (
            select(SettlementPeriod.id)
            .where(
                SettlementPeriod.platform_id == PlayReport.platform_id,
                SettlementPeriod.currency == PlayReport.currency,
                SettlementPeriod.first_day == PlayReport.first_day,
                SettlementPeriod.end_day == PlayReport.end_day,
            )
            .exists()
        )
        readable |= set(
            db.exec(
                select(PlayRowRecord.work_pk)
                .distinct()
                .join(PlayReport, col(PlayReport.id) == col(PlayRowRecord.report_pk))
                .where(
                    PlayReport.platform_id == account.id,
                    PlayReport.status == ReportStatus.accepted,
                    col(PlayRowRecord.work_pk).in_(lapsed),
                    col(PlayRowRecord.held).is_(False),
                    ~committed,
                )
            ).all()
        )
    return readable
