"""Matching a suspect copy to a registered work: frame hashes kept per work, one index over all.

A registration stores its work's frame hashes (`WorkFrames`) in the transaction that stores
the work (when the master was media, or its hashes were sent with a registration by hash).
The index is memory only, keyed by the `WorkFrames` row: it is rebuilt from those rows when
the service starts and, before every match, takes in any row it does not hold yet (added by
this process or another, whatever order they committed in). Rows of works that were removed
since (a registration the chain refused) stay in the index but are never answered: a match
is only accepted for a row that is still there, of a work whose registration did not fail.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from ledger.db import session
from ledger.errors import Forbidden, InvalidInput
from ledger.models import Account, ChainOp, Role, Work, WorkFrames
from ledger.works import op_status
from watermark.errors import WatermarkError
from watermark.frame_hashes import HASH_BYTES, QUERY_VARIANTS
from watermark.hash_sequence import HashSequence, query_sequence
from watermark.matcher import FrameIndex, Match, match

if TYPE_CHECKING:
    from ledger.service import Ledger

MATCH_ROLES = {Role.crawler, Role.rights_holder}
MAX_QUERY_SECONDS = 3600  # of a suspect video, hashed from its start; a longer copy is matched by its first hour
MAX_QUERY_FRAMES = 2 * MAX_QUERY_SECONDS + 1  # what a client may send (two frames a second)


class WorkMatcher:
    """The frame index of every registered work, kept in step with the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.index = FrameIndex()
        self._loaded: set[int] = set()  # WorkFrames ids taken in
        self._lock = threading.Lock()

    def refresh(self) -> int:
        """Take in the rows not taken in yet; returns how many."""
        with self._lock:
            with session(self.engine) as db:
                new = sorted(set(db.exec(select(WorkFrames.id)).all()) - self._loaded)
                for start in range(0, len(new), 200):
                    for row in db.exec(
                        select(WorkFrames).where(col(WorkFrames.id).in_(new[start : start + 200]))
                    ).all():
                        self._take(row)
            return len(new)

    def _take(self, row: WorkFrames) -> None:
        v = len(row.variants.split(","))
        times = np.frombuffer(row.times_ms, dtype="<i8").astype(np.int64)
        codes = np.frombuffer(row.hashes, dtype=np.uint8).reshape(-1, HASH_BYTES)
        if len(codes) == len(times) * v:  # as frames_row writes them; never let one bad row stop the rest
            self.index.add_codes(np.full(len(codes), row.id), np.repeat(times, v), codes)
        self._loaded.add(row.id)


@dataclass(frozen=True)
class MatchOutcome:
    query: HashSequence
    match: Match | None
    work: Work | None
    op: ChainOp | None


def match_sequence(matcher: WorkMatcher, account: Account, query: HashSequence) -> MatchOutcome:
    """The registered work `query` is a copy of, among the works this account may match against:
    every work for a crawler, a rights holder's own works for a rights holder."""
    if account.role not in MATCH_ROLES:
        raise Forbidden("only a crawler or a rights holder matches suspect copies")
    if query.variants != QUERY_VARIANTS:
        raise InvalidInput("frames", f"query frames carry the variants {', '.join(QUERY_VARIANTS)}")
    if len(query) > MAX_QUERY_FRAMES:
        raise InvalidInput("frames", f"a query holds at most {MAX_QUERY_FRAMES} frames; match an excerpt")
    matcher.refresh()
    with session(matcher.engine) as db:
        allowed = None
        if account.role == Role.rights_holder:
            mine = (
                select(col(WorkFrames.id))
                .join(Work, col(Work.id) == col(WorkFrames.work_pk))
                .where(col(Work.owner_id) == account.id)
            )
            allowed = set(db.exec(mine).all())
        chosen: dict[int, tuple[Work, ChainOp]] = {}

        def registered(frames_id: int) -> bool:
            """Whether the row is still there, of a work whose registration did not fail."""
            row = db.get(WorkFrames, frames_id)
            work = db.get(Work, row.work_pk) if row is not None else None
            op = db.get(ChainOp, work.op_id) if work is not None else None
            if work is None or op is None or op_status(op) == "failed":
                return False
            chosen[frames_id] = (work, op)
            return True

        found = match(matcher.index, query, allowed, accept=registered)
    if found is None:
        return MatchOutcome(query, None, None, None)
    work, op = chosen[found.work]
    return MatchOutcome(query, found, work, op)


def match_file(ledger: Ledger, account: Account, path: Path) -> MatchOutcome:
    """Hash a suspect file (image or video) and match it; a file that is not media is refused."""
    if account.role not in MATCH_ROLES:
        raise Forbidden("only a crawler or a rights holder matches suspect copies")
    try:
        query = query_sequence(path, seconds=MAX_QUERY_SECONDS)
    except WatermarkError as exc:
        raise InvalidInput("file", str(exc)) from None
    return match_sequence(ledger.matcher, account, query)


def parse_query(body: dict) -> HashSequence:
    """Query frame hashes a client computed (`reelledger match`)."""
    try:
        return HashSequence.from_json(body)
    except WatermarkError as exc:
        raise InvalidInput("frames", str(exc)) from None
