"""Opening a case for a copy found on the web, and reading cases.

A crawler reports a sighting: the bytes it fetched and how it fetched them. The service
matches the bytes itself (a crawler's word is not evidence), reads the watermark, and opens
one case per work and URL: the evidence bundle, its anchor in the outbox and the drafted
notices are stored in one transaction. The same leak found again (by another worker, a
retried job or a later crawl) is a sighting of the same case, never a second one.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ledger.chain.hexes import to_0x
from ledger.db import must_get, session
from ledger.distributions import trace as tracing
from ledger.errors import Conflict, Forbidden, InvalidInput, NotFound
from ledger.matching import match_file
from ledger.models import (
    Account,
    CaseLife,
    CaseStatus,
    ChainOp,
    NoticeDelivery,
    PiracyCase,
    Role,
    TakedownNotice,
    Work,
    utcnow,
)
from ledger.op_views import op_status
from ledger.piracy import counter_notices, evidence, notices
from watermark.fingerprint import VIDEO_PHASH

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("reelledger.piracy")

READ_ALL = {Role.auditor, Role.admin}
MAX_URL = 2048
MAX_SCREENSHOT_BYTES = 8 * 2**20
CLOCK_SKEW = timedelta(minutes=5)  # how far in the future a crawler's clock may be
# Seconds of a video's watermark read first: the excerpt length the watermark's suite and
# goals are measured on (a payload read from it has that suite's record of no wrong one),
# and a sixth of the reading (about half a CPU second a second of 720p) of tracing's default
# stretch (DEFAULT_SECONDS), which a copy this does not decide is read on, as before.
MARK_FIRST_SECONDS = 10.0


@dataclass(frozen=True)
class Sighting:
    """How a crawler fetched a copy, as it reports it."""

    url: str
    fetched_at: datetime
    page_url: str | None = None
    final_url: str | None = None
    status: int | None = None
    http_version: str | None = None
    content_type: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    sha256: str | None = None  # what the crawler computed; checked against the bytes received


@dataclass(frozen=True)
class CaseView:
    case: PiracyCase
    work: Work
    op: ChainOp
    notices: list[TakedownNotice]
    platform: Account | None
    lives: list[CaseLife]  # the link's lives before this one, oldest first


@dataclass(frozen=True)
class SightingOutcome:
    matched: bool  # the copy is a registered work's
    created: bool
    case: CaseView | None  # None: no match, or the case is another crawler's
    match: object | None = None  # ledger.matching.MatchOutcome when matching ran


@overload
def check_url(name: str, url: str | None, required: Literal[True] = True) -> str: ...
@overload
def check_url(name: str, url: str | None, required: bool) -> str | None: ...
def check_url(name: str, url: str | None, required: bool = True) -> str | None:
    if url is None or not url.strip():
        if required:
            raise InvalidInput(name, f"{name} is required")
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(name, f"{name} must be an http or https URL")
    if len(url) > MAX_URL:
        raise InvalidInput(name, f"{name} is at most {MAX_URL} characters")
    return url


def url_key(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()


def evidence_dir(ledger: Ledger, evidence_hash: str) -> Path:
    return ledger.settings.data_dir / "evidence" / evidence_hash.removeprefix("0x")


def report_sighting(
    ledger: Ledger,
    crawler: Account,
    *,
    path: Path,
    content_sha256: bytes,
    size: int,
    sighting: Sighting,
    screenshot: bytes | None = None,
) -> SightingOutcome:
    """Open a case for the copy at `sighting.url`, or count one more sighting of its case."""
    if crawler.role != Role.crawler:
        raise Forbidden("only a crawler reports copies found on the web")
    sighting = replace(
        sighting,
        url=check_url("url", sighting.url),
        page_url=check_url("page_url", sighting.page_url, required=False),
        final_url=check_url("final_url", sighting.final_url, required=False),
    )
    url = sighting.url
    if sighting.fetched_at > utcnow() + CLOCK_SKEW:
        raise InvalidInput("fetched_at", "fetched_at is in the future")
    digest = to_0x(content_sha256)
    if sighting.sha256 and sighting.sha256.lower().removeprefix("0x") != content_sha256.hex():
        raise InvalidInput("sha256", f"the file received has SHA-256 {digest}, not the one reported")
    if screenshot is not None and not screenshot.startswith(b"\x89PNG\r\n\x1a\n"):
        raise InvalidInput("screenshot", "the screenshot is not a PNG")
    key = url_key(url)
    with session(ledger.engine) as db:  # the same bytes at the same address: nothing to examine again
        known = db.exec(
            select(PiracyCase).where(PiracyCase.url_key == key, PiracyCase.content_sha256 == digest)
        ).first()
        if known is not None:
            return _sighting_of(db, known, crawler, sighting.fetched_at)
        finding = _finding_of_known_bytes(db, digest)
    outcome = None
    if finding is None:  # bytes never seen: match them and read their watermark
        outcome = match_file(ledger, crawler, path, staged=True)
        if outcome.match is None:
            return SightingOutcome(False, False, None, outcome)
        assert outcome.work is not None and outcome.op is not None  # a match names its work
        traced = _trace(ledger, crawler, path, outcome.query.kind, outcome.work.id)
        dist = traced.distribution
        finding = Finding(
            outcome.work,
            outcome.op,
            outcome.query.kind,
            evidence.match_doc(outcome.match, outcome.query, whole=outcome.whole),
            evidence.watermark_doc(traced),
            dist.dist.id if dist else None,
            dist.platform.id if dist else None,
            evidence.derivative_doc(outcome.derived_from, outcome.query) if outcome.derived_from else None,
        )
    with session(ledger.engine) as db:
        known = db.exec(
            select(PiracyCase).where(PiracyCase.work_pk == finding.work.id, PiracyCase.url_key == key)
        ).first()
        if known is not None:
            return _sighting_of(db, known, crawler, sighting.fetched_at, outcome)
    if op_status(finding.registration) != "confirmed":  # the evidence registry anchors only for registered works
        raise Conflict(
            "work_not_confirmed",
            f"work {finding.work.work_id} is not confirmed on chain yet; report this copy again shortly",
        )
    view, created = _open_case(ledger, crawler, path, digest, size, sighting, screenshot, finding)
    if view.case.crawler_id != crawler.id:
        return SightingOutcome(True, False, None, outcome)
    return SightingOutcome(True, created, view, outcome)


def _trace(ledger: Ledger, crawler: Account, path: Path, kind: str, work_pk: int) -> tracing.Trace:
    """The copy's watermark, read on its first MARK_FIRST_SECONDS and, when that names no
    payload, on the full default stretch: a payload is reported only when the keys decode it
    (a false one is as unlikely from a short read as from a long one), so a short read that
    finds one is a verdict, and one that does not costs the difference. Before any
    distribution was made no key has marked anything: the trace reads no mark, and the case
    stands on its match alone (its evidence says no watermark was found). Colluders are
    sought among the matched work's copies."""
    if kind == "video":
        first = tracing.trace_file(ledger, crawler, path, max_seconds=MARK_FIRST_SECONDS, work_pk=work_pk)
        if first.detection.payload is not None:
            return first
    return tracing.trace_file(ledger, crawler, path, work_pk=work_pk)


def _sighting_of(
    db: Session, known: PiracyCase, crawler: Account, at: datetime, outcome: object | None = None
) -> SightingOutcome:
    """One more sighting of a known case; its details go back only to the crawler that opened it."""
    view = _seen_again(db, known, at, crawler, reopen=known.crawler_id == crawler.id)
    return SightingOutcome(True, False, view if known.crawler_id == crawler.id else None, outcome)


@dataclass(frozen=True)
class Finding:
    """What a copy is: its work, how it matched and whose distribution its watermark names.
    A copy of a derivative is the derivative's case, never its ancestor's: `derivative_of` names
    the ancestor whose footage it shows and the licence that allows it (evidence.derivative_doc),
    and the notices are the derivative owner's, saying the ancestor's footage is licensed."""

    work: Work
    registration: ChainOp
    media_kind: str
    match: dict[str, Any]
    watermark: dict[str, Any]
    distribution_id: int | None
    platform_id: int | None
    derivative_of: dict[str, Any] | None = None


def _finding_of_known_bytes(db: Session, digest: str) -> Finding | None:
    """The same bytes found at another address before: what they were found to be then
    (matching and tracing them again would only say it again)."""
    case = db.exec(select(PiracyCase).where(PiracyCase.content_sha256 == digest).order_by(col(PiracyCase.id))).first()
    if case is None:
        return None
    work = db.get(Work, case.work_pk)
    registration = db.get(ChainOp, work.op_id) if work is not None else None
    if work is None or registration is None or op_status(registration) == "failed":
        return None
    bundle = case.evidence
    return Finding(
        work,
        registration,
        case.media_kind,
        bundle["match"],
        bundle["watermark"],
        case.distribution_id,
        case.platform_id,
        bundle.get("derivative_of"),
    )


def _open_case(
    ledger: Ledger,
    crawler: Account,
    path: Path,
    digest: str,
    size: int,
    sighting: Sighting,
    screenshot: bytes | None,
    finding: Finding,
) -> tuple[CaseView, bool]:
    chain, work = ledger.chain, finding.work
    shot_sha = to_0x(hashlib.sha256(screenshot).digest()) if screenshot else None
    bundle = evidence.bundle_of(
        sighting=sighting,
        content_sha256=digest,
        content_size=size,
        media_kind=finding.media_kind,
        screenshot_sha256=shot_sha,
        work=work,
        chain_id=chain.chain_id,
        work_registry=chain.addresses.get("WorkRegistry"),
        registration_tx=finding.registration.tx_hash,
        match=finding.match,
        watermark=finding.watermark,
        crawler=crawler,
        recorded_at=utcnow(),
        derivative_of=finding.derivative_of,
    )
    hashed = evidence.bundle_hash(bundle)
    evidence_hash = to_0x(hashed)
    store = evidence_dir(ledger, evidence_hash)
    store.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copyfile(path, store / "copy")
        if screenshot:
            (store / "screenshot.png").write_bytes(screenshot)
        return _store_case(ledger, crawler, digest, size, sighting, finding, bundle, hashed, evidence_hash, store)
    except BaseException:  # no row refers to these files unless the case was stored
        with session(ledger.engine) as db:
            stored = db.exec(select(PiracyCase.id).where(PiracyCase.evidence_hash == evidence_hash)).first()
        if stored is None:
            shutil.rmtree(store, ignore_errors=True)
        raise


def _store_case(
    ledger: Ledger,
    crawler: Account,
    digest: str,
    size: int,
    sighting: Sighting,
    finding: Finding,
    bundle: dict[str, Any],
    hashed: bytes,
    evidence_hash: str,
    store: Path,
) -> tuple[CaseView, bool]:
    chain, work = ledger.chain, finding.work
    with session(ledger.engine) as db:
        owner = must_get(db, Account, work.owner_id)
        call = chain.evidence.anchor(evidence_hash=hashed, work_id=work.work_id)
        op = chain.outbox.record(db, f"anchor-evidence:{evidence_hash}", chain.signer, call)
        case = PiracyCase(
            work_pk=work.id,
            owner_id=work.owner_id,
            crawler_id=crawler.id,
            url=bundle["url"],
            url_key=url_key(bundle["url"]),
            page_url=sighting.page_url,
            content_sha256=digest,
            content_size=size,
            media_kind=finding.media_kind,
            distribution_id=finding.distribution_id,
            platform_id=finding.platform_id,
            evidence=bundle,
            evidence_hash=evidence_hash,
            op_id=op.id,
            first_seen_at=sighting.fetched_at,
            last_seen_at=sighting.fetched_at,
        )
        db.add(case)
        try:
            db.flush()
            delivery = NoticeDelivery.sending if ledger.settings.takedown_webhook else NoticeDelivery.draft
            answer_at = counter_notices.new_link(ledger, db, case.id)
            for text in notices.draft(
                bundle,
                evidence_hash,
                owner.name,
                owner.address,
                case.id,
                chain.addresses.get("EvidenceRegistry"),
                counter_notice_url=answer_at,
                work_media=media_of_work(work),
            ):
                db.add(
                    TakedownNotice(
                        case_id=case.id,
                        format=text.format,
                        language=text.language,
                        subject=text.subject,
                        body=text.body,
                        delivery=delivery,
                        next_attempt_at=utcnow() if delivery == NoticeDelivery.sending else None,
                    )
                )
            db.commit()
        except IntegrityError:  # another worker opened this case first: this is a sighting of it
            db.rollback()
            shutil.rmtree(store, ignore_errors=True)
            known = db.exec(
                select(PiracyCase).where(PiracyCase.work_pk == work.id, PiracyCase.url_key == url_key(bundle["url"]))
            ).one()
            return _seen_again(db, known, sighting.fetched_at, crawler, reopen=known.crawler_id == crawler.id), False
        op_id, case_id = op.id, case.id
    try:
        chain.outbox.send(op_id)
    except Exception as exc:  # the reconciler anchors it when the node is back
        log.warning("anchoring the evidence of case %s waits for the chain: %s", case_id, exc)
    with session(ledger.engine) as db:
        return _view(db, must_get(db, PiracyCase, case_id)), True


def media_of_work(work: Work) -> str | None:
    """Whether the work is footage or a picture, as its fingerprint says (None: registered by hash)."""
    if work.fingerprint_kind is None:
        return None
    return "video" if work.fingerprint_kind == VIDEO_PHASH else "image"


def _seen_again(db: Session, case: PiracyCase, at: datetime, crawler: Account, reopen: bool = True) -> CaseView:
    """Count a sighting; a closed case whose link is back is open again (when its own
    crawler says so), the life that ended kept as a CaseLife: its first sighting, takedown
    and re-finding stay on the case's record. The count is raised in SQL first: that takes
    the row's lock (the database's write lock on SQLite), so two sightings at once both
    count, and the row read after it is current."""
    db.exec(update(PiracyCase).where(col(PiracyCase.id) == case.id).values(sightings=col(PiracyCase.sightings) + 1))
    row = db.get(PiracyCase, case.id, populate_existing=True)
    assert row is not None  # the update above found it
    row.last_seen_at = max(_aware(row.last_seen_at), at)
    if reopen and row.status == CaseStatus.closed and row.gone_at is not None and at > _aware(row.gone_at):
        db.add(
            CaseLife(
                case_id=row.id,
                found_at=life_start(db, row),
                gone_at=row.gone_at,
                lifetime_seconds=row.lifetime_seconds or 0,
                found_again_at=at,
                crawler_id=crawler.id,
            )
        )
        row.status, row.gone_at, row.lifetime_seconds = CaseStatus.open, None, None
    row.updated_at = utcnow()
    db.add(row)
    db.commit()
    return _view(db, row)


def life_start(db: Session, case: PiracyCase) -> datetime:
    """When the link's current life began: its first sighting, or its last re-finding."""
    again = db.exec(select(func.max(CaseLife.found_again_at)).where(CaseLife.case_id == case.id)).one()
    return _aware(again if again is not None else case.first_seen_at)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# ------------------------------------------------------------------ re-checks


def record_check(
    ledger: Ledger,
    crawler: Account,
    case_id: int,
    *,
    alive: bool,
    checked_at: datetime,
    http_status: int | None = None,
    detail: str | None = None,
) -> CaseView:
    """A crawler's re-check of a case's link; the first check that finds it gone closes the
    case and fixes the link's lifetime (first seen to gone)."""
    from ledger.models import CaseCheck

    if crawler.role != Role.crawler:
        raise Forbidden("only a crawler records link checks")
    if checked_at > utcnow() + CLOCK_SKEW:
        raise InvalidInput("checked_at", "checked_at is in the future")
    with session(ledger.engine) as db:
        case = db.exec(select(PiracyCase).where(PiracyCase.id == case_id, PiracyCase.crawler_id == crawler.id)).first()
        if case is None:  # another crawler's case is not this crawler's to close
            raise NotFound("case", case_id)
        db.add(
            CaseCheck(
                case_id=case.id,
                checked_at=checked_at,
                alive=alive,
                http_status=http_status,
                detail=(detail or None) and detail[:500],
                crawler_id=crawler.id,
            )
        )
        case.checks += 1
        case.last_checked_at = checked_at
        if alive:
            case.last_seen_at = max(_aware(case.last_seen_at), checked_at)
        elif case.status == CaseStatus.open:  # the life measured from its start: a re-found link's from then
            start = life_start(db, case)
            gone = max(checked_at, start)
            case.status, case.gone_at = CaseStatus.closed, gone
            case.lifetime_seconds = int((gone - start).total_seconds())
        case.updated_at = utcnow()
        db.add(case)
        db.commit()
        return _view(db, case)


# -------------------------------------------------------------------- reading


def _view(db: Session, case: PiracyCase) -> CaseView:
    texts = db.exec(
        select(TakedownNotice).where(col(TakedownNotice.case_id) == case.id).order_by(col(TakedownNotice.id))
    ).all()
    platform = db.get(Account, case.platform_id) if case.platform_id else None
    lives = db.exec(select(CaseLife).where(CaseLife.case_id == case.id).order_by(col(CaseLife.id))).all()
    work, op = must_get(db, Work, case.work_pk), must_get(db, ChainOp, case.op_id)
    return CaseView(case, work, op, list(texts), platform, list(lives))


def _visible(account: Account) -> ColumnElement[bool] | bool:
    """The cases an account may read: every case for auditors, a rights holder's own works'
    cases, the cases a crawler opened; nothing for anyone else."""
    if account.role in READ_ALL:
        return True
    if account.role == Role.rights_holder:
        return col(PiracyCase.owner_id) == account.id
    if account.role == Role.crawler:
        return col(PiracyCase.crawler_id) == account.id
    raise Forbidden("piracy cases are read by rights holders, crawlers and auditors")


def get_case(ledger: Ledger, account: Account, case_id: int) -> CaseView:
    condition = _visible(account)
    with session(ledger.engine) as db:
        case = db.exec(select(PiracyCase).where(PiracyCase.id == case_id).where(condition)).first()
        if case is None:
            raise NotFound("case", case_id)
        return _view(db, case)


def list_cases(
    ledger: Ledger,
    account: Account,
    *,
    status: CaseStatus | None = None,
    work_id: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[CaseView], int]:
    condition = _visible(account)
    with session(ledger.engine) as db:
        query = select(PiracyCase).where(condition)
        if status is not None:
            query = query.where(PiracyCase.status == status)
        if work_id:
            work = db.exec(select(Work).where(Work.work_id == work_id.lower())).first()
            query = query.where(PiracyCase.work_pk == (work.id if work else -1))
        total = db.exec(select(func.count()).select_from(query.subquery())).one()
        rows = db.exec(query.order_by(col(PiracyCase.id)).offset(offset).limit(limit)).all()
        return [_view(db, c) for c in rows], total


@dataclass(frozen=True)
class Lifetimes:
    """Cases open and closed, and how long links lived before their takedown (None with none gone)."""

    open: int
    closed: int
    median_lifetime_seconds: int | None
    mean_lifetime_seconds: int | None


def lifetimes(ledger: Ledger, account: Account) -> Lifetimes:
    """How long links lived, over the cases the account may read: every life that ended in a
    takedown counts, a re-found link's earlier lives too (closed cases have a lifetime)."""
    condition = _visible(account)
    with session(ledger.engine) as db:
        rows = db.exec(select(PiracyCase.status, PiracyCase.lifetime_seconds).where(condition)).all()
        earlier = db.exec(
            select(CaseLife.lifetime_seconds).join(PiracyCase, col(PiracyCase.id) == CaseLife.case_id).where(condition)
        ).all()
    closed = [life for status, life in rows if status == CaseStatus.closed and life is not None]
    lives = sorted(closed + list(earlier))
    median = None
    if lives:
        middle = len(lives) // 2
        median = lives[middle] if len(lives) % 2 else (lives[middle - 1] + lives[middle]) // 2
    return Lifetimes(
        open=sum(1 for s, _ in rows if s == CaseStatus.open),
        closed=len(closed),
        median_lifetime_seconds=median,
        mean_lifetime_seconds=sum(lives) // len(lives) if lives else None,
    )


def evidence_file(ledger: Ledger, account: Account, case_id: int, name: str) -> Path:
    """A stored evidence file of a case: `copy` (the bytes fetched) or `screenshot.png`."""
    view = get_case(ledger, account, case_id)
    path = evidence_dir(ledger, view.case.evidence_hash) / name
    if not path.exists():
        raise NotFound("evidence file", f"{name} of case {case_id}")
    return path
