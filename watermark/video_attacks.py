"""Attacks on marked video: the transcodes a copy goes through on its way to a pirate site.

Each attack is one streaming pass with PyAV (decode, change each frame, encode H.264 with
libx264 at the attack's quality), never holding the video in memory. Frame changes reuse
the still-image attacks of `watermark.attacks` on RGB frames; randomised ones (noise) are
seeded per frame, geometric ones (perspective of the screen recording) are fixed for the
whole video, as a camera on a tripod would be. Re-encoding is part of every attack: a copy
is never stored raw, so even "blur" is blur then H.264 at DEFAULT_CRF.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from watermark import attacks, video

DEFAULT_CRF = 23  # libx264's own default: a copy re-encoded without further thought
EXCERPT_SECONDS = 10.0

FrameFn = Callable[[np.ndarray, int], np.ndarray]  # (RGB frame, frame index) -> RGB frame


@dataclass(frozen=True)
class VideoAttack:
    frame: FrameFn | None = None  # what happens to each frame (None: nothing)
    crf: int | None = DEFAULT_CRF  # constant-quality encode ...
    bitrate: int | None = None  # ... or average bit rate, bits per second
    seconds: float | None = None  # cut an excerpt this long out of the middle (unless a start is given)
    speed: float = 1.0  # played this much faster: every frame kept, the frame rate raised

    def then(self, **changes: Any) -> VideoAttack:  # any of the fields, checked by replace()
        return replace(self, **changes)


def _even(image: np.ndarray) -> np.ndarray:
    """Cut a row or column off an odd side: 4:2:0 H.264 needs even sides."""
    h, w = image.shape[:2]
    return image[: h - h % 2, : w - w % 2]


def _then(*fns: FrameFn) -> FrameFn:
    def run(frame: np.ndarray, index: int) -> np.ndarray:
        for fn in fns:
            frame = fn(frame, index)
        return frame

    return run


def scale_to(lines: int) -> FrameFn:
    """Scale (area averaging) to `lines` lines, keeping the aspect ratio."""
    return lambda im, i: attacks.rescale(im, lines / im.shape[0])


def noise(sigma: float, seed: int = 0) -> FrameFn:
    """Gaussian noise of `sigma` grey levels, new every frame (as `attacks.noise`, drawn in
    float32: a third of the time on a 1080p frame)."""

    def add(frame: np.ndarray, index: int) -> np.ndarray:
        rng = np.random.default_rng((seed, index))
        grain = rng.standard_normal(frame.shape, dtype=np.float32)
        grainy: np.ndarray = np.clip(np.rint(frame + sigma * grain), 0, 255).astype(np.uint8)
        return grainy

    return add


def screen_recording(seed: int = 0) -> FrameFn:
    """A simulated camcording / screen capture, per frame: slight perspective (fixed for
    the video), rescale to 75 %, optical blur, a little gamma, sensor noise (new every
    frame); the encode that follows (CRF 28) stands in for the camera's compression."""

    def record(frame: np.ndarray, index: int) -> np.ndarray:
        out = attacks.perspective(frame, 0.005, seed)
        out = attacks.rescale(out, 0.75)
        out = attacks.blur(out, 0.8)
        out = np.clip(np.rint(255.0 * (out / 255.0) ** 0.9), 0, 255).astype(np.uint8)
        return noise(3.0, seed + 1)(out, index)

    return record


def camcorder(corners: float = 0.04, lines: int = 480, seed: int = 0) -> FrameFn:
    """A camera in a cinema or pointed at a screen (翻拍), per frame: the perspective of
    `attacks.camcorder_geometry` (corners moved by up to `corners` of the frame, fixed for the
    video), barrel distortion, optical blur, downscaling to `lines` lines, a little gamma and
    sensor noise new every frame; the encode that follows (CRF 28) is the camera's compression."""
    grain = noise(3.0, seed + 1)
    return lambda im, i: grain(attacks.camera_optics(attacks.camcorder_geometry(im, corners, seed=seed), lines), i)


def picture_in_picture(share: float, at: tuple[float, float] = (0.3, 0.6)) -> FrameFn:
    """The copy shown at `share` of the frame inside other footage (`attacks.other_footage`,
    panning), frame size kept."""
    return lambda im, i: attacks.inset(im, attacks.other_footage(im.shape, i), share, at)


def letterbox(share: float = 0.25) -> FrameFn:
    """Squeeze the picture to (1 - share) of its height between black bars, as a 4:3 or
    cinema re-framing does (frame size kept)."""

    def bars(frame: np.ndarray, index: int) -> np.ndarray:
        h, w = frame.shape[:2]
        inner = int(round(h * (1 - share))) // 2 * 2
        out = np.zeros_like(frame)
        top = (h - inner) // 2
        out[top : top + inner] = cv2.resize(frame, (w, inner), interpolation=cv2.INTER_AREA)
        return out

    return bars


def logo(frame: np.ndarray, index: int) -> np.ndarray:
    """A pirate site's logo in the top right corner: a white plate with red lettering."""
    out = frame.copy()
    h, w = frame.shape[:2]
    top, bottom, left, right = int(h * 0.04), int(h * 0.16), int(w * 0.78), int(w * 0.96)
    out[top:bottom, left:right] = 255
    scale = (bottom - top) / 40
    cv2.putText(
        out,
        "PIRATE",
        (left + int(4 * scale), bottom - int(10 * scale)),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (200, 0, 0),
        max(1, int(2 * scale)),
    )
    return out


def gamma(g: float) -> FrameFn:
    table = np.clip(np.rint(255.0 * (np.arange(256) / 255.0) ** g), 0, 255).astype(np.uint8)
    return lambda im, i: table[im]


_crop10 = lambda im, i: attacks.crop(im, 0.10)  # noqa: E731
_crop10_each = lambda im, i: attacks.crop(im, 0.20, top_left_share=0.5)  # noqa: E731  10 % off every border
_360p = scale_to(360)
_crop25_each = lambda im, i: attacks.crop_borders(im, 0.25, 0.25, 0.25, 0.25)  # noqa: E731
_crop_asym = lambda im, i: attacks.crop_borders(im, 0.25, 0.05, 0.08, 0.22)  # noqa: E731

VIDEO_ATTACKS: dict[str, VideoAttack] = {
    "crf30": VideoAttack(crf=30),
    "500k": VideoAttack(crf=None, bitrate=500_000),
    "jpeg50": VideoAttack(lambda im, i: attacks.jpeg(im, 50)),
    "scale50": VideoAttack(lambda im, i: attacks.rescale(im, 0.5)),
    "360p": VideoAttack(_360p),
    "crop10": VideoAttack(_crop10),
    "crop25": VideoAttack(lambda im, i: attacks.crop(im, 0.25)),
    "rotate2": VideoAttack(lambda im, i: attacks.rotate(im, 2.0)),
    "blur1": VideoAttack(lambda im, i: attacks.blur(im, 1.0)),
    "bright+20": VideoAttack(lambda im, i: attacks.brightness(im, 1.2)),
    "bright-20": VideoAttack(lambda im, i: attacks.brightness(im, 0.8)),
    "contrast0.8": VideoAttack(lambda im, i: attacks.contrast(im, 0.8)),
    "noise5": VideoAttack(noise(5.0)),
    "screen": VideoAttack(screen_recording(), crf=28),
    "excerpt10": VideoAttack(seconds=EXCERPT_SECONDS),
    "crop10+crf30": VideoAttack(_crop10, crf=30),
    "360p+crf30": VideoAttack(_360p, crf=30),
    "360p+500k": VideoAttack(_360p, crf=None, bitrate=500_000),
    "360p+excerpt10": VideoAttack(_360p, seconds=EXCERPT_SECONDS),
    "crop25each+crf30": VideoAttack(_crop25_each, crf=30),
    "crop-asym+crf30": VideoAttack(_crop_asym, crf=30),
    "pip60": VideoAttack(picture_in_picture(0.6, (0.7, 0.2))),
    "bars70": VideoAttack(lambda im, i: attacks.inset(im, np.zeros_like(im), 0.7, (0.5, 0.5))),
    "mirror": VideoAttack(lambda im, i: attacks.mirror(im)),
    "aspect4:3": VideoAttack(lambda im, i: attacks.reaspect(im, 0.75)),
    "aspect21:9": VideoAttack(lambda im, i: attacks.reaspect(im, 21 / 16)),
    "vertical9:16": VideoAttack(lambda im, i: attacks.vertical(im, 608, 1080)),
}
"""The named attacks the watermark's tests and benchmark run, single and combined."""

FINGERPRINT_ATTACKS: dict[str, VideoAttack] = {
    "crop10each": VideoAttack(_crop10_each),
    "letterbox": VideoAttack(letterbox()),
    "logo": VideoAttack(logo),
    "gamma0.7": VideoAttack(gamma(0.7)),
    "speed1.05": VideoAttack(speed=1.05),
    "crop10each+crf30": VideoAttack(_crop10_each, crf=30),
}
"""What the fingerprint matcher must survive besides VIDEO_ATTACKS and GEOMETRY_ATTACKS
(letterbox bars, a logo, gamma, speed)."""

GEOMETRY_ATTACKS: dict[str, VideoAttack] = {
    "camcorder": VideoAttack(camcorder(), crf=28),
    "pip40": VideoAttack(picture_in_picture(0.4)),
}
"""Geometry beyond similarity that the watermark does not read reliably yet: a camera
recording a screen with up to 4 % keystone and lens distortion at 480p (read along the
screen's corners, given to `detect_video(screen=...)` or found from the outline of the
frames' mean where it shows: `watermark.perspective`, `watermark.screens`), and
picture-in-picture at 40 % (read on 10-second excerpts, not on the tests' clips of a second
or two). The classes that read (mirror, 4:3, 21:9, a 9:16 column, crops of a quarter off
every border or off some borders more than others with CRF 30, picture-in-picture at 60 %,
a shrink into black bars) are in VIDEO_ATTACKS."""

ALL_ATTACKS = VIDEO_ATTACKS | FINGERPRINT_ATTACKS | GEOMETRY_ATTACKS


def duration(path: str | Path) -> float:
    """Seconds of video in `path` (from the container, else the stream)."""
    with av.open(str(path)) as container:
        if container.duration:
            return container.duration / av.time_base
        stream = container.streams.video[0]
        assert stream.duration is not None, "a video stream without a duration"
        return float(stream.duration * video._time_base(stream))


def transcode(
    src: str | Path,
    dst: str | Path,
    attack: VideoAttack = VideoAttack(),
    *,
    start: float | None = None,
    seconds: float | None = None,
    preset: str = "veryfast",
) -> Path:
    """Write `src` through `attack` to `dst` (H.264, yuv420p, video only). `start` and
    `seconds` cut an excerpt (frame-exact, timestamps restarting at 0); without them an
    attack with its own `seconds` takes them from the middle of the video."""
    dst = Path(dst)
    seconds = seconds if seconds is not None else attack.seconds
    if seconds is not None and start is None:
        start = max(0.0, (duration(src) - seconds) / 2)
    with av.open(str(src)) as container:
        vin = container.streams.video[0]
        vin.thread_type = "AUTO"
        rate = (vin.average_rate or vin.guessed_rate or Fraction(25)) * Fraction(attack.speed).limit_denominator(1000)
        if start:
            container.seek(int(start / video._time_base(vin)) + (vin.start_time or 0), stream=vin)
        with av.open(str(dst), "w", format="mp4") as out:
            vout, first, index = None, None, 0
            for frame in container.decode(vin):
                t = frame.time or 0.0
                if start and t + 1e-6 < start:
                    continue
                first = t if first is None else first
                if seconds is not None and t - first >= seconds - 1e-6:
                    break
                if attack.frame is None:
                    picture = frame.reformat(format="yuv420p")
                    h, w = picture.height, picture.width
                else:
                    rgb = _even(np.ascontiguousarray(attack.frame(frame.to_ndarray(format="rgb24"), index)))
                    h, w = rgb.shape[:2]
                    picture = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24").reformat(
                        format="yuv420p"
                    )
                if vout is None:
                    vout = out.add_stream("libx264", rate=rate)
                    vout.width, vout.height, vout.pix_fmt = w, h, "yuv420p"
                    vout.thread_type = "AUTO"
                    options: dict[str, object] = {"preset": preset}
                    if attack.bitrate:
                        vout.bit_rate = attack.bitrate
                    else:
                        options["crf"] = str(attack.crf if attack.crf is not None else DEFAULT_CRF)
                    vout.options = options
                picture.pts, picture.time_base = index, 1 / rate
                out.mux(vout.encode(picture))
                index += 1
            if vout is None:
                raise ValueError(f"{src}: no frames to transcode")
            out.mux(vout.encode(None))
    return dst


def apply(
    name: str, src: str | Path, dst: str | Path, *, start: float | None = None, seconds: float | None = None
) -> Path:
    """Run the attack ALL_ATTACKS[name] on `src`, writing `dst`."""
    return transcode(src, dst, ALL_ATTACKS[name], start=start, seconds=seconds)


def collude(
    copies: list[str | Path],
    dst: str | Path,
    *,
    crf: int = DEFAULT_CRF,
    start: float = 0.0,
    seconds: float | None = None,
) -> Path:
    """The frame-by-frame average of copies of one video carrying different marks (the
    classic collusion attack), streaming, written as H.264 at `crf`; with `start` and
    `seconds`, of that stretch only."""

    def average(index: int, planes: list[np.ndarray]) -> np.ndarray:
        mean: np.ndarray = np.rint(np.mean(planes, axis=0)).astype(np.uint8)
        return mean

    return _combine(copies, dst, average, crf, start, seconds)


def cut_together(
    copies: list[str | Path],
    dst: str | Path,
    *,
    segment_seconds: float = 0.5,
    crf: int = DEFAULT_CRF,
    start: float = 0.0,
    seconds: float | None = None,
) -> Path:
    """One video cut together from copies of one video carrying different marks, segment by
    segment (copy 1 for `segment_seconds`, then copy 2, ..., then copy 1 again): the other
    collusion attack, where every stretch carries one colluder's mark whole. Streaming,
    H.264 at `crf`; `start` and `seconds` as for `collude`."""
    if not segment_seconds > 0:
        raise ValueError(f"segment_seconds must be positive (got {segment_seconds})")
    with av.open(str(copies[0])) as first:
        rate = first.streams.video[0].average_rate or Fraction(25)
    per_segment = max(1, round(segment_seconds * float(rate)))

    def segment(index: int, planes: list[np.ndarray]) -> np.ndarray:
        return planes[(index // per_segment) % len(planes)]

    return _combine(copies, dst, segment, crf, start, seconds)


def _combine(
    copies: list[str | Path],
    dst: str | Path,
    mix: Callable[[int, list[np.ndarray]], np.ndarray],
    crf: int,
    start: float,
    seconds: float | None,
) -> Path:
    """Decode the copies in step and write, for the frames from `start` for `seconds`,
    `mix(index, yuv420p planes of each copy)` as H.264 at `crf`."""
    if not copies:
        raise ValueError("no copies to combine")
    containers = [av.open(str(p)) for p in copies]
    try:
        streams = [c.streams.video[0] for c in containers]
        rate = streams[0].average_rate or Fraction(25)
        first = int(round(start * float(rate)))
        last = None if seconds is None else first + int(round(seconds * float(rate)))
        with av.open(str(dst), "w", format="mp4") as out:
            vout = out.add_stream("libx264", rate=rate)
            vout.width, vout.height, vout.pix_fmt = streams[0].width, streams[0].height, "yuv420p"
            vout.options = {"crf": str(crf), "preset": "veryfast"}
            for index, frames in enumerate(
                zip(*(c.decode(s) for c, s in zip(containers, streams, strict=True)), strict=False)
            ):
                if index < first:
                    continue
                if last is not None and index >= last:
                    break
                planes = [f.reformat(format="yuv420p").to_ndarray() for f in frames]
                mixed = av.VideoFrame.from_ndarray(mix(index - first, planes), format="yuv420p")
                mixed.pts, mixed.time_base = index - first, 1 / rate
                out.mux(vout.encode(mixed))
            out.mux(vout.encode(None))
    finally:
        for c in containers:
            c.close()
    return Path(dst)
