"""Sending drafted notices to the configured takedown endpoint, and recording what happened.

A notice to send is marked `sending` with a time for its next attempt; the service's
delivery thread posts every notice that is due once its case's evidence is anchored (the
notice says it is), so a webhook that is down or slow costs a
retry with back-off, never a lost notice or a blocked request. Each POST carries the
notice's id as its Idempotency-Key, so a receiver can drop a repeat after a lost answer,
and, when a secret is configured, an HMAC-SHA256 signature of the body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import httpx
from sqlmodel import col, select

from ledger.db import must_get, session
from ledger.errors import Conflict, NotFound
from ledger.models import Account, ChainOp, NoticeDelivery, OpStatus, PiracyCase, TakedownNotice, Work, utcnow

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("reelledger.piracy")

BATCH = 20
FIRST_RETRY_SECONDS = 5
LONGEST_RETRY_SECONDS = 3600
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


def payload_of(notice: TakedownNotice, case: PiracyCase, work: Work) -> bytes:
    return json.dumps(
        {
            "notice": {
                "id": notice.id,
                "format": notice.format,
                "language": notice.language,
                "subject": notice.subject,
                "body": notice.body,
            },
            "case": {
                "id": case.id,
                "url": case.url,
                "page_url": case.page_url,
                "work_id": work.work_id,
                "evidence_hash": case.evidence_hash,
                "content_sha256": case.content_sha256,
            },
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode()


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def deliver_due(ledger: Ledger, client: httpx.Client | None = None) -> int:
    """Post every notice whose attempt is due, then every counter-notice event for a rights holder;
    returns how many were delivered."""
    webhook = ledger.settings.takedown_webhook
    if not webhook:
        return 0
    now = utcnow()
    with session(ledger.engine) as db:
        due = db.exec(
            select(TakedownNotice)
            .join(PiracyCase, col(PiracyCase.id) == col(TakedownNotice.case_id))
            .join(ChainOp, col(ChainOp.id) == col(PiracyCase.op_id))
            .where(
                TakedownNotice.delivery == NoticeDelivery.sending,
                col(TakedownNotice.next_attempt_at) <= now,
                ChainOp.status == OpStatus.confirmed,
            )
            .order_by(col(TakedownNotice.next_attempt_at))
            .limit(BATCH)
        ).all()
        cases = [must_get(db, PiracyCase, n.case_id) for n in due]
        jobs = [(n, c, must_get(db, Work, c.work_pk)) for n, c in zip(due, cases, strict=True)]
    delivered = 0
    own = client is None
    client = client or httpx.Client(timeout=TIMEOUT, follow_redirects=False)
    try:
        for notice, case, work in jobs:
            delivered += _attempt(ledger, client, webhook, notice, case, work)
        from ledger.piracy.counter_delivery import notify_due

        delivered += notify_due(ledger, client, webhook)
    finally:
        if own:
            client.close()
    return delivered


def _attempt(
    ledger: Ledger, client: httpx.Client, webhook: str, notice: TakedownNotice, case: PiracyCase, work: Work
) -> bool:
    status, error = post(ledger, client, webhook, payload_of(notice, case, work), f"takedown-notice-{notice.id}")
    with session(ledger.engine) as db:
        row = db.get(TakedownNotice, notice.id)
        if row is None or row.delivery != NoticeDelivery.sending:
            return False
        row.attempts += 1
        row.response_status, row.last_error = status, error
        row.delivery, row.next_attempt_at = after_attempt(ledger, row.attempts, error)
        if row.delivery == NoticeDelivery.delivered:
            row.delivered_at = utcnow()
        elif row.delivery == NoticeDelivery.failed:
            log.warning(
                "notice %s for case %s was not delivered after %d attempts: %s",
                row.id,
                row.case_id,
                row.attempts,
                error,
            )
        db.add(row)
        db.commit()
        return error is None


def post(ledger: Ledger, client: httpx.Client, webhook: str, body: bytes, key: str) -> tuple[int | None, str | None]:
    """POST one JSON body to the webhook, signed when a secret is set; its status and what went wrong, if anything."""
    headers = {"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key}
    if ledger.settings.takedown_webhook_secret:
        headers["X-ReelLedger-Signature"] = signature(ledger.settings.takedown_webhook_secret, body)
    try:
        status = client.post(webhook, content=body, headers=headers).status_code
    except httpx.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500]
    return status, None if 200 <= status < 300 else f"the endpoint answered {status}"


def after_attempt(ledger: Ledger, attempts: int, error: str | None) -> tuple[NoticeDelivery, datetime | None]:
    """Where a webhook delivery stands after its `attempts`-th try, and when it is tried next:
    delivered, failed for good after `takedown_max_attempts`, or due again after a back-off."""
    if error is None:
        return NoticeDelivery.delivered, None
    if attempts >= ledger.settings.takedown_max_attempts:
        return NoticeDelivery.failed, None
    return NoticeDelivery.sending, utcnow() + retry_after(attempts)


def retry_after(attempts: int) -> timedelta:
    return timedelta(seconds=min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** (attempts - 1)))


def send_notice(ledger: Ledger, account: Account, case_id: int, notice_format: str) -> TakedownNotice:
    """Queue a case's notice for (re)delivery now: its rights holder or the crawler asks."""
    from ledger.piracy.cases import get_case

    view = get_case(ledger, account, case_id)  # who asks comes before how the service is set up
    if account.id not in (view.case.owner_id, view.case.crawler_id):
        from ledger.errors import Forbidden

        raise Forbidden("only the work's rights holder or the case's crawler sends its notices")
    if not ledger.settings.takedown_webhook:
        raise Conflict("no_takedown_endpoint", "no takedown endpoint is configured (REELLEDGER_TAKEDOWN_WEBHOOK)")
    with session(ledger.engine) as db:
        notice = db.exec(
            select(TakedownNotice).where(TakedownNotice.case_id == case_id, TakedownNotice.format == notice_format)
        ).first()
        if notice is None:
            raise NotFound("notice", f"{notice_format} of case {case_id}")
        if notice.delivery != NoticeDelivery.delivered:
            notice.delivery, notice.next_attempt_at, notice.attempts = NoticeDelivery.sending, utcnow(), 0
            db.add(notice)
            db.commit()
        return notice
