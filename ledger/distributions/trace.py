"""Tracing a copy found in the wild back to the distribution it was made for.

The copy is read under the watermark keys the caller may use: a rights holder's own key, or,
for crawlers and auditors, the key of every rights holder who has distributions. A payload
that decodes names one distribution of that key's holder; its record is re-hashed and checked
against the chain, so the answer says whether the trace is anchored evidence.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import select

from ledger.chain.errors import ChainError
from ledger.db import must_get, session
from ledger.distributions import records
from ledger.distributions.copies import DistributionView, _view, anchored_hash
from ledger.errors import Forbidden, InvalidInput
from ledger.models import Account, DistributionRecord, Role
from watermark.errors import WatermarkError
from watermark.files import FileDetection, detect_file

if TYPE_CHECKING:
    from ledger.service import Ledger

TRACE_ROLES = {Role.rights_holder, Role.crawler, Role.auditor, Role.admin}
DEFAULT_SECONDS = 60.0  # of video read by default: a trace needs seconds, not the whole film


@dataclass(frozen=True)
class OnChainCheck:
    anchored: bool
    record_hash_matches: bool
    anchored_at: int | None


@dataclass(frozen=True)
class Trace:
    detection: FileDetection
    keys_tried: int
    distribution: DistributionView | None
    chain: OnChainCheck | None


def trace_file(ledger: Ledger, account: Account, path: Path, *, max_seconds: float | None = DEFAULT_SECONDS) -> Trace:
    if account.role not in TRACE_ROLES:
        raise Forbidden("tracing copies needs the role rights_holder, crawler, auditor or admin")
    if max_seconds is not None and not 0 < max_seconds <= 3600:
        raise InvalidInput("seconds", "seconds is between 0 and 3600")
    with session(ledger.engine) as db:
        if account.role == Role.rights_holder:
            owners = [account]
        else:
            ids = db.exec(select(DistributionRecord.owner_id).distinct()).all()
            owners = [must_get(db, Account, i) for i in sorted(ids)]
    keys = [ledger.watermark_keys.key_for(o.address) for o in owners]
    try:
        found = detect_file(path, keys, max_seconds=max_seconds)
    except WatermarkError as exc:
        raise InvalidInput("file", str(exc)) from None
    if found.payload is None or found.key_index is None:
        return Trace(found, len(keys), None, None)
    owner = owners[found.key_index]
    with session(ledger.engine) as db:
        dist = db.exec(
            select(DistributionRecord).where(
                DistributionRecord.payload == found.payload, DistributionRecord.owner_id == owner.id
            )
        ).first()
        view = _view(db, dist) if dist is not None else None
    return Trace(found, len(keys), view, _check(ledger, view) if view else None)


def _check(ledger: Ledger, view: DistributionView) -> OnChainCheck | None:
    if view.dist.record is None:
        return OnChainCheck(False, False, None)
    try:
        on_chain, at = anchored_hash(ledger, view.work.work_id, view.dist.payload)
    except (ChainError, OSError):
        return None  # the chain does not answer: the trace stands, its check waits
    anchored = on_chain != b"\0" * 32
    matches = anchored and on_chain == records.record_hash(view.dist.record)
    return OnChainCheck(anchored, matches, at if anchored else None)
