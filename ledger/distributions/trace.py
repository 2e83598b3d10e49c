"""Tracing a copy found in the wild back to the distribution it was made for.

The copy is read under the watermark keys the caller may use: a rights holder's own key, or,
for crawlers and auditors, the key of every rights holder who has distributions (none before
the first distribution: the copy is then read as carrying no mark). A payload
that decodes names one distribution of that key's holder; its record is re-hashed and checked
against the chain, so the answer says whether the trace is anchored evidence.

Copies of several recipients averaged or cut together (collusion) often decode to no payload,
or to one colluder's. The ledger knows every payload each holder issued, so the reading's
soft values are also scored against all of them (`watermark.tracing.accuse`): a distribution
whose score reaches the threshold for that many candidates (`tracing.accusation_threshold`)
is named among the colluders. The threshold rises with the number of distributions tried, so
that the chance of naming any recipient whose copy is not in the mixture stays under 1e-6 a
trace (see `watermark.tracing`); the blind reading and its bound are as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, select

from ledger.chain.errors import ChainError
from ledger.db import must_get, session
from ledger.distributions import records
from ledger.distributions.copies import DistributionView, _view, anchored_hash
from ledger.distributions.screens import ScreenHint
from ledger.errors import Forbidden, InvalidInput
from ledger.models import Account, DistributionRecord, Role
from watermark.errors import WatermarkError
from watermark.files import FileDetection, marked_screen, media_kind
from watermark.tracing import accuse, read_file

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
class Colluder:
    """A distribution whose payload the copy carries in part: a copy mixed from several."""

    distribution: DistributionView
    score: float  # watermark.tracing's score; at least the threshold for the candidates tried


@dataclass(frozen=True)
class Trace:
    detection: FileDetection
    keys_tried: int
    distribution: DistributionView | None
    chain: OnChainCheck | None
    colluders: tuple[Colluder, ...] = ()  # besides `distribution`, strongest first


def trace_file(
    ledger: Ledger,
    account: Account,
    path: Path,
    *,
    max_seconds: float | None = DEFAULT_SECONDS,
    work_pk: int | None = None,
    screen: ScreenHint | None = None,
) -> Trace:
    """Read the copy's mark under every key the account may use. `work_pk`, when the copy is
    known to be that work's (it matched it), keeps the colluders sought among that work's
    copies: fewer candidates, a lower threshold for the same bound, nothing else loaded. A
    payload that decodes names its distribution whatever its work. `screen` says where the
    picture lies in a copy filmed off a screen, for when its outline is not found blind."""
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
        if not keys:  # nobody has distributed anything: no key has marked a copy, so none can be read
            return Trace(FileDetection(None, 0.0, 0.0, media_kind(path), 0, None), 0, None, None)
        where = marked_screen(path, screen.corners, screen.marked_size) if screen else None
        reading = read_file(path, keys, max_seconds=max_seconds, screen=where)
    except WatermarkError as exc:
        raise InvalidInput("file", str(exc)) from None
    found = reading.detection
    with session(ledger.engine) as db:
        issued = [_issued(db, owner, work_pk) for owner in owners]
        dist = None
        if found.payload is not None and found.key_index is not None:
            dist = db.exec(
                select(DistributionRecord).where(
                    DistributionRecord.owner_id == owners[found.key_index].id,
                    DistributionRecord.payload == found.payload,
                )
            ).first()
        view = _view(db, dist) if dist is not None else None
        colluders = tuple(
            Colluder(_view(db, issued[a.key_index][a.payload]), a.score)
            for a in accuse(reading.soft, [list(by_payload) for by_payload in issued])
            if dist is None or issued[a.key_index][a.payload].id != dist.id
        )
    return Trace(found, len(keys), view, _check(ledger, view) if view else None, colluders)


def _issued(db: Session, owner: Account, work_pk: int | None) -> dict[int, DistributionRecord]:
    """The owner's distributions by payload: the candidates for colluders (of one work if given)."""
    query = select(DistributionRecord).where(DistributionRecord.owner_id == owner.id)
    if work_pk is not None:
        query = query.where(DistributionRecord.work_pk == work_pk)
    return {d.payload: d for d in db.exec(query)}


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
