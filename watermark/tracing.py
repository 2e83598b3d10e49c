"""Informed detection: which of the payloads a key's holder issued does a copy carry, even
when no single payload decodes (collusion).

Why
    Copies of one work carry different payloads under the same key. Averaged frame by
    frame, or cut together segment by segment, they keep the sync pattern (the same in
    every copy) but their message cells mix: each coded bit's soft value becomes roughly
    the mean of the colluders' symbols, and blind Viterbi decoding finds one colluder's
    codeword or none (CRC fails). The distributor, though, knows every payload it issued.
    Correlating the soft values with the codeword of each issued payload finds every
    colluder whose share of the mixture is large enough: for n equal shares, each
    colluder keeps about 1/n of the single-copy correlation. This costs no payload bits
    and no strength; the mark and its blind reading are unchanged.

Score
    `scores(soft, [p])` = <soft, symbols(p)> / |soft|: the soft values (one per coded bit,
    CODED_BITS of them) projected on the unit vector of the soft values, against the
    codeword's +/-1 symbols. It does not depend on the soft values' scale, so it holds
    whatever the mark's strength, the number of frames summed or the colluders' signal.

Naming, one at a time
    `accuse` names the best-scoring candidate if it reaches ACCUSE_SCORE, projects its
    codeword out of the soft values (and out of every other codeword), and scores the rest
    again on what is left, normalised by what is left of each codeword and by the noise
    that remains, until none reaches the threshold. The first round is exactly `score`.
    Without the projection, a recipient whose codeword shares a stretch with a colluder's
    (payloads close together: the convolutional code maps a common prefix to common coded
    bits) would share part of that colluder's score; with it, once the colluders are named
    what is left is noise, and an innocent's score is that noise projected on a unit vector.

False accusations
    For a recipient whose copy is not in the mixture, its codeword is unrelated to the soft
    values. If its CODED_BITS symbols were independent fair signs, Hoeffding's inequality
    would bound P(score >= t) <= exp(-t**2 / 2) for any soft values. The code's symbols are
    not independent, so the null was measured (benchmarks/collusion.py, 72 colluded 720p
    excerpts of three sources): 144,000 scores of never-issued random payloads on colluded
    reads had a standard deviation of 1.026 and a largest value of 4.65 (what a Gaussian of
    that spread gives for that many draws); innocent recipients on the same reads 0.76, on
    unmarked and foreign-keyed reads 0.98. With ACCUSE_SCORE = 6.0 the probability of naming
    one given innocent in one reading is exp(-18) = 1.5e-8 under Hoeffding, and
    P(Z >= 6.0 / 1.1) = 2.5e-8 for a Gaussian null of standard deviation up to 1.1: so
    at most 1e-6 per trace for up to 40 candidates. A catalogue issues far more copies, and
    each candidate is one more chance of a false accusation, so the threshold rises with
    their number (`accusation_threshold`, a union bound over the candidates under that
    Gaussian): the chance of naming any innocent in one trace stays under
    FALSE_ACCUSATION = 1e-6 whatever N is, at a score of 6.6 for a thousand candidates,
    7.1 for twenty thousand, 7.7 for a million. The bound assumes payloads drawn at
    random, as the ledger draws them; the projection keeps payloads that happen to be close
    (the tests' 0xA11CE, 0xB0B, 0xC4A5E) from being named with a colluder.

Limits
    A colluder's share must carry the score over ACCUSE_SCORE: with n equal shares its
    score is about sqrt(CODED_BITS) * (a / n) / sqrt(1 + a**2 / n), a being the per-bit
    signal-to-noise of a single copy's reading (16 for a = inf, n = 1; 9.3 for n = 3), so
    three colluders can be named among a million candidates (7.7) only from a strong
    reading; weak readings (heavy attacks on top of collusion) fall below it and name nobody.
    Before that, the reading needs its lattice and sync: mixing keeps the sync pattern but
    leaves the tiled pattern about 60 % (two copies) or 47 % (three) of its energy, so on
    flat, heavily compressed footage the mixture may read as no mark at all where a single
    copy reads (bigbuckbunny at CRF 30: 4 of 12 trials named a colluder; photo and
    synthetic footage 24 of 24; docs/collusion-benchmark.md). Segments of a cut-together
    copy could then be read one by one (`read_file`'s start and max_seconds); not done.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist

import numpy as np

from watermark import image
from watermark import payload as framing
from watermark.errors import WatermarkError
from watermark.files import FileDetection, Progress, detect_file
from watermark.perspective import Screen

ACCUSE_SCORE = 6.0  # the least score that names a recipient (the threshold up to ~40 candidates)
NULL_SPREAD = 1.1  # standard deviation of an innocent's score, at most (measured: 1.026)
FALSE_ACCUSATION = 1e-6  # chance per trace of naming any innocent, whatever the number of candidates


@dataclass(frozen=True)
class Accusation:
    payload: int
    key_index: int  # which of the keys its payload was issued under
    score: float  # see `accuse`: the threshold for the number of candidates, ACCUSE_SCORE or more


@dataclass(frozen=True)
class Reading:
    """A file's watermark read under each key: the blind detection and, per key, the soft
    values (one per coded bit) and the sync strength."""

    detection: FileDetection
    soft: list[np.ndarray]
    sync: list[float]


def _check_soft(soft: np.ndarray) -> np.ndarray:
    soft = np.asarray(soft, dtype=np.float64)
    if soft.shape != (framing.CODED_BITS,):
        raise WatermarkError(f"expected {framing.CODED_BITS} soft values, got shape {soft.shape}")
    return soft


def scores(soft: np.ndarray, payloads: Sequence[int]) -> np.ndarray:
    """The score of each payload in the soft values (see the module's docstring)."""
    soft = _check_soft(soft)
    norm = float(np.linalg.norm(soft))
    if not payloads or norm == 0:
        return np.zeros(len(payloads))
    codewords = np.stack([framing.symbols(p) for p in payloads])
    result: np.ndarray = codewords @ soft / norm
    return result


def accusation_threshold(candidates: int) -> float:
    """The score that keeps the chance of naming any of `candidates` innocents in one trace
    under FALSE_ACCUSATION: each is a chance of a false accusation (a union bound), under a
    Gaussian null of spread NULL_SPREAD; never under ACCUSE_SCORE."""
    if candidates <= 0:
        return ACCUSE_SCORE
    return max(ACCUSE_SCORE, -NULL_SPREAD * NormalDist().inv_cdf(FALSE_ACCUSATION / candidates))


def accuse(
    soft: Sequence[np.ndarray], candidates: Sequence[Sequence[int]], threshold: float | None = None
) -> list[Accusation]:
    """The candidates found in the soft values, strongest first: `soft[k]` read under key k,
    `candidates[k]` the payloads issued under key k. Under each key the best-scoring
    candidate is named if its score reaches `threshold` (by default the one the number of
    candidates under all the keys needs: `accusation_threshold`); then its codeword is projected
    out of the soft values (and of the other codewords), and the others are scored again on
    what is left, normalised by what is left of their codeword and the noise that remains,
    until none reaches `threshold`. Without the projection, a recipient whose payload is
    close to a colluder's (codewords sharing a stretch) would share that colluder's score."""
    if len(soft) != len(candidates):
        raise WatermarkError(f"{len(soft)} soft readings for {len(candidates)} lists of candidates")
    if threshold is None:
        threshold = accusation_threshold(sum(len(payloads) for payloads in candidates))
    found = []
    for k, (values, payloads) in enumerate(zip(soft, candidates, strict=True)):
        values = _check_soft(values)
        payloads = [framing.check_payload(p) for p in payloads]
        if not payloads:
            continue
        codewords = np.stack([framing.symbols(p) for p in payloads])
        named: list[int] = []
        while len(named) < min(len(payloads), framing.CODED_BITS // 4):
            if named:
                basis, _ = np.linalg.qr(codewords[named].T)  # orthonormal columns spanning the named codewords
                rest = values - basis @ (basis.T @ values)
                others = codewords - (codewords @ basis) @ basis.T
            else:
                rest, others = values, codewords
            noise = float(np.linalg.norm(rest)) / np.sqrt(framing.CODED_BITS - len(named))
            lengths = np.linalg.norm(others, axis=1)
            usable = lengths > 1e-6 * np.sqrt(framing.CODED_BITS)  # a codeword the named ones span says nothing new
            usable[named] = False
            if noise == 0 or not usable.any():
                break
            z = np.full(len(payloads), -np.inf)
            z[usable] = (others[usable] @ rest) / (noise * lengths[usable])
            best = int(np.argmax(z))
            if z[best] < threshold:
                break
            named.append(best)
            found.append(Accusation(payloads[best], k, float(z[best])))
    return sorted(found, key=lambda a: -a.score)


def read_file(
    path: Path,
    keys: Sequence[bytes],
    *,
    max_seconds: float | None = None,
    start: float | None = None,
    progress: Progress | None = None,
    screen: Screen | None = None,
) -> Reading:
    """Read an image or video (`watermark.files.detect_file`, `screen`: where the picture lies
    in a copy filmed off a screen) and keep, per key, the soft values of the folded tile it
    decided on, for `accuse`."""
    keys = image.check_keys(keys)
    folds: list[list[np.ndarray]] = []
    found = detect_file(
        path, keys, max_seconds=max_seconds, start=start, progress=progress, evidence=folds.append, screen=screen
    )
    soft, sync = [], []
    for key in keys:
        values, strength = image.read(folds[-1], key)
        soft.append(values)
        sync.append(strength)
    return Reading(found, soft, sync)
