"""Attacks a robust mark must survive: the usual processing a still or a frame goes
through on its way to a pirate copy. Each takes and returns a uint8 grey or RGB image;
randomised ones take a seed so that tests and benchmarks are reproducible."""

from __future__ import annotations

import io
from collections.abc import Callable

import av
import cv2
import numpy as np


def _clip(image: np.ndarray) -> np.ndarray:
    clipped: np.ndarray = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    return clipped


def jpeg(image: np.ndarray, quality: int = 50) -> np.ndarray:
    """Encode and decode as baseline JPEG (4:2:0 for colour, as libjpeg does by default)."""
    colour = image.ndim == 3
    src = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if colour else image
    ok, buf = cv2.imencode(".jpg", src, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    assert ok
    out = cv2.imdecode(buf, cv2.IMREAD_COLOR if colour else cv2.IMREAD_GRAYSCALE)
    assert out is not None
    return cv2.cvtColor(out, cv2.COLOR_BGR2RGB) if colour else out


def h264(image: np.ndarray, *, crf: int | None = None, bitrate: int | None = None, frames: int = 24) -> np.ndarray:
    """The image held for `frames` frames (one second at 24 fps) of H.264 (libx264,
    veryfast, 4:2:0) at constant quality `crf` or an average `bitrate` (bits per second),
    and the last frame decoded: a still as it comes out of a re-encoded video."""
    colour = image.ndim == 3
    rgb = image if colour else np.repeat(image[..., None], 3, axis=2)
    h, w = rgb.shape[:2]
    rgb = np.ascontiguousarray(rgb[: h - h % 2, : w - w % 2])
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = rgb.shape[1], rgb.shape[0], "yuv420p"
        if bitrate:
            stream.bit_rate = bitrate
        stream.options = {"preset": "veryfast", **({"crf": str(crf)} if crf is not None else {})}
        picture = av.VideoFrame.from_ndarray(rgb, format="rgb24")
        for index in range(frames):
            picture.pts = index
            out.mux(stream.encode(picture))
        out.mux(stream.encode(None))
    buffer.seek(0)
    with av.open(buffer, "r") as container:
        for frame in container.decode(video=0):
            last = frame
    decoded = last.to_ndarray(format="rgb24")
    return decoded if colour else decoded[..., 0]


def rescale(image: np.ndarray, factor: float) -> np.ndarray:
    h, w = image.shape[:2]
    size = (max(1, int(round(w * factor))), max(1, int(round(h * factor))))
    interp = cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp)


def crop(image: np.ndarray, fraction: float, top_left_share: float = 0.3) -> np.ndarray:
    """Cut `fraction` of the width and of the height away, `top_left_share` of it from the
    top and left borders and the rest from the bottom and right (so the cut is off-centre)."""
    h, w = image.shape[:2]
    cut_h, cut_w = int(round(h * fraction)), int(round(w * fraction))
    top, left = int(round(cut_h * top_left_share)), int(round(cut_w * top_left_share))
    return image[top : h - (cut_h - top), left : w - (cut_w - left)].copy()


def rotate(image: np.ndarray, degrees: float) -> np.ndarray:
    """Rotate about the centre, same size, corners filled black."""
    h, w = image.shape[:2]
    m = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    return cv2.warpAffine(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def blur(image: np.ndarray, sigma: float = 1.0) -> np.ndarray:
    return cv2.GaussianBlur(image, (0, 0), sigma)


def brightness(image: np.ndarray, factor: float) -> np.ndarray:
    """Multiply every value by `factor` (1.2 = 20 % brighter), clipped."""
    return _clip(image.astype(np.float32) * factor)


def contrast(image: np.ndarray, factor: float) -> np.ndarray:
    """Scale the deviation from the image's mean by `factor`."""
    x = image.astype(np.float32)
    return _clip((x - x.mean()) * factor + x.mean())


def noise(image: np.ndarray, sigma: float = 5.0, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return _clip(image.astype(np.float32) + rng.normal(0.0, sigma, image.shape))


def perspective(image: np.ndarray, jitter: float = 0.01, seed: int = 0) -> np.ndarray:
    """Move each corner by up to `jitter` of the image size, at random, same output size."""
    h, w = image.shape[:2]
    rng = np.random.default_rng(seed)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    dst = src + rng.uniform(-jitter, jitter, (4, 2)).astype(np.float32) * np.array([w, h], dtype=np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    return cv2.warpPerspective(image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)


def screen_recording(image: np.ndarray, seed: int = 0) -> np.ndarray:
    """A simulated camcording / screen capture: slight perspective (corners moved up to
    0.5 % of the size), a rescale to 75 %, optical blur, a little gamma, sensor noise,
    then JPEG at quality 75."""
    out = perspective(image, 0.005, seed)
    out = rescale(out, 0.75)
    out = blur(out, 0.8)
    out = _clip(255.0 * (out / 255.0) ** 0.9)
    out = noise(out, 3.0, seed + 1)
    return jpeg(out, 75)


ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "jpeg50": lambda im: jpeg(im, 50),
    "crf30": lambda im: h264(im, crf=30),
    "500k": lambda im: h264(im, bitrate=500_000),
    "scale50": lambda im: rescale(im, 0.5),
    "crop10": lambda im: crop(im, 0.10),
    "crop25": lambda im: crop(im, 0.25),
    "rotate2": lambda im: rotate(im, 2.0),
    "blur1": lambda im: blur(im, 1.0),
    "bright+20": lambda im: brightness(im, 1.2),
    "bright-20": lambda im: brightness(im, 0.8),
    "contrast0.8": lambda im: contrast(im, 0.8),
    "noise5": lambda im: noise(im, 5.0),
    "screen": lambda im: screen_recording(im),
    "crop25+jpeg50": lambda im: jpeg(crop(im, 0.25), 50),
    "rotate2+jpeg50": lambda im: jpeg(rotate(im, 2.0), 50),
    "scale50+noise5": lambda im: noise(rescale(im, 0.5), 5.0),
}
"""The named attacks the tests and the benchmark run, single and combined."""
