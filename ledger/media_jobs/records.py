"""The job rows: created, taken under a lease, advanced, finished, read.

Every change of state is one conditional UPDATE, so two runners (a redelivered message and the
first one, two service replicas) never both take a step: the one whose UPDATE matched has it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, Update, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ledger.db import session
from ledger.errors import NotFound
from ledger.models import Account, JobStatus, MediaJob, Role, utcnow

READ_ALL = {Role.auditor, Role.admin}
ACTIVE = (JobStatus.queued, JobStatus.running, JobStatus.finishing)


def create(
    engine: Engine,
    *,
    kind: str,
    owner_id: int,
    request: dict[str, Any],
    distribution_id: int | None = None,
    idempotency_key: str | None = None,
) -> tuple[MediaJob, bool]:
    """A new queued job, or the one this owner already asked for under `idempotency_key`
    (then False: nothing new to run)."""
    with session(engine) as db:
        if idempotency_key:
            earlier = _by_key(db, owner_id, idempotency_key)
            if earlier is not None:
                return earlier, False
        job = MediaJob(
            kind=kind,
            owner_id=owner_id,
            request=request,
            distribution_id=distribution_id,
            idempotency_key=idempotency_key,
        )
        db.add(job)
        try:
            db.commit()
        except IntegrityError:  # the same key, at the same moment
            db.rollback()
            earlier = _by_key(db, owner_id, idempotency_key or "")
            if earlier is None:
                raise
            return earlier, False
        db.refresh(job)
        return job, True


def _by_key(db: Session, owner_id: int, key: str) -> MediaJob | None:
    found: MediaJob | None = db.exec(
        select(MediaJob).where(MediaJob.owner_id == owner_id, MediaJob.idempotency_key == key)
    ).first()
    return found


def _lapsed() -> ColumnElement[bool]:
    return or_(col(MediaJob.lease_until).is_(None), col(MediaJob.lease_until) < utcnow())


def _apply(engine: Engine, change: Update) -> bool:
    """Run one conditional UPDATE; True when it matched the row."""
    with session(engine) as db:
        matched: bool = db.exec(change).rowcount == 1
        db.commit()
        return matched


def take(engine: Engine, job_id: int, step: JobStatus, holder: str, lease_s: float) -> MediaJob | None:
    """Take `step` (running: the media step; finishing: the ledger step) of a job for `holder`:
    the job is waiting for that step, or its last holder's lease lapsed. None when it is not
    this holder's to take (done, failed, or held by a live runner)."""
    waiting = JobStatus.queued if step == JobStatus.running else JobStatus.finishing
    claim = (
        update(MediaJob)
        .where(
            col(MediaJob.id) == job_id,
            or_(col(MediaJob.status) == waiting, col(MediaJob.status) == step),
            or_(_lapsed(), col(MediaJob.lease_holder) == holder),
        )
        .values(
            status=step,
            lease_holder=holder,
            lease_until=utcnow() + timedelta(seconds=lease_s),
            attempts=MediaJob.attempts + (1 if step == JobStatus.running else 0),
            updated_at=utcnow(),
        )
    )
    if not _apply(engine, claim):
        return None
    with session(engine) as db:
        return db.get(MediaJob, job_id)


def _held(job_id: int, holder: str, step: JobStatus) -> tuple[ColumnElement[bool], ...]:
    return (col(MediaJob.id) == job_id, col(MediaJob.status) == step, col(MediaJob.lease_holder) == holder)


def progress(engine: Engine, job_id: int, holder: str, done: float, total: float | None, lease_s: float) -> bool:
    """Note how far the media step is and renew the lease; False when the lease was lost (the
    step is someone else's now: stop)."""
    renew = (
        update(MediaJob)
        .where(*_held(job_id, holder, JobStatus.running))
        .values(
            progress_done=done,
            progress_total=total,
            lease_until=utcnow() + timedelta(seconds=lease_s),
            updated_at=utcnow(),
        )
    )
    return _apply(engine, renew)


def holds(engine: Engine, job_id: int, holder: str, lease_s: float) -> bool:
    """Whether `holder` still holds the media step, renewing its lease if so."""
    renew = (
        update(MediaJob)
        .where(*_held(job_id, holder, JobStatus.running))
        .values(lease_until=utcnow() + timedelta(seconds=lease_s))
    )
    return _apply(engine, renew)


def release(engine: Engine, job_id: int, holder: str) -> None:
    """Give the media step back (an orderly stop): anyone may take it at once."""
    _apply(
        engine,
        update(MediaJob)
        .where(*_held(job_id, holder, JobStatus.running))
        .values(status=JobStatus.queued, lease_holder=None, lease_until=None, updated_at=utcnow()),
    )


def lapse(engine: Engine, job_id: int, holder: str, step: JobStatus) -> None:
    """End this holder's lease on `step` now, the step left to do: a runner that failed on
    something passing (the database, the node) lets the next pass, in any thread or replica,
    take it at once rather than after the lease."""
    _apply(engine, update(MediaJob).where(*_held(job_id, holder, step)).values(lease_until=utcnow()))


def media_done(engine: Engine, job_id: int, holder: str, output: dict[str, Any]) -> bool:
    """Store the media step's result; the ledger step may follow at once (the lease is let go)."""
    step = (
        update(MediaJob)
        .where(*_held(job_id, holder, JobStatus.running))
        .values(
            status=JobStatus.finishing,
            output=output,
            lease_holder=None,
            lease_until=None,
            updated_at=utcnow(),
        )
    )
    return _apply(engine, step)


def finish(engine: Engine, job_id: int, holder: str, result: dict[str, Any]) -> bool:
    """The ledger step is done: the job is, once."""
    step = (
        update(MediaJob)
        .where(*_held(job_id, holder, JobStatus.finishing))
        .values(status=JobStatus.done, result=result, lease_holder=None, lease_until=None, updated_at=utcnow())
    )
    return _apply(engine, step)


def fail(engine: Engine, job_id: int, code: str, message: str) -> None:
    """The job cannot be done (bad media, a refused registration): it ends with the reason."""
    step = (
        update(MediaJob)
        .where(col(MediaJob.id) == job_id, col(MediaJob.status).in_(ACTIVE))
        .values(
            status=JobStatus.failed,
            error_code=code,
            error=message,
            lease_holder=None,
            lease_until=None,
            updated_at=utcnow(),
        )
    )
    _apply(engine, step)


def unfinished(engine: Engine, status: JobStatus) -> list[int]:
    """Jobs waiting in `status` whose lease lapsed or was never taken, oldest first."""
    with session(engine) as db:
        query = select(MediaJob.id).where(MediaJob.status == status, _lapsed()).order_by(col(MediaJob.id))
        return list(db.exec(query).all())


def never_taken(engine: Engine, older_than: float) -> list[int]:
    """Queued jobs no runner has taken, made more than `older_than` seconds ago."""
    before = utcnow() - timedelta(seconds=older_than)
    with session(engine) as db:
        query = select(MediaJob.id).where(
            MediaJob.status == JobStatus.queued, MediaJob.attempts == 0, col(MediaJob.created_at) < before
        )
        return list(db.exec(query.order_by(col(MediaJob.id))).all())


def active_counts(engine: Engine) -> dict[str, int]:
    """How many jobs are queued and running (the ledger step counts as running), for a gauge."""
    with session(engine) as db:
        rows = db.exec(
            select(MediaJob.status, func.count()).where(col(MediaJob.status).in_(ACTIVE)).group_by(MediaJob.status)
        ).all()
    counts = {"queued": 0, "running": 0}
    for status, n in rows:
        counts["queued" if status == JobStatus.queued else "running"] += n
    return counts


def get(engine: Engine, account: Account, job_id: int) -> MediaJob:
    """A job its owner (or an auditor, an admin) may see; to others it does not exist."""
    with session(engine) as db:
        job = db.get(MediaJob, job_id)
        if job is None or (account.role not in READ_ALL and job.owner_id != account.id):
            raise NotFound("job", job_id)
        return job


def listing(engine: Engine, account: Account, *, offset: int = 0, limit: int = 50) -> tuple[list[MediaJob], int]:
    """The newest first: the account's own jobs, everyone's for auditors and admins."""
    with session(engine) as db:
        query = select(MediaJob)
        if account.role not in READ_ALL:
            query = query.where(MediaJob.owner_id == account.id)
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        rows = db.exec(query.order_by(col(MediaJob.id).desc()).offset(offset).limit(limit)).all()
        return list(rows), total
