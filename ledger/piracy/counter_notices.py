"""Counter-notices (反通知, DMCA 512(g)): the answer of a notice's recipient, filed through the
link the notice carries, without an account.

Each case gets one link when its notices are drafted; its token is random and only its
SHA-256 is kept. A counter-notice filed through it is stored as a canonical document whose
SHA-256 is anchored in the EvidenceRegistry beside the case's evidence (through the outbox,
so a chain outage delays the anchor but loses nothing), the rights holder's webhook is told,
and the waiting period starts: `counter_notice_wait_days` business days after which the case
is due for restoration, unless the rights holder marks a court action filed in time.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from ledger.chain.hexes import to_0x
from ledger.db import must_get, session
from ledger.distributions.records import document
from ledger.errors import Conflict, Gone, InvalidInput, NotFound
from ledger.models import (
    Account,
    CounterNotice,
    CounterNoticeLink,
    NoticeDelivery,
    PiracyCase,
    Work,
    utcnow,
)

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("reelledger.piracy")

DOCUMENT_VERSION = 1
TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{20,100}")
# What the filer affirms, in the words of 17 U.S.C. 512(g)(3)(C)-(D) and 民法典 art. 1196.
STATEMENT = (
    "I swear, under penalty of perjury, that I have a good faith belief that the material was removed or "
    "disabled as a result of mistake or misidentification of the material to be removed or disabled. "
    "I consent to the jurisdiction of the court for the judicial district of my address (or, outside the "
    "United States, any judicial district in which the service provider may be found), and I will accept "
    "service of process from the person who provided the notification or an agent of such person. "
    "本人声明上述内容不构成侵权，并对声明的真实性承担法律责任。"
)

# The time counter-notices are filed and waiting periods are judged by; tests move it.
clock: Callable[[], datetime] = utcnow


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def base_url(ledger: Ledger) -> str:
    settings = ledger.settings
    return (settings.public_base_url or f"http://{settings.host}:{settings.port}").rstrip("/")


def new_link(ledger: Ledger, db: Session, case_id: int) -> str:
    """Add a case's counter-notice link (in the caller's transaction); returns its URL, the
    only place its token is written out."""
    token = secrets.token_urlsafe(32)
    expires = utcnow() + timedelta(days=ledger.settings.counter_notice_link_days)
    db.add(CounterNoticeLink(case_id=case_id, token_hash=token_hash(token), expires_at=expires))
    return f"{base_url(ledger)}/counter-notices?token={token}"


LINK_TOKEN = re.compile(r"(/counter-notices\?token=)[A-Za-z0-9_-]+")


def without_link_token(text: str) -> str:
    """A notice as shown to anyone but its sender: the link's token blanked out."""
    return LINK_TOKEN.sub(r"\1…", text)


def add_business_days(start: datetime, days: int) -> datetime:
    """`days` working days (Monday to Friday) after `start`, at the same time of day."""
    moment = start
    while days > 0:
        moment += timedelta(days=1)
        if moment.weekday() < 5:
            days -= 1
    return moment


@dataclass(frozen=True)
class Filing:
    """What the recipient files, as the form sends it."""

    name: str
    address: str
    email: str
    urls: list[str]
    good_faith: bool
    phone: str | None = None
    explanation: str | None = None


@dataclass(frozen=True)
class Concerned:
    """What a link's notice concerns: shown on the form before anything is filed."""

    case: PiracyCase
    work: Work
    owner: Account
    urls: list[str]
    filed: CounterNotice | None


def _resolve(db: Session, token: str, now: datetime) -> tuple[CounterNoticeLink, PiracyCase]:
    """The link and case of a token; an unknown or malformed token is the same 404."""
    link = None
    if TOKEN_SHAPE.fullmatch(token):
        link = db.exec(select(CounterNoticeLink).where(CounterNoticeLink.token_hash == token_hash(token))).first()
    if link is None:
        raise NotFound("counter-notice link", "this link")
    if _aware(link.expires_at) <= now:
        raise Gone("link_expired", "this counter-notice link has expired")
    return link, must_get(db, PiracyCase, link.case_id)


def _aware(moment: datetime) -> datetime:
    """A time read back from SQLite, which keeps no zone, in UTC as written."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _urls_of(case: PiracyCase) -> list[str]:
    return [case.url] + ([case.page_url] if case.page_url and case.page_url != case.url else [])


def concerned(ledger: Ledger, token: str) -> Concerned:
    with session(ledger.engine) as db:
        _, case = _resolve(db, token, clock())
        filed = db.exec(select(CounterNotice).where(CounterNotice.case_id == case.id)).first()
        work = must_get(db, Work, case.work_pk)
        return Concerned(case, work, must_get(db, Account, case.owner_id), _urls_of(case), filed)


def _checked(filing: Filing, case: PiracyCase) -> Filing:
    if not filing.good_faith:
        raise InvalidInput("good_faith", "the statement of good faith must be affirmed")
    known = _urls_of(case)
    urls = sorted({u.strip() for u in filing.urls})
    if not urls:
        raise InvalidInput("urls", "name at least one URL of the notice")
    stray = [u for u in urls if u not in known]
    if stray:
        raise InvalidInput("urls", f"{stray[0]} is not among the notice's URLs ({', '.join(known)})")
    return Filing(
        name=filing.name.strip(),
        address=filing.address.strip(),
        email=filing.email.strip(),
        urls=urls,
        good_faith=True,
        phone=(filing.phone or "").strip() or None,
        explanation=(filing.explanation or "").strip() or None,
    )


def document_of(
    ledger: Ledger, case: PiracyCase, work: Work, filing: Filing, filed_at: datetime, due: datetime
) -> dict[str, Any]:
    """The canonical counter-notice: what is hashed and anchored. `work.work_id` is the work the
    anchor is made for, as in an evidence bundle, so `reelledger verify evidence` checks it alike."""
    chain = ledger.chain
    return {
        "version": DOCUMENT_VERSION,
        "kind": "reelledger.counter-notice",
        "case": {"id": case.id, "url": case.url, "evidence_hash": case.evidence_hash},
        "work": {"work_id": work.work_id, "title": work.title, "chain_id": chain.chain_id},
        "filer": {"name": filing.name, "address": filing.address, "email": filing.email, "phone": filing.phone},
        "urls": filing.urls,
        "statement": STATEMENT,
        "good_faith": True,
        "explanation": filing.explanation,
        "filed_at": filed_at.isoformat(),
        "waiting_business_days": ledger.settings.counter_notice_wait_days,
        "restoration_due_at": due.isoformat(),
    }


def _same(stored: dict[str, Any], filing: Filing) -> bool:
    filer = stored["filer"]
    return (filer["name"], filer["address"], filer["email"], filer["phone"], stored["urls"], stored["explanation"]) == (
        filing.name,
        filing.address,
        filing.email,
        filing.phone,
        filing.urls,
        filing.explanation,
    )


def submit(ledger: Ledger, token: str, filing: Filing) -> tuple[CounterNotice, bool]:
    """File the counter-notice of a link's case; the same filing again is answered as the first
    (created False), another one after it is refused: a link files once."""
    chain = ledger.chain
    now = clock()
    with session(ledger.engine) as db:
        _, case = _resolve(db, token, now)
        filing = _checked(filing, case)
        known = db.exec(select(CounterNotice).where(CounterNotice.case_id == case.id)).first()
        if known is not None:
            return _again(known, filing), False
        work = must_get(db, Work, case.work_pk)
        due = add_business_days(now, ledger.settings.counter_notice_wait_days)
        doc = document_of(ledger, case, work, filing, now, due)
        hashed = hashlib.sha256(document(doc)).digest()
        call = chain.evidence.anchor(evidence_hash=hashed, work_id=work.work_id)
        op = chain.outbox.record(db, f"anchor-counter-notice:{to_0x(hashed)}", chain.signer, call)
        sending = bool(ledger.settings.takedown_webhook)
        notice = CounterNotice(
            case_id=case.id,
            document=doc,
            document_hash=to_0x(hashed),
            op_id=op.id,
            filed_at=now,
            restoration_due_at=due,
            notify=NoticeDelivery.sending if sending else NoticeDelivery.draft,
            notify_next_at=utcnow() if sending else None,
        )
        db.add(notice)
        try:
            db.commit()
        except IntegrityError:  # filed at the same moment through the same link
            db.rollback()
            known = db.exec(select(CounterNotice).where(CounterNotice.case_id == case.id)).one()
            return _again(known, filing), False
        db.refresh(notice)
    try:
        chain.outbox.send(notice.op_id)
    except Exception as exc:  # the reconciler anchors it when the node is back
        log.warning("anchoring the counter-notice of case %s waits for the chain: %s", notice.case_id, exc)
    return notice, True


def _again(known: CounterNotice, filing: Filing) -> CounterNotice:
    if not _same(known.document, filing):
        raise Conflict("counter_notice_filed", "a counter-notice was already filed through this link")
    return known
