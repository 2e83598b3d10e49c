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


def mirror(image: np.ndarray) -> np.ndarray:
    """Flip left to right, as re-uploads do to dodge matching."""
    return np.ascontiguousarray(image[:, ::-1])


def reaspect(image: np.ndarray, x_factor: float, y_factor: float = 1.0) -> np.ndarray:
    """Scale width and height by different factors: a 16:9 picture shown at 4:3 is
    (0.75, 1.0), at 21:9 (1.3125, 1.0)."""
    h, w = image.shape[:2]
    size = (max(2, int(round(w * x_factor))), max(2, int(round(h * y_factor))))
    interp = cv2.INTER_AREA if x_factor * y_factor < 1 else cv2.INTER_CUBIC
    return cv2.resize(image, size, interpolation=interp)


def vertical(image: np.ndarray, width: int = 1080, height: int = 1920) -> np.ndarray:
    """The centre 9:16 column of a landscape picture, scaled to a short-video platform's
    `width` x `height` (a quarter of the picture's width at 16:9 survives, about a third)."""
    h, w = image.shape[:2]
    keep = min(w, int(round(h * width / height)))
    left = (w - keep) // 2
    return cv2.resize(image[:, left : left + keep], (width, height), interpolation=cv2.INTER_CUBIC)


def crop_borders(image: np.ndarray, top: float, bottom: float, left: float, right: float) -> np.ndarray:
    """Cut the given share of the height (top, bottom) and width (left, right) off each border."""
    h, w = image.shape[:2]
    return image[
        int(round(h * top)) : h - int(round(h * bottom)), int(round(w * left)) : w - int(round(w * right))
    ].copy()


def barrel(image: np.ndarray, k1: float = 0.04, fill: int = 0) -> np.ndarray:
    """Radial lens distortion (barrel for k1 > 0), same size, the corners pulled in and filled
    with grey level `fill` (black by default)."""
    h, w = image.shape[:2]
    ys, xs = np.indices((h, w), dtype=np.float32)
    cx, cy, norm = (w - 1) / 2, (h - 1) / 2, float(np.hypot(w, h)) / 2
    dx, dy = (xs - cx) / norm, (ys - cy) / norm
    f = 1 + k1 * (dx * dx + dy * dy)
    return cv2.remap(
        image,
        cx + dx * f * norm,
        cy + dy * f * norm,
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=(fill,) * 4,
    )


def camcorder_geometry(
    image: np.ndarray, corners: float = 0.04, k1: float = 0.04, seed: int = 0, surround: int = 0
) -> np.ndarray:
    """How a camera pointed at a screen frames it: a perspective that moves each corner by
    between half and all of `corners` of the frame size (random direction, fixed by `seed`),
    then barrel distortion `k1`; around the screen grey level `surround` (a dark room: 0)."""
    h, w = image.shape[:2]
    m = cv2.getPerspectiveTransform(*_camcorder_corners(h, w, corners, seed))
    warped = cv2.warpPerspective(
        image, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=(surround,) * 4
    )
    return barrel(warped, k1, surround)


def _camcorder_corners(h: int, w: int, corners: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The picture's corners (x, y) and where `camcorder_geometry`'s perspective moves them."""
    rng = np.random.default_rng(seed)
    size = np.array([w, h], dtype=np.float32)
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], dtype=np.float32)
    move = rng.uniform(0.5, 1.0, (4, 2)) * rng.choice([-1.0, 1.0], (4, 2)) * corners
    return src, src + move.astype(np.float32) * size


def camcorder_screen(
    shape: tuple[int, ...], corners: float = 0.04, k1: float = 0.04, lines: int | None = 480, seed: int = 0
) -> np.ndarray:
    """Where the picture's corners (top-left, top-right, bottom-right, bottom-left; x, y)
    land in a `camcorder` recording of a picture of `shape` (`lines`: the recording's
    height, None for the geometry alone): what an investigator marks on the screen."""
    h, w = shape[:2]
    moved = _camcorder_corners(h, w, corners, seed)[1].astype(np.float64)
    centre, norm = np.array([(w - 1) / 2, (h - 1) / 2]), float(np.hypot(w, h)) / 2
    q = (moved - centre) / norm
    p = q.copy()
    for _ in range(50):  # invert the barrel: the pixel p whose sample q = p (1 + k1 |p|^2)
        p = q / (1 + k1 * np.sum(p * p, axis=1, keepdims=True))
    out: np.ndarray = centre + p * norm
    if lines is not None:
        scale = np.array([round(w * lines / h) / w, lines / h])
        out = (out + 0.5) * scale - 0.5
    return out


def camcorder(
    image: np.ndarray, corners: float = 0.04, lines: int = 480, seed: int = 0, surround: int = 0
) -> np.ndarray:
    """A handheld or seat-mounted camera recording a screen (翻拍): `camcorder_geometry`,
    optical blur, downscaling to `lines` lines, a little gamma, sensor noise, then JPEG at
    quality 75 for the camera's compression (video attacks encode H.264 instead). With a
    `surround` above black (a lit room) no outline shows: the reading needs the corners."""
    out = camera_optics(camcorder_geometry(image, corners, seed=seed, surround=surround), lines)
    return jpeg(noise(out, 3.0, seed + 1), 75)


def camera_optics(image: np.ndarray, lines: int = 480) -> np.ndarray:
    """Optical blur, downscaling to `lines` lines and a little gamma: the camera's side of
    `camcorder` before its noise and compression."""
    out = rescale(blur(image, 1.2), lines / image.shape[0])
    return _clip(255.0 * (out / 255.0) ** 0.9)


def inset(
    image: np.ndarray, background: np.ndarray, share: float = 0.5, at: tuple[float, float] = (0.3, 0.6)
) -> np.ndarray:
    """Picture-in-picture: `image` scaled to `share` of the background's size and placed
    inside it, its top-left corner at `at` (y, x) of the room left. With a black
    `background` it is a shrink into black bars."""
    h, w = background.shape[:2]
    ih, iw = max(2, int(round(h * share))), max(2, int(round(w * share)))
    small = cv2.resize(image, (iw, ih), interpolation=cv2.INTER_AREA)
    top, left = int(round((h - ih) * at[0])), int(round((w - iw) * at[1]))
    out = background.copy()
    out[top : top + ih, left : left + iw] = small
    return out


def other_footage(shape: tuple[int, ...], index: int = 0) -> np.ndarray:
    """A background from a photograph no test marks or registers (scikit-image's `grass`),
    covering `shape` and panning a pixel a frame: the "other footage" a copy is inset into."""
    from watermark.testimages import photograph

    picture = photograph("grass")
    h, w = shape[:2]
    f = 1.2 * max(h / picture.shape[0], w / picture.shape[1])
    big = cv2.resize(picture, (int(np.ceil(picture.shape[1] * f)), int(np.ceil(picture.shape[0] * f))))
    x = index % max(1, big.shape[1] - w)
    out = big[:h, x : x + w]
    if len(shape) == 3 and out.ndim == 2:
        out = np.repeat(out[..., None], shape[2], axis=2)
    return np.ascontiguousarray(out)


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
    "crop25each+jpeg50": lambda im: jpeg(crop_borders(im, 0.25, 0.25, 0.25, 0.25), 50),
    "crop-asym+jpeg50": lambda im: jpeg(crop_borders(im, 0.25, 0.05, 0.08, 0.22), 50),
    "pip40": lambda im: inset(im, other_footage(im.shape), 0.4),
    "pip60": lambda im: inset(im, other_footage(im.shape), 0.6, (0.7, 0.2)),
    "bars70": lambda im: inset(im, np.zeros_like(im), 0.7, (0.5, 0.5)),
    "mirror": mirror,
    "aspect4:3": lambda im: reaspect(im, 0.75),
    "aspect21:9": lambda im: reaspect(im, 21 / 16),
    "vertical9:16": vertical,
}
"""The named attacks the tests and the benchmark run, single and combined."""

GEOMETRY_ATTACKS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "camcorder": camcorder,
}
"""Geometry beyond similarity: a camera in a cinema. Keystone and lens distortion need a
fitted perspective, not one affine lattice or windows, and the mark is too faint at 480
lines for that perspective to be found from the mark itself; `watermark.perspective`
reads along the screen's corners, given (`camcorder_screen` stands in for an
investigator's clicks) or found from the picture's outline against the dark around it
(`watermark.screens`, whose docstring has the measured rates).
Kept apart from ATTACKS (mirror, other aspects, the 9:16 column, heavy crops,
picture-in-picture, bars), which the whole-frame and window readings take."""
