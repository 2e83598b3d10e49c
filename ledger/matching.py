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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import col, select

from ledger.db import session
from ledger.errors import Forbidden, InvalidInput
from ledger.models import Account, ChainOp, Role, Work, WorkFrames
from ledger.op_views import op_status
from watermark.errors import WatermarkError
from watermark.files import media_kind
from watermark.frame_hashes import HASH_BYTES, QUERY_VARIANTS
from watermark.hash_sequence import HashSequence, hash_video, query_sequence
from watermark.matcher import MIN_SHARE, STRONG_VOTES, FrameIndex, Match, match

if TYPE_CHECKING:
    from ledger.service import Ledger

MATCH_ROLES = {Role.crawler, Role.rights_holder}
MAX_QUERY_SECONDS = 3600  # of a suspect video, hashed from its start; a longer copy is matched by its first hour
MAX_QUERY_FRAMES = 2 * MAX_QUERY_SECONDS + 1  # what a client may send (two frames a second)
# Seconds of a suspect video hashed before each look at the matcher when a verdict is wanted
# fast (a crawled copy): most leaks are decided by their first seconds, and the last stage
# reads as much as a full read would, so a copy that needs it loses nothing. Each stage ends on
# a whole number of picture-in-picture blocks (frame_hashes.INSET_BLOCK frames at
# hash_sequence.RATE a second: 10 s), so a staged read hashes exactly what one read does.
STAGES = (20.0, 60.0, float(MAX_QUERY_SECONDS))


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
    whole: bool = True  # the query covers the copy (up to MAX_QUERY_SECONDS), not a first stretch of it


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


def match_file(ledger: Ledger, account: Account, path: Path, *, staged: bool = False) -> MatchOutcome:
    """Hash a suspect file (image or video) and match it; a file that is not media is refused.
    `staged`: hash a video in STAGES and stop at the first decisive match (`whole` then says
    whether the copy was read to its end); otherwise its first MAX_QUERY_SECONDS at once."""
    if account.role not in MATCH_ROLES:
        raise Forbidden("only a crawler or a rights holder matches suspect copies")
    try:
        if not staged:
            return match_sequence(ledger.matcher, account, query_sequence(path, seconds=MAX_QUERY_SECONDS))
        outcomes: list[MatchOutcome] = []

        def look(query: HashSequence) -> bool:
            outcomes.append(match_sequence(ledger.matcher, account, query))
            found = outcomes[-1].match
            return found is not None and decisive(query.kind, found.votes, found.frames)

        _, whole = staged_query(path, look)
    except WatermarkError as exc:
        raise InvalidInput("file", str(exc)) from None
    return replace(outcomes[-1], whole=whole)


def decisive(kind: str, votes: int, frames: int) -> bool:
    """Whether a match of `votes` agreeing frames out of `frames` read settles a copy read in
    part: a picture's match always does; a video's when the matcher's strong vote
    (STRONG_VOTES) and its share rule (MIN_SHARE of the frames read) both hold, so reading on
    could only add frames to a verdict that is a match by either rule already."""
    return kind == "image" or (votes >= STRONG_VOTES and votes >= MIN_SHARE * frames)


def staged_query(
    path: Path, look: Callable[[HashSequence], bool], stages: Sequence[float] = STAGES
) -> tuple[HashSequence, bool]:
    """Hash a suspect file stage by stage (a video's first stages[0] seconds, then on to
    stages[1], ...; every frame is hashed once) and show `look` the frames so far after each
    stage, until it says the evidence is decisive or the copy (or the last stage) ends.
    Returns the frames hashed and whether they reach the copy's end or the last stage; the
    frames of a read to the end are the ones a read in one go would hash."""
    path = Path(path)
    if media_kind(path) == "image":
        picture = query_sequence(path)
        look(picture)
        return picture, True
    query: HashSequence | None = None
    begun = 0.0
    for end in stages:
        try:
            part = hash_video(path, QUERY_VARIANTS, start=begun, seconds=end - begun)
        except WatermarkError:
            if query is None:
                raise
            return query, True  # the copy ended on the stage boundary
        query = part if query is None else _joined(query, part, begun)
        ended = part.duration < end - begun - 1.0  # the copy (or a damaged stretch) ended before the stage did
        if look(query) or ended:
            return query, ended or end == stages[-1]
        begun = end
    assert query is not None  # at least one stage ran
    return query, True


def _joined(first: HashSequence, then: HashSequence, at: float) -> HashSequence:
    """`then`, hashed from `at` seconds on, appended to `first`."""
    return HashSequence(
        first.kind,
        first.variants,
        np.concatenate([first.times_ms, then.times_ms]),
        np.concatenate([first.hashes, then.hashes]),
        at + then.duration,
        first.sampled + then.sampled,
    )


def parse_query(body: dict[str, Any]) -> HashSequence:
    """Query frame hashes a client computed (`reelledger match`)."""
    try:
        return HashSequence.from_json(body)
    except WatermarkError as exc:
        raise InvalidInput("frames", str(exc)) from None
