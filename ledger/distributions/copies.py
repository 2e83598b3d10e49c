"""Creating a distribution and making its watermarked copy.

A request stores the distribution (its payload drawn at random, unique in the ledger) and the
uploaded master, and returns at once: marking a feature film takes minutes, so the copy is
made by a media job (`ledger.media_jobs`, kind mark_copy: on the service's media thread or a
queue worker), which writes its progress as it goes. When the copy is finished, the service
puts its SHA-256 into the canonical record and the record's hash into the outbox, in one
transaction; the chain write then goes like any other. A stop or a dead worker in the middle
loses nothing: the job is taken up again from the stored master (the copy is written under a
temporary name and renamed when complete).
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eth_utils import is_address, to_checksum_address
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlmodel import Session, col, or_, select

from ledger.accounts import authorise_service
from ledger.chain.hexes import to_0x
from ledger.db import must_get, session
from ledger.distributions import records
from ledger.distributions.keys import WatermarkKeys, key_id
from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.idempotency import check_same, earlier_request, key_in_use, key_reused, request_digest
from ledger.media_jobs.steps import Interrupted, JobRefused, LeaseLost
from ledger.models import (
    Account,
    ChainOp,
    DistributionRecord,
    DistributionStatus,
    MediaJob,
    Role,
    Work,
    utcnow,
)
from ledger.op_views import op_status
from ledger.works import parse_work_id, work_id_of
from watermark.errors import WatermarkError
from watermark.files import embed_file, media_kind
from watermark.video import Progress

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("reelledger.distributions")

PAYLOAD_BITS = 48
COPY_SUFFIX = {"image": ".png", "video": ".mp4"}
PROGRESS_EVERY = 1.0  # seconds between progress writes
READ_ALL = {Role.auditor, Role.admin}
# A request stores its distribution, moves the master beside it (a rename) and makes its job at
# once; a copy without a job this long after it was stored lost its job's row, and is given one.
ORPHAN_AFTER = timedelta(seconds=10)


@dataclass(frozen=True)
class DistributionView:
    dist: DistributionRecord
    work: Work
    platform: Account
    op: ChainOp | None
    job_id: int | None = None  # the media job that marks the copy

    @property
    def status(self) -> str:
        if self.dist.status == DistributionStatus.anchoring and self.op is not None:
            state = op_status(self.op)
            return {"confirmed": "ready", "failed": "failed"}.get(state, "anchoring")
        return self.dist.status.value

    @property
    def error(self) -> str | None:
        if self.dist.error:
            return self.dist.error
        if self.op is not None and op_status(self.op) == "failed":
            return f"the chain refused the anchor: {self.op.error_name or self.op.last_error}"
        return None


def storage_dir(data_dir: Path, dist_id: int) -> Path:
    return data_dir / "distributions" / str(dist_id)


def source_path(data_dir: Path, dist: DistributionRecord) -> Path:
    return storage_dir(data_dir, dist.id) / "master"


def copy_path(ledger: Ledger, dist: DistributionRecord) -> Path | None:
    return storage_dir(ledger.settings.data_dir, dist.id) / dist.copy_name if dist.copy_name else None


def _platform(db: Session, ident: str) -> Account:
    ident = ident.strip()
    account = None
    if is_address(ident):  # an address in any case, held checksummed
        account = db.exec(select(Account).where(Account.address == to_checksum_address(ident))).first()
    if account is None:
        account = db.exec(select(Account).where(Account.name == ident)).first()
    if account is None or account.role != Role.platform:
        raise InvalidInput("platform", f"no platform account {ident!r}")
    return account


def _optional_text(field: str, value: str | None, limit: int) -> str | None:
    if value is None or not value.strip():
        return None
    value = value.strip()
    if len(value) > limit:
        raise InvalidInput(field, f"{field} is at most {limit} characters")
    return value


def create_distribution(
    ledger: Ledger,
    account: Account,
    work_id: str,
    *,
    platform: str,
    master: Path,
    master_sha256: bytes,
    master_name: str | None = None,
    session_label: str | None = None,
    tier: str | None = None,
    idempotency_key: str | None = None,
) -> DistributionView:
    """Record a distribution of the work to `platform` and start marking its copy; the
    uploaded `master` (which must be the registered file) is moved into the ledger's storage."""
    if account.role != Role.rights_holder:
        raise Forbidden("only a rights holder distributes works")
    ident = work_id_of(parse_work_id(work_id))
    session_label = _optional_text("session", session_label, 200)
    tier = _optional_text("tier", tier, 80)
    with session(ledger.engine) as db:
        work = db.exec(select(Work).where(Work.work_id == ident)).first()
        if work is None or work.owner_id != account.id:
            raise NotFound("work", ident)
        recipient = _platform(db, platform)
        digest = request_digest(
            "distribution",
            work_id=ident,
            platform_id=recipient.id,
            session=session_label,
            tier=tier,
            file_sha256=to_0x(master_sha256),
        )
        if idempotency_key:
            again = earlier_request(db, DistributionRecord, idempotency_key, owner_id=account.id)
            if again is not None:
                if (again.work_pk, again.platform_id, again.session, again.tier) != (
                    work.id,
                    recipient.id,
                    session_label,
                    tier,
                ):
                    raise key_reused(idempotency_key, "distribution")
                check_same(again, idempotency_key, digest, "distribution")
                if again.status == DistributionStatus.embedding:  # its job may never have been made
                    _keep_master(ledger, again, master)
                    _start_marking(ledger, again)
                master.unlink(missing_ok=True)
                return _view(db, again)
        if op_status(must_get(db, ChainOp, work.op_id)) != "confirmed":
            raise Conflict("work_not_confirmed", f"work {ident} is not confirmed on chain yet; try again shortly")
    if to_0x(master_sha256) != ident:
        raise InvalidInput(
            "file", f"this file is not the work's master: its SHA-256 is {to_0x(master_sha256)}, the work is {ident}"
        )
    try:
        kind = media_kind(master)
    except WatermarkError as exc:
        raise InvalidInput("file", str(exc)) from None
    authorise_service(ledger, account)
    key = ledger.watermark_keys.key_for(account.address)
    with session(ledger.engine) as db:
        for _ in range(8):  # a collision among 2**48 payloads is rare; draw again
            dist = DistributionRecord(
                work_pk=work.id,
                owner_id=account.id,
                platform_id=recipient.id,
                session=session_label,
                tier=tier,
                payload=secrets.randbelow(2**PAYLOAD_BITS - 1) + 1,
                key_id=key_id(key),
                source_name=(master_name or "")[:255] or None,
                media_kind=kind,
                idempotency_key=idempotency_key,
                request_digest=digest,
            )
            db.add(dist)
            try:
                db.commit()
                break
            except IntegrityError:
                db.rollback()
                if idempotency_key and earlier_request(db, DistributionRecord, idempotency_key, owner_id=account.id):
                    raise key_in_use(idempotency_key) from None
        else:  # pragma: no cover - 8 collisions in 2**48
            raise Conflict("payload_exhausted", "could not draw a free payload")
    _keep_master(ledger, dist, master)
    _start_marking(ledger, dist)
    with session(ledger.engine) as db:
        return _view(db, must_get(db, DistributionRecord, dist.id))


def copy_job_key(dist_id: int) -> str:
    """The key of a distribution's marking job, so that it has one however often it is asked
    for (a client's retry after the job's row failed to be written, replicas resuming at once).
    The newline, which no Idempotency-Key header can carry, keeps it apart from clients' keys."""
    return f"mark copy\n{dist_id}"


def _keep_master(ledger: Ledger, dist: DistributionRecord, master: Path) -> None:
    """Move the upload into the distribution's storage, unless an earlier request's is there."""
    target = source_path(ledger.settings.data_dir, dist)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(master, target)


def _start_marking(ledger: Ledger, dist: DistributionRecord) -> None:
    from ledger.media_jobs import records as jobs

    job, created = jobs.create(
        ledger.engine,
        kind="mark_copy",
        owner_id=dist.owner_id,
        request={},
        distribution_id=dist.id,
        idempotency_key=copy_job_key(dist.id),
    )
    if created:
        ledger.media_jobs.submit(job.id)


def mark_copy(
    engine: Engine, data_dir: Path, master_key: bytes, dist_id: int, progress: Progress, holds: Callable[[], bool]
) -> dict[str, Any]:
    """The media step of a copy's job: mark the stored master and keep the copy beside it.
    Only files are written, and the distribution's progress; `holds` says whether this runner
    still holds the job (a runner thought dead leaves the copy to the one that took over)."""
    with session(engine) as db:
        dist = db.get(DistributionRecord, dist_id)
        if dist is None or dist.status != DistributionStatus.embedding:
            return {"copy_name": dist.copy_name if dist else None}  # made already
        owner = must_get(db, Account, dist.owner_id)
    source = source_path(data_dir, dist)
    if not source.exists():
        _fail(engine, data_dir, dist_id, "the uploaded master was lost before its copy was made; create it again")
        raise JobRefused("master_lost", "the uploaded master was lost before its copy was made")
    name = "copy" + COPY_SUFFIX.get(dist.media_kind or "", ".bin")
    partial = source.parent / f"partial-{uuid.uuid4().hex[:8]}-{name}"
    last = [0.0]

    def noted(done: int, total: int | None) -> None:
        progress(done, total)
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            _progress(engine, dist_id, done, total)

    key = WatermarkKeys(master_key).key_for(owner.address)
    try:
        result = embed_file(source, partial, dist.payload, key, progress=noted)
        if not holds():
            raise LeaseLost()
        os.replace(partial, source.parent / name)
    except WatermarkError as exc:
        _fail(engine, data_dir, dist_id, f"the master could not be marked: {exc}")
        raise JobRefused("not_markable", f"the master could not be marked: {exc}") from None
    except Exception as exc:  # a media library failing on odd input must not stay "embedding" forever
        if not isinstance(exc, (LeaseLost, Interrupted, SQLAlchemyError)):
            log.exception("marking the copy of distribution %s failed", dist_id)
            _fail(engine, data_dir, dist_id, f"the master could not be marked ({type(exc).__name__})")
        raise
    finally:
        partial.unlink(missing_ok=True)  # gone once renamed; a leftover of a failed try otherwise
    return {"copy_name": name, "frames": result.frames}


def anchor_copy(ledger: Ledger, dist_id: int, output: dict[str, Any]) -> dict[str, Any]:
    """The ledger step of a copy's job: its SHA-256 into the canonical record and the record's
    hash into the outbox, in one transaction, then sent. Done already, it does nothing."""
    with session(ledger.engine) as db:
        dist = must_get(db, DistributionRecord, dist_id)
        owner = must_get(db, Account, dist.owner_id)
    if dist.status != DistributionStatus.embedding:
        return {"distribution_id": dist_id, "frames": dist.frames_total}
    source = source_path(ledger.settings.data_dir, dist)
    name = output["copy_name"]
    digest, size = _sha256(source.parent / name)
    chain = ledger.chain
    with session(ledger.engine) as db:
        dist = must_get(db, DistributionRecord, dist_id)
        work, platform = must_get(db, Work, dist.work_pk), must_get(db, Account, dist.platform_id)
        dist.copy_name, dist.copy_sha256, dist.copy_size = name, to_0x(digest), size
        dist.frames_done = dist.frames_total = output["frames"]
        record = records.record_of(dist, work, owner, platform)
        anchored = records.record_hash(record)
        call = chain.distributions.anchor(work_id=work.work_id, payload=dist.payload, record_hash=anchored)
        op = chain.outbox.record(db, f"anchor-distribution:{dist.id}:{anchored.hex()[:16]}", chain.signer, call)
        dist.record, dist.record_hash, dist.op_id = record, to_0x(anchored), op.id
        dist.status, dist.updated_at = DistributionStatus.anchoring, utcnow()
        db.add(dist)
        db.commit()
        op_id = op.id
    source.unlink(missing_ok=True)  # the master is the owner's; only the marked copy stays
    try:
        chain.outbox.send(op_id)
    except Exception as exc:  # the reconciler sends it when the node is back
        log.warning("anchoring distribution %s waits for the chain: %s", dist_id, exc)
    return {"distribution_id": dist_id, "frames": output["frames"]}


def _sha256(path: Path) -> tuple[bytes, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.digest(), size


def _progress(engine: Engine, dist_id: int, done: int, total: int | None) -> None:
    """Note how far marking is; a database failing on this note does not fail the copy."""
    try:
        with session(engine) as db:
            dist = must_get(db, DistributionRecord, dist_id)
            dist.frames_done, dist.frames_total, dist.updated_at = done, total, utcnow()
            db.add(dist)
            db.commit()
    except SQLAlchemyError as exc:
        log.warning("distribution %s: progress not stored (%s)", dist_id, type(exc).__name__)


def _fail(engine: Engine, data_dir: Path, dist_id: int, reason: str) -> None:
    with session(engine) as db:
        dist = must_get(db, DistributionRecord, dist_id)
        dist.status, dist.error, dist.updated_at = DistributionStatus.failed, reason, utcnow()
        db.add(dist)
        db.commit()
    source_path(data_dir, dist).unlink(missing_ok=True)


def resume(ledger: Ledger) -> int:
    """Give a job to every copy still to be made that has had none for `ORPHAN_AFTER` (made
    before copies were jobs, or whose job's row could not be written and whose client never
    asked again); returns how many. The leader's pass runs it every `media_poll` seconds, so
    such a copy is taken up within about `ORPHAN_AFTER` plus that, not at the next start.
    Copies with a job are taken up with their job; passes that overlap (a leader that has just
    lost its lock) make one job each (`copy_job_key`)."""
    stored_before = utcnow() - ORPHAN_AFTER
    with session(ledger.engine) as db:
        with_job = select(MediaJob.distribution_id).where(col(MediaJob.distribution_id).is_not(None))
        orphans = db.exec(
            select(DistributionRecord).where(
                DistributionRecord.status == DistributionStatus.embedding,
                col(DistributionRecord.id).not_in(with_job),
                col(DistributionRecord.created_at) < stored_before,
            )
        ).all()
    for dist in orphans:
        _start_marking(ledger, dist)
    return len(orphans)


# ---------------------------------------------------------------- reading


def _view(db: Session, dist: DistributionRecord) -> DistributionView:
    op = db.get(ChainOp, dist.op_id) if dist.op_id else None
    job = db.exec(select(MediaJob.id).where(MediaJob.distribution_id == dist.id).order_by(col(MediaJob.id))).first()
    return DistributionView(dist, must_get(db, Work, dist.work_pk), must_get(db, Account, dist.platform_id), op, job)


def visible_to(account: Account, dist: DistributionRecord) -> bool:
    return account.role in READ_ALL or account.id in (dist.owner_id, dist.platform_id)


def get_distribution(ledger: Ledger, account: Account, dist_id: int) -> DistributionView:
    """A distribution its owner, its platform or an auditor may see; to others it does not exist."""
    with session(ledger.engine) as db:
        dist = db.get(DistributionRecord, dist_id)
        if dist is None or not visible_to(account, dist):
            raise NotFound("distribution", dist_id)
        return _view(db, dist)


def list_distributions(
    ledger: Ledger, account: Account, *, work_id: str | None = None, offset: int = 0, limit: int = 50
) -> tuple[list[DistributionView], int]:
    from sqlalchemy import func

    with session(ledger.engine) as db:
        query = select(DistributionRecord)
        if account.role not in READ_ALL:
            query = query.where(
                or_(DistributionRecord.owner_id == account.id, DistributionRecord.platform_id == account.id)
            )
        if work_id:
            work = db.exec(select(Work).where(Work.work_id == work_id_of(parse_work_id(work_id)))).first()
            query = query.where(DistributionRecord.work_pk == (work.id if work else -1))
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        rows = db.exec(query.order_by(col(DistributionRecord.id)).offset(offset).limit(limit)).all()
        return [_view(db, d) for d in rows], total


def copy_file(ledger: Ledger, account: Account, dist_id: int) -> tuple[Path, DistributionView]:
    """The marked copy, for its owner and the platform it was made for."""
    view = get_distribution(ledger, account, dist_id)
    if account.id not in (view.dist.owner_id, view.dist.platform_id):
        raise Forbidden("only the rights holder and the receiving platform download the copy")
    path = copy_path(ledger, view.dist)
    if path is None or not path.exists():
        raise Conflict("copy_not_ready", f"the copy of distribution {dist_id} is not ready ({view.status})")
    return path, view


def anchored_hash(ledger: Ledger, work_id: str, payload: int) -> tuple[bytes, int]:
    """What the chain holds for (work, payload): the record hash (zero if none) and when."""
    anchor = ledger.chain.distributions.anchor_of(work_id, payload)
    return anchor.record_hash, anchor.anchored_at
