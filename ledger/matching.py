"""Matching a suspect copy to a registered work: frame hashes kept per work, one index over all.

A registration stores its work's frame hashes (`WorkFrames`) in the transaction that stores
the work (when the master was media, or its hashes were sent with a registration by hash).
The index is memory only, keyed by the `WorkFrames` row: it is rebuilt from those rows when
the service starts and, before every match, takes in any row it does not hold yet (added by
this process or another, whatever order they committed in). Rows of works that were removed
since (a registration the chain refused) stay in the index but are never answered: a match
is only accepted for a row that is still there, of a work whose registration did not fail.

Derivatives. A derivative made of another work's footage (a re-edit, a trailer, a compilation)
is registered with its own frames, so a copy of it matches both works. The copy is the
derivative's when it agrees with the derivative at least about as well as with its ancestor
(`_shows_derivative`): a re-edit's copy agrees with the re-edit throughout and with the parent
only where the parent's frames are used, while a copy of the parent agrees with the parent on
more. The outcome then names the derivative as the work and the ancestor it matched as its
source under the licence between them (`DerivedFrom`), so a licensed re-edit is never taken
for a copy of its parent. Only confirmed derivative edges count.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine
from sqlmodel import col, select

from ledger.db import session
from ledger.derivative_views import confirmed_ancestors
from ledger.errors import Forbidden, InvalidInput
from ledger.models import Account, ChainOp, LicenceRecord, Role, Work, WorkFrames, WorkParent
from ledger.op_views import op_status
from watermark.errors import WatermarkError
from watermark.files import media_kind
from watermark.frame_hashes import HASH_BYTES, QUERY_VARIANTS
from watermark.hash_sequence import RATE, HashSequence, hash_video, keyframes, query_sequence
from watermark.matcher import MIN_SHARE, STRONG_VOTES, FrameIndex, Match, matches

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
# Key-led reading (see `staged_query`): frames up to this long after each keyframe are decoded
# and hashed first. Measured at 720p (benchmarks/match.py): 90x and 113x real time against 35x
# and 32x for the regular read of the same files.
KEY_SECONDS = 1.0
RELATED_MATCHES = 8  # works a copy is matched to at most, best first, when looking for a derivative among them
# A copy is a derivative's rather than its ancestor's when at least this share of the frames that
# agree with the ancestor agree with the derivative too (the rest: frame hashes that miss by a bit).
DERIVATIVE_SHARE = 0.9


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
class DerivedFrom:
    """The matched work is a derivative that shows `parent`'s footage, licensed by `licence`
    (granted by the parent's owner on the edge `edge`, whose parent is `parent`)."""

    parent: Work
    match: Match  # how the copy matched the parent
    edge: WorkParent
    licence: LicenceRecord


@dataclass(frozen=True)
class MatchOutcome:
    query: HashSequence
    match: Match | None
    work: Work | None
    op: ChainOp | None
    whole: bool = True  # the query covers the copy (up to MAX_QUERY_SECONDS), not a first stretch of it
    derived_from: DerivedFrom | None = None  # the work is a derivative whose ancestor the copy matched too


def match_sequence(matcher: WorkMatcher, account: Account, query: HashSequence) -> MatchOutcome:
    """The registered work `query` is a copy of, among the works this account may match against:
    every work for a crawler, a rights holder's own works for a rights holder. A copy of a
    derivative names the derivative and the ancestor it shows (see the module's docstring)."""
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

        found = list(islice(matches(matcher.index, query, allowed, accept=registered), RELATED_MATCHES))
        if not found:
            return MatchOutcome(query, None, None, None)
        by_work = {chosen[m.work][0].id: m for m in reversed(found)}  # a work's best frames row wins
        lines = {pk: confirmed_ancestors(db, pk) for pk in by_work} if len(by_work) > 1 else {}
        best = found[0]
        pick = chosen[best.work][0].id
        for m in found[1:]:
            pk = chosen[m.work][0].id
            if any(edge.parent_pk == pick for edge, _ in lines.get(pk, [])) and _shows_derivative(
                query.kind, by_work[pk], by_work[pick]
            ):
                pick = pk
        derived = next(
            (
                DerivedFrom(chosen[by_work[edge.parent_pk].work][0], by_work[edge.parent_pk], edge, licence)
                for edge, licence in lines.get(pick, [])
                if edge.parent_pk in by_work
            ),
            None,
        )
    work, op = chosen[by_work[pick].work]
    return MatchOutcome(query, by_work[pick], work, op, derived_from=derived)


def _shows_derivative(kind: str, derivative: Match, ancestor: Match) -> bool:
    """Whether a copy that matches both a derivative and its ancestor is the derivative's: a
    picture is the one its hash is nearer to (the derivative on a tie); a video's frames agree
    with the derivative nearly as often as with the ancestor (DERIVATIVE_SHARE)."""
    if kind == "image":
        return derivative.distance <= ancestor.distance
    return derivative.votes >= DERIVATIVE_SHARE * ancestor.votes


def match_file(ledger: Ledger, account: Account, path: Path, *, staged: bool = False) -> MatchOutcome:
    """Hash a suspect file (image or video) and match it; a file that is not media is refused.
    `staged`: hash a video in STAGES and stop at the first decisive match (`whole` then says
    whether the copy was read to its end); otherwise its first MAX_QUERY_SECONDS in one stage.
    Either way each stage is read key-led first (see `staged_query`)."""
    if account.role not in MATCH_ROLES:
        raise Forbidden("only a crawler or a rights holder matches suspect copies")
    outcomes: list[MatchOutcome] = []

    def look(query: HashSequence) -> bool:
        outcomes.append(match_sequence(ledger.matcher, account, query))
        found = outcomes[-1].match
        return found is not None and decisive(query.kind, found.votes, found.frames)

    try:
        _, whole = staged_query(path, look, STAGES if staged else (float(MAX_QUERY_SECONDS),))
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
    path: Path,
    look: Callable[[HashSequence], bool],
    stages: Sequence[float] = STAGES,
    key_seconds: float | None = KEY_SECONDS,
    reads: list[str] | None = None,
) -> tuple[HashSequence, bool]:
    """Hash a suspect file stage by stage (a video's first stages[0] seconds, then on to
    stages[1], ...) and show `look` the frames so far after each stage, until it says the
    evidence is decisive or the copy (or the last stage) ends. Returns the frames hashed and
    whether they reach the copy's end or the last stage.

    Each stage of a video is read key-led first (only the first `key_seconds` after each
    keyframe decoded, `hash_video`): 2.5 to 3.5 times as fast as the regular read at 720p
    (measured), and decisive for a copy with a keyframe every few seconds (about
    key_seconds x RATE frames a keyframe; STRONG_VOTES of them must agree). A stage with too
    few keyframes for that (counted from the packets, nothing decoded) is not read key-led
    at all, so a short copy does not pay for two reads.
    Only when that is not decisive is the stage hashed the regular way (2 frames a second
    throughout) and looked at again, so nothing is lost: a copy whose keyframes are far apart
    (measured: a picture-in-picture copy with one every 10 s was matched by 0 of 2 key-led
    reads), whose inset needs a block of steady frames to be found, or that is short gets the
    regular read's verdict, at the cost of both reads. Earlier stages' frames are the
    regular ones; with `key_seconds` None, or when every stage falls back, the frames are
    the ones a read in one go would hash. `reads`, if given, gets "key-led" or "regular" for
    each look, in order: how the frames it was shown last were read."""
    path = Path(path)
    said = reads if reads is not None else []
    if media_kind(path) == "image":
        picture = query_sequence(path)
        look(picture)
        return picture, True
    query: HashSequence | None = None
    begun = 0.0
    for end in stages:
        last = end == stages[-1]
        if key_seconds is not None and keyframes(path, begun, end - begun) * key_seconds * RATE >= STRONG_VOTES:
            keyed = _key_led_stage(path, begun, end, key_seconds)
            if keyed is not None and len(keyed):
                so_far = keyed if query is None else _joined(query, keyed, begun)
                said.append("key-led")
                if look(so_far):
                    return so_far, last or keyed.duration < end - begun - 1.0
        try:
            part = hash_video(path, QUERY_VARIANTS, start=begun, seconds=end - begun)
        except WatermarkError:
            if query is None:
                raise
            return query, True  # the copy ended on the stage boundary
        query = part if query is None else _joined(query, part, begun)
        ended = part.duration < end - begun - 1.0  # the copy (or a damaged stretch) ended before the stage did
        said.append("regular")
        if look(query) or ended:
            return query, ended or last
        begun = end
    assert query is not None  # at least one stage ran
    return query, True


def _key_led_stage(path: Path, begun: float, end: float, key_seconds: float) -> HashSequence | None:
    """The key-led frames of one stage, or None where there are none to read (the regular
    read that follows says why)."""
    try:
        return hash_video(path, QUERY_VARIANTS, start=begun, seconds=end - begun, key_seconds=key_seconds)
    except WatermarkError:
        return None


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
