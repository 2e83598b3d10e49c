"""Frame hashes for matching: what the matcher stores for a registered work and asks of a suspect copy.

One global hash per frame does not survive what pirates do to a picture: measured on the
bundled photographs, a 10 % crop from each border, letterbox bars or a mirror image move
a frame's pHash further than two unrelated photographs are apart. So each frame is hashed
after three normalisations, chosen by measurement (benchmarks/match.py):

* black bars (letterbox, pillarbox, or both) are trimmed first, on both sides of the match;
* a registered frame is hashed whole, as its centre CENTRE (a crop of 10 % from each
  border) and as its centre half (25 % off each border), so a copy cropped by up to that
  much still meets a frame of its own size, and as its centre 9:16 column (`column`), the
  part a short-video platform keeps of a landscape picture: a third of its width, which
  no whole-frame hash of the copy comes near;
* a suspect frame is hashed whole, as its centre QUERY_CENTRE and as its centre CENTRE, and
  mirrored whole and centre QUERY_CENTRE, so a mirrored copy, one cropped by half as much, or
  one with a logo near a corner, meets one of the stored variants too;
* ... and as windows of WINDOW_SCALES of each side on a WINDOW_STEPS x WINDOW_STEPS grid, so
  that a copy cropped more off some borders than others (a quarter off the top, a twentieth
  off the bottom) holds a window close to a stored centre half: pHash forgives a shift of a
  few percent of the picture, not a crop a quarter off centre;
* ... and as the rectangle of a picture-in-picture (`find_inset`), straight and mirrored: the
  four edges that stay put over INSET_BLOCK frames while the pictures on both sides change.
  Where there is none (or too few frames to tell), the inset variants hash the whole picture.

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
import scipy.fftpack
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

WINDOW_SCALES = (0.7,)  # suspect frames are also hashed as windows of these shares of each side ...
WINDOW_STEPS = 5  # ... at this many positions along each side (first to last, evenly apart)
INSET_BLOCK = 20  # frames over which a picture-in-picture rectangle is looked for (10 s at 2 a second)
INSET_MIN_FRAMES = 4  # fewer frames than this (a still, say) are not searched for an inset
INSET_SIDE = 0.3  # an inset is at least this share of each side of the frame
INSET_EDGE_STEP = 8  # luma step across a pixel border that counts as an edge
INSET_LINES = 12  # candidate lines per direction, strongest first
INSET_MIN_SCORE = 0.1  # an inset's weakest side must be an edge this much more often than the frame's median

REGISTERED_VARIANTS = ("whole", "centre80", "centre50", "column916")
EARLIER_REGISTERED_VARIANTS = (("whole", "centre80", "centre50"),)  # what older clients hashed: still taken
WINDOW_VARIANTS = tuple(
    f"window{round(100 * s)}-{r}{c}" for s in WINDOW_SCALES for r in range(WINDOW_STEPS) for c in range(WINDOW_STEPS)
)
QUERY_VARIANTS = (
    "whole",
    "centre89",
    "centre80",
    "mirror",
    "mirror-centre89",
    "inset",
    "inset-mirror",
    *WINDOW_VARIANTS,
)


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


def column(luma: np.ndarray, width: int = 9, height: int = 16) -> np.ndarray:
    """The centre column of `width`:`height` (the whole picture where it is that narrow already)."""
    h, w = luma.shape
    keep = min(w, max(1, round(h * width / height)))
    left = (w - keep) // 2
    return luma[:, left : left + keep]


def phash(luma: np.ndarray) -> bytes:
    """imagehash's pHash of a grey picture, as 8 bytes (row-major bits, first bit highest)."""
    bits = imagehash.phash(Image.fromarray(luma)).hash
    return np.packbits(bits.reshape(-1)).tobytes()


def phashes(lumas: list[np.ndarray]) -> list[bytes]:
    """`phash` of many grey pictures at once, bit for bit the same: each is thumbnailed by PIL
    as imagehash does, and the DCTs run over the whole stack (a third of the time for 50)."""
    if not lumas:
        return []
    thumbs = np.stack(
        [
            np.asarray(Image.fromarray(np.ascontiguousarray(luma)).resize((32, 32), Image.Resampling.LANCZOS))
            for luma in lumas
        ]
    )
    dct = scipy.fftpack.dct(scipy.fftpack.dct(thumbs, axis=1), axis=2)[:, :8, :8].reshape(len(lumas), 64)
    bits = dct > np.median(dct, axis=1, keepdims=True)
    return [row.tobytes() for row in np.packbits(bits, axis=1)]


def window(luma: np.ndarray, share: float, row: int, col: int) -> np.ndarray:
    """The window of `share` of each side at grid position (row, col) of WINDOW_STEPS a side."""
    h, w = luma.shape
    dh, dw = round(h * (1 - share)), round(w * (1 - share))
    top, left = round(dh * row / (WINDOW_STEPS - 1)), round(dw * col / (WINDOW_STEPS - 1))
    return luma[top : top + h - dh, left : left + w - dw]


Rect = tuple[int, int, int, int]  # top, bottom, left, right (rows and columns of a small luma)

_VARIANTS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "whole": lambda luma: luma,
    "centre80": lambda luma: centre(luma, CENTRE),
    "centre50": lambda luma: centre(luma, 0.5),
    "column916": column,
    "centre89": lambda luma: centre(luma, QUERY_CENTRE),
    "mirror": lambda luma: luma[:, ::-1],
    "mirror-centre89": lambda luma: centre(luma, QUERY_CENTRE)[:, ::-1],
    **{
        name: (lambda share, r, c: lambda luma: window(luma, share, r, c))(
            int(name[6:8]) / 100, int(name[-2]), int(name[-1])
        )
        for name in WINDOW_VARIANTS
    },
}
_INSET_VARIANTS = {"inset": lambda luma: luma, "inset-mirror": lambda luma: luma[:, ::-1]}


def _persistent_edges(lumas: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """For each pixel, the share of frames in which it is a local maximum of the luma step
    across columns (a vertical edge) and across rows (a horizontal one)."""
    vertical = np.zeros(lumas[0].shape, np.float32)
    horizontal = np.zeros_like(vertical)
    for luma in lumas:
        signed = luma.astype(np.int16)
        gx = np.zeros_like(signed)
        gx[:, 1:] = np.abs(np.diff(signed, axis=1))
        gy = np.zeros_like(signed)
        gy[1:] = np.abs(np.diff(signed, axis=0))
        px, py = np.pad(gx, ((0, 0), (1, 1))), np.pad(gy, ((1, 1), (0, 0)))
        vertical += (gx >= INSET_EDGE_STEP) & (gx >= px[:, :-2]) & (gx >= px[:, 2:])
        horizontal += (gy >= INSET_EDGE_STEP) & (gy >= py[:-2]) & (gy >= py[2:])
    vertical /= len(lumas)
    horizontal /= len(lumas)
    vertical[:, :-1] = np.maximum(vertical[:, :-1], vertical[:, 1:])  # a scaled border spreads over two
    horizontal[:-1] = np.maximum(horizontal[:-1], horizontal[1:])
    vertical[:, :3] = vertical[:, -2:] = horizontal[:3] = horizontal[-2:] = 0  # the frame's own border, and scaling's
    return vertical, horizontal


def _lines(edges: np.ndarray, span: int) -> list[int]:
    """The INSET_LINES columns of `edges` with the most edge over some `span` rows, at least 3 apart."""
    sums = np.cumsum(np.pad(edges, ((1, 0), (0, 0))), axis=0)
    strength = (sums[span:] - sums[:-span]).max(axis=0)
    picked: list[int] = []
    for x in np.argsort(-strength, kind="stable").tolist():
        if all(abs(x - p) > 2 for p in picked):
            picked.append(x)
            if len(picked) == INSET_LINES:
                break
    return sorted(picked)


def find_inset(lumas: list[np.ndarray]) -> Rect | None:
    """The rectangle of a picture shown inside other footage, if the frames (small lumas of one
    size) have one: the straight edges that stay put while the pictures on both sides of
    them change (two of them, in a corner of the frame; four anywhere else). Texture and a
    shot's own edges move or cut away; an inset's border does not. None when no rectangle's
    weakest side stands INSET_MIN_SCORE above the frame's median, or there are too few
    frames to tell."""
    if len(lumas) < INSET_MIN_FRAMES:
        return None
    vertical, horizontal = _persistent_edges(lumas)
    h, w = vertical.shape
    xs = [0, *_lines(vertical, int(INSET_SIDE * h)), w]  # the frame's own sides close an inset in a corner
    ys = [0, *_lines(horizontal.T, int(INSET_SIDE * w)), h]
    down = np.cumsum(np.pad(vertical, ((1, 0), (0, 0))), axis=0)  # down[y, x]: edge in column x above row y
    across = np.cumsum(np.pad(horizontal, ((0, 0), (1, 0))), axis=1)
    floor = max(float(np.median(vertical)), float(np.median(horizontal)))
    best: dict[int, tuple[float, Rect]] = {}  # by sides inside the frame: the best rectangle
    for i, left in enumerate(xs):
        for right in (x for x in xs[i + 1 :] if x - left >= INSET_SIDE * w and (left, x) != (0, w)):
            for j, top in enumerate(ys):
                for bottom in (y for y in ys[j + 1 :] if y - top >= INSET_SIDE * h and (top, y) != (0, h)):
                    sides = [(down[bottom, x] - down[top, x]) / (bottom - top) for x in (left, right) if 0 < x < w]
                    sides += [(across[y, right] - across[y, left]) / (right - left) for y in (top, bottom) if 0 < y < h]
                    score = min(sides) - floor  # at least one side each way is inside the frame
                    if score > best.get(len(sides), (INSET_MIN_SCORE, None))[0]:
                        best[len(sides)] = score, (top, bottom, left, right)
    if not best:
        return None
    top, bottom, left, right = best[max(best)][1]  # a side fewer scores higher: the most sides seen win
    return top + (top > 0), bottom - (bottom < h), left + (left > 0), right - (right < w)  # inside the border line


def hash_picture(picture: np.ndarray, variants: tuple[str, ...] = REGISTERED_VARIANTS) -> FrameHashes:
    """The hashes of one picture (uint8 grey, RGB or RGBA) for the given variants."""
    return hash_lumas([small_luma(picture)], variants)[0]


def hash_lumas(lumas: list[np.ndarray], variants: tuple[str, ...], inset: bool = True) -> list[FrameHashes]:
    """The hashes of consecutive frames (`small_luma`s of one size) for the given variants;
    the inset variants hash the picture-in-picture rectangle `find_inset` sees over them
    (the whole picture, bars trimmed, when there is none)."""
    unknown = set(variants) - set(_VARIANTS) - set(_INSET_VARIANTS)
    if unknown:
        raise WatermarkError(f"unknown variants {sorted(unknown)}")
    rect = find_inset(lumas) if inset and set(variants) & set(_INSET_VARIANTS) else None
    out = []
    for small in lumas:
        luma = trim_bars(small)
        if float(luma.std()) < MIN_SPREAD:
            out.append(FrameHashes(variants, None))
            continue
        inner = luma if rect is None else small[rect[0] : rect[1], rect[2] : rect[3]]
        pictures = [_INSET_VARIANTS[v](inner) if v in _INSET_VARIANTS else _VARIANTS[v](luma) for v in variants]
        out.append(FrameHashes(variants, tuple(phashes(pictures))))
    return out
