"""Hashing a long video in stretches side by side: registration's fingerprint at the speed of
every core's decoder rather than one.

Why
    Registration hashes the whole master at `hash_sequence.RATE` frames a second and is
    bound by decoding (it already skips frames nothing refers to and the deblocking
    filter), and one decoder, even with its own frame threads, keeps little more than one
    core busy. The video is cut into stretches at whole multiples of STRETCH_GRID seconds,
    so that every stretch's sampling marks and picture-in-picture blocks fall where one
    read's would, and each stretch is hashed by `hash_sequence.hash_video(start=,
    seconds=)` in a thread of its own (seeking to the keyframe before it; PyAV decodes,
    and OpenCV scales, without holding the GIL), each decoder single-threaded: frame
    threads cost more CPU than they save once every core has a stretch. The sequences are
    joined in order; they are the sequence one read gives
    (tests/watermark/test_hash_stretches.py).

Measured (2026-12-07, bigbuckbunny looped to 10 min, 720p, 2 cores, load ~1)
    One read: 41-45x real time (28-31x by CPU); two stretches at a time, decoders
    single-threaded: 64x (35x by CPU); three: 66x; with frame threads kept in each
    decoder: 57x (30x by CPU). See `scripts/bench-match --speed-only` for the figure
    beside bare decoding.

Costs
    Each stretch decodes up to a group of pictures before its start for nothing, so
    videos shorter than MIN_SECONDS are hashed in one read. A stretch that ends early
    (damage or truncation) ends the sequence there, as one read would.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import numpy as np

from watermark import video
from watermark.errors import WatermarkError
from watermark.frame_hashes import INSET_BLOCK
from watermark.hash_sequence import RATE, HashSequence, Progress, hash_video

MIN_SECONDS = 60.0  # shorter videos are hashed in one read
STRETCH_GRID = INSET_BLOCK / RATE  # seconds: stretches start on whole multiples of this
STRETCHES_PER_WORKER = 3  # more stretches than threads: finer progress, an even finish
WORKERS = os.cpu_count() or 1  # stretches hashed at a time, by default


def duration_of(path: Path) -> float | None:
    """The video's length from its container, if it says."""
    with video.open_video(path) as container:
        if container.duration:
            return float(container.duration / av.time_base)
    return None


def starts(duration: float, workers: int) -> list[float]:
    """Where each stretch of a video `duration` seconds long begins (the first at 0)."""
    wanted = max(1, min(workers * STRETCHES_PER_WORKER, int(duration // STRETCH_GRID)))
    step = math.ceil(duration / wanted / STRETCH_GRID) * STRETCH_GRID
    return [i * step for i in range(math.ceil(duration / step))]


def _stretch(path: Path, variants: tuple[str, ...], start: float, seconds: float | None) -> HashSequence:
    return hash_video(path, variants, start=start, seconds=seconds, thread_type="NONE")


def hash_video_in_stretches(
    path: str | Path,
    variants: tuple[str, ...],
    *,
    workers: int = WORKERS,
    progress: Progress | None = None,
    min_seconds: float = MIN_SECONDS,
) -> HashSequence:
    """The video's whole hash sequence, as `hash_video` gives it, hashed in stretches,
    `workers` at a time (in one read when it is shorter than `min_seconds` or one worker
    is asked for)."""
    path = Path(path)
    duration = duration_of(path)
    if workers < 2 or duration is None or duration < min_seconds:
        return hash_video(path, variants, progress=progress)
    begins = starts(duration, workers)
    spans = [b - a for a, b in zip(begins, begins[1:], strict=False)] + [None]  # the last runs to the end
    parts: list[HashSequence] = []
    with ThreadPoolExecutor(max_workers=min(workers, len(begins)), thread_name_prefix="hash-stretch") as pool:
        futures = [
            pool.submit(_stretch, path, variants, start, span) for start, span in zip(begins, spans, strict=True)
        ]
        for start, span, future in zip(begins, spans, futures, strict=True):
            try:
                part = future.result()
            except WatermarkError:
                if not parts:
                    raise
                break  # nothing decodes past here: the sequence ends, as one read's would
            parts.append(part)
            if progress is not None:
                progress(start + part.duration, duration)
            if span is not None and part.duration < span - 1.0:
                for rest in futures:
                    rest.cancel()
                break  # damaged or truncated here: the sequence ends, as one read's would
    return HashSequence(
        "video",
        tuple(variants),
        np.concatenate([p.times_ms for p in parts]),
        np.concatenate([p.hashes for p in parts]),
        begins[len(parts) - 1] + parts[-1].duration,
        sum(p.sampled for p in parts),
    )
