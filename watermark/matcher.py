"""Which registered work a suspect picture or clip is, and where in it: index and temporal voting.

The index holds every registered frame hash (each variant of each usable frame) with the
work and the time it belongs to. Every hash is kept in faiss's flat binary index, whose
range search is an exact full scan (fast: popcounts over packed codes). Once there are
IVF_MIN hashes, a faiss inverted-file index (IndexBinaryIVF) is trained over them and a
search reads only the inverted lists nearest each query hash (IVF_PROBE_SHARE of them):
no longer exact, and its recall and speed against the full scan are measured by
benchmarks/match_index.py. It is trained again, beside the searches, when the hashes have
grown IVF_REGROW-fold. faiss's multi-index hash (exact by pigeonhole) was measured too: at
a radius of 10 of 64 bits it was slower than the full scan. `exact=True` never leaves the
full scan: the reference the tests and the benchmark hold the index to. Each query hash
takes at most MAX_HITS nearest stored hashes within RADIUS (a still scene held for an hour
would otherwise answer one query hash with thousands of identical frames).

A frame hash on its own can meet an unrelated frame; a copy's frames, though, meet its
work's frames at one steady time offset. Each hit votes for (work, offset) at each of a
few playback speeds (a copy sped up 5 % drifts half a second over ten), and the answer is
the (work, speed, offset) with the most query frames agreeing within OFFSET_TOLERANCE.
It is a match only when enough of the query's frames agree (MIN_VOTES, MIN_SHARE, STRONG_VOTES),
chosen by measurement so that unrelated footage never gets there (benchmarks/match.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import faiss
import numpy as np

from watermark.frame_hashes import HASH_BYTES
from watermark.hash_sequence import HashSequence

BITS = HASH_BYTES * 8
RADIUS = 10  # bits: a frame hash this close to a stored one is a hit
IVF_MIN = 250_000  # hashes from which the inverted-file index takes over from the full scan
IVF_REGROW = 4  # ... and is trained again each time the hashes have grown this much
IVF_PROBE_SHARE = 1 / 64  # share of the inverted lists each query hash reads (chosen by benchmarks/match_index.py)
MAX_HITS = 256  # nearest stored hashes a query hash may take
SEARCH_BATCH = 64  # query hashes per range search
SPEEDS = (1 / 1.1, 1 / 1.05, 1 / 1.025, 1.0, 1.025, 1.05, 1.1)  # playback speeds voted over
OFFSET_TOLERANCE = 0.75  # seconds: hits within this of one another agree on an offset
FIT_SPAN = 4.0  # seconds of agreeing query frames from which speed and offset are fitted
MIN_VOTES = 3  # query frames that must agree for a video match ...
MIN_SHARE = 0.25  # ... and this share of the query's usable frames ...
STRONG_VOTES = 12  # ... unless this many agree (six seconds of a long copy that is mostly something else)
IMAGE_RADIUS = 8  # a single picture has no temporal vote to lean on: a closer hit is needed


@dataclass(frozen=True)
class Match:
    work: int  # the caller's key for the work
    offset: float  # seconds into the work where the query's first frame shows
    duration: float  # seconds of the query that agree with the work
    speed: float  # the query's playback speed relative to the work
    votes: int  # query frames that agree
    frames: int  # usable query frames
    distance: float  # mean bits apart over agreeing frames

    @property
    def confidence(self) -> float:
        """Agreeing share of the query's frames, tempered by how close their hashes are."""
        return round(self.votes / max(1, self.frames) * (1 - self.distance / (2 * RADIUS + 2)), 4)


class FrameIndex:
    """Registered frame hashes of many works. Thread-safe: additions and searches take turns;
    training the inverted file runs beside both, on a snapshot, and is swapped in after."""

    def __init__(self, *, exact: bool = False) -> None:
        self.exact = exact
        self._flat = faiss.IndexBinaryFlat(BITS)  # every hash by id: the full scan, and what the IVF learns from
        self._ivf: faiss.IndexBinaryIVF | None = None
        self._quantizer: faiss.IndexBinaryFlat | None = None
        self._training = False
        self._ivf_trained_on = 0
        self._works = np.zeros(0, dtype=np.int64)
        self._times = np.zeros(0, dtype=np.int64)
        self._added: list[tuple[np.ndarray, np.ndarray]] = []  # joined to the columns at the next search
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return int(self._flat.ntotal)

    @property
    def kind(self) -> str:
        return "ivf" if self._ivf is not None else "flat"

    def add(self, work: int, sequence: HashSequence) -> None:
        """Every variant of every frame of `sequence`, as frames of `work` at their times."""
        n, v = sequence.hashes.shape[:2]
        if n == 0:
            return
        codes = np.ascontiguousarray(sequence.hashes.reshape(n * v, HASH_BYTES))
        self.add_codes(np.full(n * v, work, dtype=np.int64), np.repeat(sequence.times_ms, v), codes)

    def add_codes(self, works: np.ndarray, times_ms: np.ndarray, codes: np.ndarray) -> None:
        codes = np.ascontiguousarray(codes, dtype=np.uint8)
        with self._lock:
            self._flat.add(codes)
            if self._ivf is not None:
                self._ivf.add(codes)  # ids stay in step: both number hashes in the order added
            self._added.append((works.astype(np.int64), times_ms.astype(np.int64)))

    def prepare(self) -> None:
        """Train the inverted-file index if it is due (the first search after growth starts it
        too, and carries on with the full scan meanwhile); returns when it is in place."""
        with self._lock:
            n = len(self)
            if not self._training_due():
                return
            self._training = True
            codes = self._flat.reconstruct_n(0, n)
        try:
            ivf, quantizer = _train(codes)
            with self._lock:
                if len(self) > n:  # added while training: same order, same ids
                    ivf.add(self._flat.reconstruct_n(n, len(self) - n))
                self._ivf, self._quantizer, self._ivf_trained_on = ivf, quantizer, n
        finally:
            self._training = False

    def _training_due(self) -> bool:
        n = len(self)
        return not self.exact and not self._training and n >= IVF_MIN and n >= IVF_REGROW * self._ivf_trained_on

    def _columns(self) -> tuple[np.ndarray, np.ndarray]:
        """The work and time of every stored hash, by faiss id (copied once per batch of additions)."""
        if self._added:
            self._works = np.concatenate([self._works, *(w for w, _ in self._added)])
            self._times = np.concatenate([self._times, *(t for _, t in self._added)])
            self._added.clear()
        return self._works, self._times

    def search(self, codes: np.ndarray, radius: int = RADIUS) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Stored hashes within `radius` bits (inclusive) of each code, at most MAX_HITS of the
        nearest per code: (query row, work, time_ms, bits)."""
        codes = np.ascontiguousarray(codes, dtype=np.uint8).reshape(-1, HASH_BYTES)
        if self._training_due():
            threading.Thread(target=self.prepare, name="match-index-training", daemon=True).start()
        parts = []
        with self._lock:
            if len(self) == 0 or len(codes) == 0:
                empty = np.zeros(0, dtype=np.int64)
                return empty, empty, empty, empty
            index = self._ivf if self._ivf is not None else self._flat
            for start in range(0, len(codes), SEARCH_BATCH):  # bounds what one batch's hits can take
                limits, distances, ids = index.range_search(
                    codes[start : start + SEARCH_BATCH], radius + 1
                )  # d < r + 1
                parts.append(_nearest_per_row(limits.astype(np.int64), distances, ids, start))
            all_works, all_times = self._columns()
        rows, distances, ids = (np.concatenate(column) for column in zip(*parts, strict=True))
        return rows, all_works[ids], all_times[ids], distances.astype(np.int64)


def _nearest_per_row(
    limits: np.ndarray, distances: np.ndarray, ids: np.ndarray, first_row: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A range search's results as (row, distance, id), at most MAX_HITS nearest per row."""
    rows = np.repeat(np.arange(len(limits) - 1), np.diff(limits))
    if len(rows) and np.diff(limits).max() > MAX_HITS:
        order = np.lexsort((distances, rows))
        rank = np.arange(len(rows)) - limits[rows[order]]  # position within its row, nearest first
        keep = order[rank < MAX_HITS]
        rows, distances, ids = rows[keep], distances[keep], ids[keep]
    return rows + first_row, distances, ids


def _train(codes: np.ndarray) -> tuple[faiss.IndexBinaryIVF, faiss.IndexBinaryFlat]:
    """An inverted file over `codes`: about 4 sqrt(n) lists (a power of two; 4096 at 1M
    hashes, 16384 at 10M), trained on 40 codes per list."""
    n = len(codes)
    nlist = 1 << max(10, round(np.log2(4 * np.sqrt(n))))
    sample = codes[np.random.default_rng(0).choice(n, min(n, 40 * nlist), replace=False)]
    quantizer = faiss.IndexBinaryFlat(BITS)  # kept beside the IVF, which only borrows it
    ivf = faiss.IndexBinaryIVF(quantizer, BITS, nlist)
    ivf.train(sample)
    ivf.add(codes)
    ivf.nprobe = max(1, int(nlist * IVF_PROBE_SHARE))
    return ivf, quantizer


def match(
    index: FrameIndex,
    query: HashSequence,
    allowed: set[int] | None = None,
    accept: Callable[[int], bool] | None = None,
) -> Match | None:
    """The (work, offset) the query is a copy of, or None. `allowed` limits the works
    considered; `accept` is asked about each candidate, best first, and may turn it down
    (a work since removed, say), so that the next best still gets its chance."""
    return next(matches(index, query, allowed, accept), None)


def matches(
    index: FrameIndex,
    query: HashSequence,
    allowed: set[int] | None = None,
    accept: Callable[[int], bool] | None = None,
) -> Iterator[Match]:
    """Every work the query is a copy of, best first (`match`'s answer, then the works it
    also matches: footage one work takes from another matches both)."""
    for found in candidates(index, query, allowed):
        if not _enough(query, found):
            return  # the rest agree even less
        if accept is None or accept(found.work):
            yield found


def best_candidate(index: FrameIndex, query: HashSequence, allowed: set[int] | None = None) -> Match | None:
    """The best-voted (work, speed, offset) whether or not it is enough for a match: the
    benchmark reads from it how far unrelated footage stays below the thresholds."""
    return next(iter(candidates(index, query, allowed)), None)


def _enough(query: HashSequence, m: Match) -> bool:
    if query.kind == "image":
        return True
    return m.votes >= MIN_VOTES and (m.votes >= MIN_SHARE * m.frames or m.votes >= STRONG_VOTES)


def candidates(index: FrameIndex, query: HashSequence, allowed: set[int] | None = None) -> list[Match]:
    """One candidate per work some query frames hit, best first: for a video, the (speed,
    offset) most of its frames agree on; for a picture, its closest frame."""
    n, v = query.hashes.shape[:2]
    if n == 0:
        return []
    image = query.kind == "image"
    rows, works, times, bits = index.search(query.hashes.reshape(n * v, HASH_BYTES), IMAGE_RADIUS if image else RADIUS)
    frames = rows // v
    if allowed is not None:
        keep = np.isin(works, list(allowed))
        frames, works, times, bits = frames[keep], works[keep], times[keep], bits[keep]
    if len(frames) == 0:
        return []
    if image:
        order = np.lexsort((times, bits))
        _, first = np.unique(works[order], return_index=True)
        best = order[first]
        found = [Match(int(works[i]), float(times[i] / 1000), 0.0, 1.0, 1, n, float(bits[i])) for i in best]
        return sorted(found, key=lambda m: (m.distance, m.work))
    query_t = query.times_ms[frames] / 1000
    ids, reach = np.unique(np.unique(works * n + frames) // n, return_counts=True)
    found = []
    for work, frames_hit in zip(ids.tolist(), reach.tolist(), strict=True):
        if frames_hit < 2:
            continue  # one frame cannot agree with anything
        mine = works == work
        votes = [_vote(work, speed, query_t[mine], times[mine] / 1000, frames[mine], bits[mine], n) for speed in SPEEDS]
        found.append(max((m for m in votes if m is not None), key=_rank))
    return sorted(found, key=_rank, reverse=True)


def _rank(m: Match) -> tuple[int, float, float]:
    """More agreeing frames first; on a tie, the speed nearer 1 (as most copies play), then closer hashes."""
    return (m.votes, -abs(np.log(m.speed)), -m.distance)


def _vote(
    work: int,
    speed: float,
    query_t: np.ndarray,
    work_t: np.ndarray,
    frames: np.ndarray,
    bits: np.ndarray,
    n: int,
) -> Match | None:
    """The offset most query frames agree on at this speed: distinct query frames are counted
    in bins of half the tolerance, a window of four bins slides over them, and the windows
    are counted exactly (a frame that falls in two bins of one window counts once) from the
    largest upward bound down, until no bound is above the best count."""
    offsets = work_t - speed * query_t  # where the query's time 0 falls in the work
    width = OFFSET_TOLERANCE / 2
    bins = np.floor(offsets / width).astype(np.int64)
    used, per_bin = np.unique(np.unique(bins * n + frames) // n, return_counts=True)
    upto = np.concatenate([[0], np.cumsum(per_bin)])
    window = upto[np.searchsorted(used, used + 3, side="right")] - upto[:-1]  # an upper bound per window
    best_votes, best_sel = 0, None
    for i in np.argsort(-window, kind="stable"):
        if window[i] <= best_votes:
            break  # no window further down can hold more
        sel = (bins >= used[i]) & (bins <= used[i] + 3)
        votes = len(np.unique(frames[sel]))
        if votes > best_votes:
            best_votes, best_sel = votes, sel
    if best_sel is None:
        return None
    offsets, frames, bits, query_t = offsets[best_sel], frames[best_sel], bits[best_sel], query_t[best_sel]
    # One hit per query frame: its closest, and of equally close ones (a still shot's frames
    # all look alike) the one nearest the window's middle; the offset is their median.
    order = np.lexsort((np.abs(offsets - np.median(offsets)), bits, frames))
    _, first = np.unique(frames[order], return_index=True)
    picks = order[first]
    t = query_t[picks]
    offset = float(np.median(offsets[picks]))
    if len(picks) >= MIN_VOTES and t.max() - t.min() >= FIT_SPAN:
        # The window only bounds the speed; the agreeing frames' own line fixes it.
        fitted, intercept = np.polyfit(t, offsets[picks] + speed * t, 1)
        if SPEEDS[0] <= fitted <= SPEEDS[-1]:
            speed, offset = float(fitted), float(intercept)
    return Match(
        work=work,
        offset=round(offset, 3),
        duration=round(float(t.max() - t.min()), 3),
        speed=round(speed, 4),
        votes=len(picks),
        frames=n,
        distance=round(float(bits[picks].mean()), 2),
    )
