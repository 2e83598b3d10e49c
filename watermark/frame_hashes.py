"""Frame hashes for matching: what the matcher stores for a registered work and asks of a suspect copy.

One global hash per frame does not survive what pirates do to a picture: measured on the
bundled photographs, a 10 % crop from each border, letterbox bars or a mirror image move
a frame's pHash further than two unrelated photographs are apart. So each frame is hashed
after three normalisations, chosen by measurement (benchmarks/match.py):

* black bars (letterbox, pillarbox, or both) are trimmed first, on both sides of the match;
* a registered frame is hashed whole and as its centre CENTRE (a crop of 10 % from each
  border), so a copy cropped by up to that much still meets a frame of its own size;
* a suspect frame is hashed whole, as its centre QUERY_CENTRE and as its centre CENTRE, and
  mirrored whole and centre QUERY_CENTRE, so a mirrored copy, one cropped by half as much, or
  one with a logo near a corner, meets one of the stored variants too.

The hash is imagehash's 64-bit pHash of the picture's luma. Nearly flat pictures (black
frames, fades, plain title cards) hash to bits that say nothing about them: their hashes
are marked unusable and neither stored nor asked for.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import imagehash
import numpy as np
from PIL import Image

from watermark.errors import WatermarkError

HASH_BYTES = 8  # 64-bit pHash
WORK_SIZE = 256  # pixels on the longer side at which bars are found and variants cut
CENTRE = 0.8  # registered frames are also hashed as their centre 80 %: 10 % off each border
QUERY_CENTRE = 0.89  # suspect frames as their centre 89 %: a copy cropped 5 % a border meets CENTRE
BAR_LEVEL = 40  # a border row or column whose luma stays at or below this is a black bar
BAR_SPREAD = 12  # ... when it varies by no more than this along its length
MAX_BAR = 0.35  # at most this share of a side is taken as a bar
MIN_SPREAD = 6.0  # luma standard deviation below which a picture is too flat to match on

REGISTERED_VARIANTS = ("whole", "centre80")
QUERY_VARIANTS = ("whole", "centre89", "centre80", "mirror", "mirror-centre89")


@dataclass(frozen=True)
class FrameHashes:
    """The hashes of one picture, one per variant (None where the picture is too flat)."""

    variants: tuple[str, ...]
    hashes: tuple[bytes, ...] | None

    @property
    def usable(self) -> bool:
        return self.hashes is not None


def small_luma(rgb_or_grey: np.ndarray) -> np.ndarray:
    """The picture's luma, area-scaled so its longer side is WORK_SIZE (never scaled up)."""
    if not isinstance(rgb_or_grey, np.ndarray) or rgb_or_grey.dtype != np.uint8:
        raise WatermarkError("expected a uint8 picture")
    image = rgb_or_grey
    if image.ndim == 3 and image.shape[2] in (3, 4):
        image = cv2.cvtColor(image[..., :3], cv2.COLOR_RGB2GRAY)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    elif image.ndim != 2:
        raise WatermarkError(f"expected a grey, RGB or RGBA picture, got shape {image.shape}")
    h, w = image.shape
    if min(h, w) < 16:
        raise WatermarkError(f"a picture of {w} x {h} is too small to hash (at least 16 pixels a side)")
    size = thumbnail_size(h, w)
    if size != (w, h):
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(image)


def thumbnail_size(h: int, w: int) -> tuple[int, int]:
    """(width, height) with the longer side at most WORK_SIZE: the size pictures are hashed at."""
    scale = min(1.0, WORK_SIZE / max(h, w))
    return max(16, round(w * scale)), max(16, round(h * scale))


def _bar_lines(lines: np.ndarray) -> int:
    """How many of the leading lines (rows of `lines`) are black bar."""
    limit = int(len(lines) * MAX_BAR)
    dark = (lines.max(axis=1) <= BAR_LEVEL) & (np.ptp(lines, axis=1) <= BAR_SPREAD)
    n = 0
    while n < limit and dark[n]:
        n += 1
    return n


def trim_bars(luma: np.ndarray) -> np.ndarray:
    """The picture without black bars along any of its four borders."""
    top = _bar_lines(luma)
    bottom = _bar_lines(luma[::-1])
    left = _bar_lines(luma.T)
    right = _bar_lines(luma.T[::-1])
    h, w = luma.shape
    inner = luma[top : h - bottom, left : w - right]
    if min(inner.shape) < 16 or inner.max() <= BAR_LEVEL:
        return luma  # all dark: a black frame, not a picture between bars
    return inner


def centre(luma: np.ndarray, keep: float) -> np.ndarray:
    h, w = luma.shape
    dh, dw = round(h * (1 - keep) / 2), round(w * (1 - keep) / 2)
    return luma[dh : h - dh, dw : w - dw]


def phash(luma: np.ndarray) -> bytes:
    """imagehash's pHash of a grey picture, as 8 bytes (row-major bits, first bit highest)."""
    bits = imagehash.phash(Image.fromarray(luma)).hash
    return np.packbits(bits.reshape(-1)).tobytes()


_VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "whole": lambda luma: luma,
    "centre80": lambda luma: centre(luma, CENTRE),
    "centre89": lambda luma: centre(luma, QUERY_CENTRE),
    "mirror": lambda luma: luma[:, ::-1],
    "mirror-centre89": lambda luma: centre(luma, QUERY_CENTRE)[:, ::-1],
}


def hash_picture(picture: np.ndarray, variants: tuple[str, ...] = REGISTERED_VARIANTS) -> FrameHashes:
    """The hashes of one picture (uint8 grey, RGB or RGBA) for the given variants."""
    luma = trim_bars(small_luma(picture))
    if float(luma.std()) < MIN_SPREAD:
        return FrameHashes(variants, None)
    unknown = set(variants) - set(_VARIANTS)
    if unknown:
        raise WatermarkError(f"unknown variants {sorted(unknown)}")
    return FrameHashes(variants, tuple(phash(np.ascontiguousarray(_VARIANTS[v](luma))) for v in variants))
