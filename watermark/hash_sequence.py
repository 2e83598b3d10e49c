"""A picture's or video's frame hashes with their times: the fingerprint the matcher indexes.

A video is hashed at a fixed RATE: the first decoded frame at or after each mark. Frames
that no other frame refers to (most B-frames) are never decoded and the deblocking filter
is skipped, since a hash of a 256-pixel thumbnail cannot tell; only the frames hashed are
scaled down, from their luma plane. An excerpt (`start`, `seconds`) is
reached by seeking, so what comes before it is not decoded either. A still image is a
sequence of one frame at time 0, so a screenshot of a film can be matched like a clip.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from watermark import files, video
from watermark.errors import WatermarkError
from watermark.frame_hashes import (
    HASH_BYTES,
    INSET_BLOCK,
    QUERY_VARIANTS,
    REGISTERED_VARIANTS,
    hash_lumas,
    hash_picture,
    thumbnail_size,
)

RATE = 2.0  # frames hashed per second of video
MAX_SECONDS = 7 * 24 * 3600  # the longest video a sequence may describe

Progress = Callable[[float, float | None], None]  # (seconds hashed, seconds in all or None)


@dataclass(frozen=True)
class HashSequence:
    """Usable frames only: times_ms[i] is when frame i shows, hashes[i, v] its variant v."""

    kind: str  # "image" or "video"
    variants: tuple[str, ...]
    times_ms: np.ndarray  # int64, (n,)
    hashes: np.ndarray  # uint8, (n, len(variants), HASH_BYTES)
    duration: float  # seconds of video looked at (0 for an image)
    sampled: int  # frames hashed, usable or not

    def __len__(self) -> int:
        return len(self.times_ms)

    def to_json(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "variants": list(self.variants),
            "times_ms": base64.b64encode(self.times_ms.astype("<i8").tobytes()).decode(),
            "hashes": base64.b64encode(np.ascontiguousarray(self.hashes).tobytes()).decode(),
            "duration": self.duration,
            "sampled": self.sampled,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> HashSequence:
        """The sequence a client sent; WatermarkError when it does not hold together."""
        try:
            variants = tuple(str(v) for v in body["variants"])
            times = np.frombuffer(base64.b64decode(body["times_ms"], validate=True), dtype="<i8").astype(np.int64)
            raw = np.frombuffer(base64.b64decode(body["hashes"], validate=True), dtype=np.uint8)
            kind, duration, sampled = str(body["kind"]), float(body["duration"]), int(body["sampled"])
        except (KeyError, TypeError, ValueError) as e:
            raise WatermarkError(f"not a hash sequence: {e}") from None
        if kind not in ("image", "video") or not variants or raw.size != len(times) * len(variants) * HASH_BYTES:
            raise WatermarkError("not a hash sequence: its kind, variants, times and hashes do not agree")
        if not (np.isfinite(duration) and 0 <= duration <= MAX_SECONDS) or sampled < len(times):
            raise WatermarkError(
                f"not a hash sequence: duration must be 0 to {MAX_SECONDS} s and sampled at least its frames"
            )
        if kind == "image" and len(times) > 1:
            raise WatermarkError("not a hash sequence: an image has one frame")
        if len(times) and (times.min() < 0 or times.max() > MAX_SECONDS * 1000 or np.any(np.diff(times) < 0)):
            raise WatermarkError("not a hash sequence: times must be non-negative and in order")
        return cls(kind, variants, times, raw.reshape(len(times), len(variants), HASH_BYTES), duration, sampled)


def _sequence(
    kind: str,
    variants: tuple[str, ...],
    times: list[int],
    hashes: list[tuple[bytes, ...]],
    duration: float,
    sampled: int,
) -> HashSequence:
    array = np.frombuffer(b"".join(b"".join(h) for h in hashes), dtype=np.uint8)
    return HashSequence(
        kind,
        tuple(variants),
        np.asarray(times, dtype=np.int64),
        array.reshape(len(times), len(variants), HASH_BYTES),
        duration,
        sampled,
    )


def hash_image(path: str | Path, variants: tuple[str, ...] = REGISTERED_VARIANTS) -> HashSequence:
    pixels = files.read_pixels(Path(path), min_side=16)
    frame = hash_picture(pixels, variants)
    if frame.hashes is None:  # not usable
        return _sequence("image", variants, [], [], 0.0, 1)
    return _sequence("image", variants, [0], [frame.hashes], 0.0, 1)


_EIGHT_BIT_LUMA = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "gray"}


def _small_luma(frame: av.VideoFrame, size: tuple[int, int]) -> np.ndarray:
    """The frame's luma scaled to `size` (area averaging): read straight from an 8-bit luma
    plane where there is one (a quarter of the scaler's time), else through the scaler."""
    if frame.format.name in _EIGHT_BIT_LUMA:
        plane = frame.planes[0]
        rows = np.frombuffer(memoryview(plane), np.uint8)[: plane.line_size * plane.height].reshape(
            plane.height, plane.line_size
        )
        return cv2.resize(rows[:, : plane.width], size, interpolation=cv2.INTER_AREA)
    return frame.reformat(width=size[0], height=size[1], format="gray", interpolation="AREA").to_ndarray()


def _decoded(
    container: av.container.InputContainer, stream: av.video.stream.VideoStream, key_seconds: float | None
) -> Iterator[av.VideoFrame | float]:
    """Decoded frames until the end or the first stretch that cannot be read; with
    `key_seconds`, only those of the first `key_seconds` after each keyframe: the packets
    after that, in decoding order, are not decoded at all until the next keyframe, and each
    is yielded as its time (seconds in the stream) so the reader knows how far it looked."""
    base = video._time_base(stream)
    feeding, until = True, float("inf")
    try:
        for packet in container.demux(stream):
            if key_seconds is not None and packet.size and packet.pts is not None:
                at = float(packet.pts * base)
                if packet.is_keyframe:
                    feeding, until = True, at + key_seconds
                elif not feeding or at > until:
                    feeding = False  # what follows may refer to this packet: skip to the next keyframe
                    yield at
                    continue
            yield from packet.decode()
    except (av.FFmpegError, EOFError):
        return  # damaged or truncated: what decoded so far is what there is


def hash_video(
    path: str | Path,
    variants: tuple[str, ...] = REGISTERED_VARIANTS,
    *,
    rate: float = RATE,
    start: float = 0.0,
    seconds: float | None = None,
    progress: Progress | None = None,
    key_seconds: float | None = None,
    thread_type: str = "AUTO",
) -> HashSequence:
    """The video's hash sequence from `start` for `seconds` (to the end by default); times
    are from the start of the video. A damaged or truncated stretch ends the sequence.
    With `key_seconds`, only frames up to that long after each keyframe are decoded and
    hashed (at `rate`): a fraction of the decoding, at times as irregular as the keyframes
    (a suspect copy's sequence meets a registered one, hashed throughout, all the same), and
    `duration` reaches the last packet looked at, decoded or not (how much of the copy the
    frames stand for: a staged read tells by it whether the copy ended). `thread_type` is
    the decoder's ("NONE" where stretches are read side by side)."""
    path = Path(path)
    container = video.open_video(path)
    with container:
        stream = container.streams.video[0]
        h, w = video._frame_size(stream, path)
        size = thumbnail_size(h, w)
        stream.thread_type = thread_type
        stream.codec_context.skip_frame = "NONREF"
        stream.codec_context.options = {"skip_loop_filter": "all"}
        total = container.duration / av.time_base if container.duration else None
        if seconds is not None:
            total = min(total, start + seconds) if total else start + seconds
        origin = float(stream.start_time * video._time_base(stream)) if stream.start_time is not None else 0.0
        if start > 0:
            try:
                container.seek(int((start + origin) / video._time_base(stream)), stream=stream)
            except av.FFmpegError:
                raise WatermarkError(f"{path}: cannot seek to {start:.1f} s") from None
        times: list[int] = []
        hashes: list[tuple[bytes, ...]] = []
        block: list[
            tuple[float, np.ndarray]
        ] = []  # frames hashed together (a picture-in-picture is looked for over them)

        def flush() -> None:
            for (t, _), picture in zip(block, hash_lumas([luma for _, luma in block], variants), strict=True):
                if picture.hashes is not None:  # usable
                    times.append(round(t * 1000))
                    hashes.append(picture.hashes)
            block.clear()

        sampled, mark, last = 0, start, start
        for frame in _decoded(container, stream, key_seconds):
            if isinstance(frame, float):  # skipped by key-led sampling: looked past, so it counts in `duration`
                if seconds is not None and frame - origin >= start + seconds:
                    break
                last = max(last, frame - origin)
                continue
            if frame.time is None:
                continue
            t = frame.time - origin
            if seconds is not None and t >= start + seconds:
                break
            last = max(last, t)
            if t + 1e-6 < mark:
                continue
            block.append((t, _small_luma(frame, size)))
            sampled += 1
            if len(block) == INSET_BLOCK:
                flush()
            mark = start + (int((t - start) * rate + 1e-6) + 1) / rate  # the next mark on the grid, past any gap
            if progress is not None:
                progress(t - start, None if total is None else total - start)
        flush()
    if sampled == 0:
        raise WatermarkError(f"{path}: the video has no decodable frames" + (f" after {start:.1f} s" if start else ""))
    return _sequence("video", variants, times, hashes, last - start + 1 / rate, sampled)


def keyframes(path: str | Path, start: float = 0.0, seconds: float | None = None) -> int:
    """How many keyframes the video has from `start` for `seconds`, read from its packets
    without decoding any: what a key-led read of that stretch (`hash_video`) can sample."""
    with video.open_video(Path(path)) as container:
        stream = container.streams.video[0]
        base = video._time_base(stream)
        origin = float(stream.start_time * base) if stream.start_time is not None else 0.0
        if start > 0:
            try:
                container.seek(int((start + origin) / base), stream=stream)
            except av.FFmpegError:
                return 0
        count = 0
        try:
            for packet in container.demux(stream):
                if not packet.size or packet.pts is None:
                    continue
                at = float(packet.pts * base) - origin
                if seconds is not None and at >= start + seconds:
                    break
                count += packet.is_keyframe and at >= start - 1e-6
        except (av.FFmpegError, EOFError):
            pass  # damaged or truncated: the keyframes before it are what there is
        return count


def hash_file(
    path: str | Path,
    variants: tuple[str, ...] = REGISTERED_VARIANTS,
    progress: Progress | None = None,
    seconds: float | None = None,
) -> HashSequence:
    """The hash sequence of an image or video file (its first `seconds`), told apart by content;
    a whole long video is hashed in stretches side by side (`watermark.hash_stretches`)."""
    path = Path(path)
    if files.media_kind(path) == "image":
        return hash_image(path, variants)
    if seconds is None:
        from watermark.hash_stretches import hash_video_in_stretches

        return hash_video_in_stretches(path, variants, progress=progress)
    return hash_video(path, variants, progress=progress, seconds=seconds)


def query_sequence(
    path: str | Path, progress: Progress | None = None, seconds: float | None = None, key_seconds: float | None = None
) -> HashSequence:
    """What a suspect copy is matched by: every query variant of each sampled frame (with
    `key_seconds`, of a video's frames that close after a keyframe only; see `hash_video`)."""
    path = Path(path)
    if files.media_kind(path) == "image":
        return hash_image(path, QUERY_VARIANTS)
    return hash_video(path, QUERY_VARIANTS, progress=progress, seconds=seconds, key_seconds=key_seconds)
