"""Telling the rights holder a counter-notice was filed: a `counter_notice` event POSTed to the
takedown webhook by the delivery thread, retried with back-off like the notices themselves,
under the Idempotency-Key `counter-notice-{id}` so that a receiver drops a repeat."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING

import httpx
from sqlmodel import col, select

from ledger.db import must_get, session
from ledger.models import Account, CounterNotice, NoticeDelivery, PiracyCase, Work, utcnow
from ledger.piracy.delivery import BATCH, after_attempt, post

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("reelledger.piracy")


def payload_of(notice: CounterNotice, case: PiracyCase, work: Work, owner: Account) -> bytes:
    return json.dumps(
        {
            "event": "counter_notice",
            "counter_notice": {
                "id": notice.id,
                "document_hash": notice.document_hash,
                "document": notice.document,
                "filed_at": notice.filed_at.isoformat(),
                "restoration_due_at": notice.restoration_due_at.isoformat(),
            },
            "case": {"id": case.id, "url": case.url, "work_id": work.work_id, "evidence_hash": case.evidence_hash},
            "rights_holder": {"name": owner.name, "address": owner.address},
        },
        ensure_ascii=False,
        sort_keys=True,
    ).encode()


def notify_due(ledger: Ledger, client: httpx.Client, webhook: str) -> int:
    """Post every counter-notice event whose attempt is due; returns how many were delivered."""
    with session(ledger.engine) as db:
        due = db.exec(
            select(CounterNotice)
            .where(CounterNotice.notify == NoticeDelivery.sending, col(CounterNotice.notify_next_at) <= utcnow())
            .order_by(col(CounterNotice.notify_next_at))
            .limit(BATCH)
        ).all()
        jobs = []
        for notice in due:
            case = must_get(db, PiracyCase, notice.case_id)
            jobs.append((notice, case, must_get(db, Work, case.work_pk), must_get(db, Account, case.owner_id)))
    delivered = 0
    for notice, case, work, owner in jobs:
        _, error = post(ledger, client, webhook, payload_of(notice, case, work, owner), f"counter-notice-{notice.id}")
        with session(ledger.engine) as db:
            row = db.get(CounterNotice, notice.id)
            if row is None or row.notify != NoticeDelivery.sending:
                continue
            row.notify_attempts += 1
            row.notify_error = error
            row.notify, row.notify_next_at = after_attempt(ledger, row.notify_attempts, error)
            if row.notify == NoticeDelivery.delivered:
                row.notified_at = utcnow()
                delivered += 1
            elif row.notify == NoticeDelivery.failed:
                log.warning("counter-notice %s of case %s was not notified: %s", row.id, row.case_id, error)
            db.add(row)
            db.commit()
    return delivered
