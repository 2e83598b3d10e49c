"""Running a job's steps: the media step wherever it is run (a queue worker, or the service
itself), the ledger step in the service.

`run_media` takes the media step under a lease, reports progress (renewing the lease) and
stores the result; `run_ledger` takes the ledger step, does it and ends the job. Either, run
twice or by two runners at once, does its work once: the row says whose step it is."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from ledger.chain.errors import ChainRevert, IdempotencyConflict
from ledger.errors import LedgerError
from ledger.media_jobs import hashing, marking, records
from ledger.media_jobs.steps import Interrupted, JobRefused, LeaseLost, MediaContext, Report, reporter
from ledger.models import JobStatus, MediaJob

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("reelledger.media_jobs")


class JobKind(Protocol):
    KIND: str

    def media_step(self, ctx: MediaContext, job: MediaJob, report: Report) -> dict[str, Any]: ...

    def ledger_step(self, ledger: Ledger, job: MediaJob) -> dict[str, Any]: ...

    def cleanup(self, data_dir: Path, job: MediaJob) -> None: ...


def kinds() -> dict[str, JobKind]:
    return {hashing.KIND: hashing, marking.KIND: marking}  # modules with the protocol's functions


class Outcome:
    """What `run_media` did: the step is done (by this runner or before), or held by another."""

    done = "done"
    held = "held"  # another runner holds a live lease: try again once it may have lapsed
    interrupted = "interrupted"


def run_media(ctx: MediaContext, job_id: int, holder: str) -> str:
    job = records.take(ctx.engine, job_id, JobStatus.running, holder, ctx.lease_s)
    if job is None:
        return _why_not(ctx, job_id)
    kind = kinds()[job.kind]
    try:
        output = kind.media_step(ctx, job, reporter(ctx, job_id, holder))
    except LeaseLost:
        log.warning("media job %s was taken over by another runner", job_id)
        return Outcome.held
    except Interrupted:
        records.release(ctx.engine, job_id, holder)  # taken up again at once at the next start
        return Outcome.interrupted
    except JobRefused as exc:
        _fail(ctx, job, exc.code, exc.message, kind)
        return Outcome.done
    except Exception as exc:  # a media library failing on odd input must not leave the job running for ever
        if _infrastructure(exc):
            raise  # the database is away: tried again (Dramatiq's retries, or the next pass)
        log.exception("media job %s failed", job_id)
        _fail(ctx, job, "media_failed", f"the file could not be processed ({type(exc).__name__}: {exc})", kind)
        return Outcome.done
    if not records.media_done(ctx.engine, job_id, holder, output):
        log.warning("media job %s: its lease lapsed before the result was stored; another runner redoes it", job_id)
        return Outcome.held
    return Outcome.done


def _infrastructure(exc: Exception) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError)


def _why_not(ctx: MediaContext, job_id: int) -> str:
    from ledger.db import session

    with session(ctx.engine) as db:
        job = db.get(MediaJob, job_id)
    if job is None or job.status not in (JobStatus.queued, JobStatus.running):
        return Outcome.done  # finished, failed, or at its ledger step: nothing for the media step
    return Outcome.held


def _fail(ctx: MediaContext, job: MediaJob, code: str, message: str, kind: JobKind) -> None:
    records.fail(ctx.engine, job.id, code, message)
    kind.cleanup(ctx.data_dir, job)


def run_ledger(ledger: Ledger, job_id: int, holder: str) -> bool:
    """The ledger step of a job whose media step is done; True when this call ended the job.
    What may pass (the node or the database away, gas not yet there) is raised, the lease
    ended, and the step is tried again on the next pass (whichever runner makes it)."""
    job = records.take(ledger.engine, job_id, JobStatus.finishing, holder, ledger.settings.media_job_lease)
    if job is None:
        return False
    kind = kinds()[job.kind]
    try:
        result = kind.ledger_step(ledger, job)
    except JobRefused as exc:
        records.fail(ledger.engine, job_id, exc.code, exc.message)
    except LedgerError as exc:  # refused as the synchronous request would have been
        records.fail(ledger.engine, job_id, exc.code, exc.message)
    except (ChainRevert, IdempotencyConflict) as exc:  # the chain refused the write: trying again changes nothing
        records.fail(ledger.engine, job_id, getattr(exc, "name", "chain_refused"), f"the chain refused it: {exc}")
    except Exception:
        try:
            records.lapse(ledger.engine, job_id, holder, JobStatus.finishing)
        except Exception:  # the database is away: the lease ends by itself
            log.debug("media job %s: its lease could not be ended early", job_id)
        raise
    else:
        if not records.finish(ledger.engine, job_id, holder, result):
            return False
    kind.cleanup(ledger.settings.data_dir, job)
    return True


def context(ledger: Ledger, stopping: Callable[[], bool] | None = None) -> MediaContext:
    settings = ledger.settings
    ctx = MediaContext(ledger.engine, settings.data_dir, settings.master_key, settings.media_job_lease)
    if stopping is not None:
        ctx.stopping = stopping
    return ctx
