"""Hashing a registered master: the media step computes its on-chain fingerprint and frame
hashes from the stored upload; the ledger step registers the work with them, exactly as a
registration that hashed in the request does (same fingerprint, same frames, same checks)."""

from __future__ import annotations

import contextlib
import logging
import shutil
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.idempotency import key_reused
from ledger.media_jobs import records
from ledger.media_jobs.steps import JobRefused, MediaContext, Report
from ledger.models import Account, MediaJob, WorkKind

if TYPE_CHECKING:
    from ledger.service import Ledger
    from ledger.works import WorkMeta

log = logging.getLogger("reelledger.media_jobs")

KIND = "hash_master"
SAME = ("sha256", "title", "kind", "parent", "parties")  # what a retry under the same key must ask again


def master_path(data_dir: Path, job: MediaJob) -> Path:
    """The stored upload, put in place before the job's row exists (so no runner looks too soon)."""
    return data_dir / str(job.request["file"])


def request_of(
    *,
    sha256: bytes,
    size: int,
    title: str,
    kind: WorkKind,
    parent: str | None,
    parties: list[dict[str, Any]],
    media: bool,
    idempotency_key: str | None,
    file: str,
) -> dict[str, Any]:
    """What the job keeps of the registration asked for; `file`: where its upload is kept,
    relative to the data directory."""
    return {
        "file": file,
        "sha256": sha256.hex(),
        "size": size,
        "title": title,
        "kind": kind.value,
        "parent": parent,
        "parties": parties,
        "media": media,
        "idempotency_key": idempotency_key,
    }


def media_step(ctx: MediaContext, job: MediaJob, report: Report) -> dict[str, Any]:
    from ledger.works import fingerprints_of

    if not job.request.get("media"):
        return {"fingerprint": None, "frames": None}
    master = master_path(ctx.data_dir, job)
    if not master.exists():  # registered without its pictures would be worse than not at all
        raise JobRefused("upload_lost", "the uploaded master was lost before it was hashed; upload it again")
    fingerprint, frames = fingerprints_of(master, progress=report)
    return {
        "fingerprint": {"kind": fingerprint.kind, "hashes": fingerprint.hex_hashes()} if fingerprint else None,
        "frames": frames.to_json() if frames is not None else None,
    }


def ledger_step(ledger: Ledger, job: MediaJob) -> dict[str, Any]:
    """Register the work; repeated after a crash, the same work comes back (idempotency key)."""
    from ledger import works
    from ledger.db import must_get, session
    from watermark.fingerprint import Fingerprint
    from watermark.hash_sequence import HashSequence

    asked, output = job.request, job.output or {}
    with session(ledger.engine) as db:
        account = must_get(db, Account, job.owner_id)
    found = output.get("fingerprint")
    fingerprint = Fingerprint.from_hex(found["kind"], found["hashes"]) if found else None
    frames = HashSequence.from_json(output["frames"]) if output.get("frames") else None
    view = works.register_work(
        ledger,
        account,
        sha256=bytes.fromhex(asked["sha256"]),
        meta=works.WorkMeta(asked["title"], WorkKind(asked["kind"]), asked["parent"], asked["parties"]),
        fingerprint=fingerprint,
        frames=frames,
        size_bytes=asked["size"],
        idempotency_key=asked.get("idempotency_key") or f"media-job:{job.id}",
    )
    return {
        "work_id": view.work.work_id,
        "fingerprint_digest": view.work.fingerprint_digest,
        "frames": len(frames) if frames is not None else 0,
    }


def cleanup(data_dir: Path, job: MediaJob) -> None:
    master = master_path(data_dir, job)
    master.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        master.parent.rmdir()


def register_as_job(
    ledger: Ledger,
    account: Account,
    *,
    upload: Path | None,
    sha256: bytes,
    size: int,
    meta: WorkMeta,
    idempotency_key: str | None = None,
) -> MediaJob:
    """Keep the uploaded master and answer with the job that hashes it and registers the work.
    An Idempotency-Key already used for a job answers with that job (the upload is dropped)."""
    from ledger.errors import Forbidden, InvalidInput
    from ledger.models import Role

    if account.role != Role.rights_holder:
        raise Forbidden("only a rights holder registers works")
    if not meta.title.strip():
        raise InvalidInput("title", "a work needs a title")
    relative = Path("media-jobs") / f"upload-{uuid.uuid4().hex}" / "master"
    stored = ledger.settings.data_dir / relative
    stored.parent.mkdir(parents=True, exist_ok=True)
    if upload is not None:
        shutil.move(upload, stored)
    asked = request_of(
        sha256=sha256,
        size=size,
        title=meta.title,
        kind=meta.kind,
        parent=meta.parent,
        parties=meta.parties,
        media=upload is not None,
        idempotency_key=idempotency_key,
        file=str(relative),
    )
    job, new = records.create(
        ledger.engine, kind=KIND, owner_id=account.id, request=asked, idempotency_key=idempotency_key
    )
    if not new:
        shutil.rmtree(stored.parent, ignore_errors=True)
        if job.kind != KIND or {k: job.request.get(k) for k in SAME} != {k: asked[k] for k in SAME}:
            raise key_reused(idempotency_key or "", "work")
        return job
    ledger.media_jobs.submit(job.id)
    return job
