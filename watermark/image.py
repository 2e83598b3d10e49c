"""Invisible keyed watermark in the luminance of still images and video frames (`watermark.video`).

Embedding
    A tile of TILE_CELLS x TILE_CELLS cells is drawn from the key: SYNC_WEIGHT * S + MSG_WEIGHT * M,
    where S is a keyed +/-1 sync pattern and M carries the 258 coded bits of the payload
    (see `watermark.payload`): a keyed layout assigns every cell to one coded bit, and the
    cell's sign is the bit's antipodal symbol times a keyed chip (which also scrambles the
    coded bits). The tile has unit RMS. Each cell spans `cell_size(h, w)` pixels
    (about min(h, w) / 256, at least 2), so the tile is a fixed fraction of the frame and
    is repeated over the whole of it. The tile is scaled per pixel by a masking map (local
    standard deviation of the luminance: strong in texture, weak in flat areas), normalised
    so that the mark's RMS amplitude is `strength` grey levels, and added to Y (BT.601). An
    equal change to R, G and B changes Y by that much and leaves Cb and Cr as they were.
    The repeated tile (`pattern`) depends only on size, payload, key and cell, so it is
    cached; a frame then costs the masking (box filters) and one multiply-add (`mark_luma`).

Detection, in two stages so that soft values of many frames can be summed first
    `soft_bits(y, key)`: high-pass and locally normalise Y; the tiling shows up as a
    lattice of peaks in the autocorrelation, which gives the tile's period and rotation in
    this image (a search over periods and angles, then a least-squares fit of an affine
    lattice to the peaks, so scaling, rotation and slight shear keep synchronisation).
    Besides these square lattices, two searches add candidates: rectangular lattices, the
    x and y periods apart (ratio 1.04 to 2 either way), for a picture shown at another
    aspect ratio (16:9 squeezed to 4:3, stretched to 21:9), tried only when they score
    EXTRA_MARGIN times the best square lattice (the true lattice of those copies measured
    3.2 to 4 times; chance lattices where the mark is faint or absent, 1.1 to 1.4); and
    the best lattice of period 0.7 to LONG_PERIOD of the shorter side, always tried, for
    a narrow column cut out of the picture (9:16) whose tile is nearly as wide as the
    frame (on a faint copy it scores only a little above the usual range's best). Fold
    every pixel modulo the lattice into one tile (averaging all tiles, which also makes
    cropping harmless); FFT cross-correlation of the folded tile with S gives the cyclic
    offset, and the peak's height over the surface's robust spread is the sync strength. A copy mirrored left to
    right folds into the mirrored tile, so each folded tile is correlated as it is and
    flipped along x. Cells read at the best offset give one soft value per coded bit.
    `decode(soft)`: soft-decision Viterbi and CRC-32 (`watermark.payload.decode`).
    The reading itself splits at the key: `residual` and `fold_candidates` (lattice search
    and folding, most of the cost) need no key, `read` does the sync and soft values per
    key, so `detect_many` tries many keys for little more than one, and video sums the
    residuals of many frames before folding once.

False positives
    `detect` tries LATTICE_CANDIDATES square lattices, LONG_CANDIDATES long-period one
    and up to RECT_CANDIDATES rectangular ones, each fold read as it is and mirrored (8
    to 12 hypotheses), but
    decodes exactly one per image (the one of strongest sync), and only if the sync
    strength reaches SYNC_THRESHOLD. More hypotheses raise the best sync of an unmarked
    image a little, never the number of decodes. Measured over 640 reads (the 5
    photographs, native and 1080p, unmarked and marked under another key, as they are,
    at JPEG 60, mirrored and (1080p) at 4:3 and 21:9, each under 8 keys it was not marked
    with): with the 3 square lattices alone, mean 4.7, max 7.1; as now, mean 5.1, max
    8.0, still under SYNC_THRESHOLD. Viterbi's output on content without this key's mark
    is, as far as the CRC can tell, random bits, which pass the 32-bit CRC with
    probability 2**-32. The designed false-positive probability per image is therefore at most
    1 decode x 2**-32 x P(sync >= SYNC_THRESHOLD | no mark) <= 2**-32 ~= 2.3e-10 (taking
    P(sync) as 1; it is far lower), i.e. under one false read in four billion unmarked or
    foreign-keyed images. Without the sync gate, 0 of those 640 reads passed the CRC.
    With k keys (`detect_many`, and video), each key gets its own sync and at most one
    decode, and a payload is reported if any passes: the bound is k x 2**-32 per image
    (2.3e-8 for 100 keys). Reporting the matching key with the payload costs nothing more.
    When the whole frame gives no payload, `detect_many` reads the same residual again in
    windows (`watermark.regions`: a copy inset in other footage), with at most one more
    decode per key at a higher sync threshold: the bound per call is 2k x 2**-32. Given
    a `screen` (a copy recorded off a screen), or finding one (`watermark.screens`: the
    picture's outline against the dark around it), one more decode per key along it, or
    along each of at most two outlines found (`watermark.perspective`): 4k x 2**-32.

Scope
    Robust to every attack in `watermark.attacks.ATTACKS` on 1080p frames, mirroring,
    aspect changes (4:3, 21:9) and a 9:16 column scaled up among them. The camcorder of
    `watermark.attacks.GEOMETRY_ATTACKS` (keystone and lens distortion, 480 lines) reads
    only along the screen's corners (`watermark.perspective`): given as `screen`, or
    found where two sides that meet, three or four show against the dark around it
    (`watermark.screens`, with its measured rates): the lattice search assumes
    one affine lattice over the whole image; for its
    other classes see the benchmark (docs/watermark-benchmark.md). Aspect changes combined with a
    rotation (a sheared lattice) are found only as far as the least-squares fit reaches
    from the nearest square or rectangular lattice. Small images (a few hundred pixels,
    so 2-pixel cells and only a few tiles) are read back and survive value changes, but
    not reliably JPEG 50, 50 % downscale, blur or the screen recording.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

import cv2
import numpy as np
from scipy import fft, ndimage

from watermark import payload as framing
from watermark.errors import WatermarkError
from watermark.keys import cell_layout, check_key, sign_pattern

if TYPE_CHECKING:
    from watermark.perspective import Screen

TILE_CELLS = 64  # the tile is TILE_CELLS x TILE_CELLS cells
MIN_CELL = 2  # pixels per cell side, at least
SYNC_WEIGHT = 0.45
MSG_WEIGHT = float(np.sqrt(1 - SYNC_WEIGHT**2))
DEFAULT_STRENGTH = 1.9  # RMS of the mark in grey levels: PSNR ~ 42 dB
SYNC_THRESHOLD = 9.0  # sync strength (robust z-score of the sync peak) needed to decode; unmarked: ~4.5, max seen 7.5
BINS = 4  # folding resolution: bins per cell side
MIN_PERIOD = 0.8 * TILE_CELLS * 1.0  # smallest tile period (pixels) searched for
MAX_ANGLE = 6.0  # degrees of rotation searched for, either way
LATTICE_CANDIDATES = 3  # square lattices tried (the one whose sync is strongest is read)
RECT_CANDIDATES = 2  # rectangular lattices (another aspect ratio) tried besides
MAX_ASPECT = 2.0  # ratio of the x and y periods searched for, either way
LONG_PERIOD = 0.88  # longest tile period searched for, as a share of the frame's shorter side
LONG_CANDIDATES = 1  # lattices of period 0.7 to LONG_PERIOD times the shorter side tried besides
ASPECT_MIN_RATIO = 1.04  # rectangular lattices closer to square are left to the square search
EXTRA_MARGIN = 1.5  # rectangular lattices are tried if they score this many times the best square one
BLOCK_GRID = 16  # pixels: period of the coding block grid (JPEG 8, H.264 4/8/16 divide it)
GRID_NOTCH = 2  # spectral bins either side of the block grid's lines left out of the lattice search


@dataclass(frozen=True)
class Detection:
    payload: int | None  # None: no mark (for this key)
    confidence: float  # correlation of the soft values with the decoded codeword, 0..1
    sync: float  # sync strength (robust z-score); SYNC_THRESHOLD or more to decode
    key_index: int | None = None  # which of the keys tried matched (None: no payload)


# ---------------------------------------------------------------- inputs


def _check_image(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise WatermarkError(f"the image must be a numpy array, not {type(image).__name__}")
    if image.dtype != np.uint8:
        raise WatermarkError(f"the image must be uint8, not {image.dtype}")
    if not (image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (1, 3, 4))):
        raise WatermarkError(
            f"the image must be H x W (grey), H x W x 3 (RGB) or H x W x 4 (RGBA); got shape {image.shape}"
        )
    h, w = image.shape[:2]
    if min(h, w) < TILE_CELLS * MIN_CELL:
        raise WatermarkError(
            f"the image ({w} x {h}) is smaller than one watermark tile "
            f"({TILE_CELLS * MIN_CELL} x {TILE_CELLS * MIN_CELL} pixels)"
        )
    return image


def luma(image: np.ndarray) -> np.ndarray:
    """BT.601 luminance Y (float32, 0..255) of a grey, RGB or RGBA uint8 image."""
    image = _check_image(image)
    if image.ndim == 2:
        return image.astype(np.float32)
    if image.shape[2] == 1:
        return image[..., 0].astype(np.float32)
    rgb = image[..., :3].astype(np.float32)
    return rgb @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def cell_size(h: int, w: int) -> int:
    return max(MIN_CELL, int(round(min(h, w) / 256)))


# ---------------------------------------------------------------- patterns


def _sync(key: bytes) -> np.ndarray:
    return sign_pattern(key, "sync", (TILE_CELLS, TILE_CELLS))


def _chips(key: bytes) -> np.ndarray:
    return sign_pattern(key, "chips", (TILE_CELLS, TILE_CELLS))


def _layout(key: bytes) -> np.ndarray:
    return cell_layout(key, TILE_CELLS * TILE_CELLS, framing.CODED_BITS).reshape(TILE_CELLS, TILE_CELLS)


def tile(payload: int, key: bytes) -> np.ndarray:
    """The TILE_CELLS x TILE_CELLS cell values (unit RMS) for a payload under a key."""
    key = check_key(key)
    message = framing.symbols(payload)[_layout(key)] * _chips(key)
    cells: np.ndarray = (SYNC_WEIGHT * _sync(key) + MSG_WEIGHT * message).astype(np.float32)
    return cells


# ---------------------------------------------------------------- embedding


@functools.lru_cache(maxsize=4)
def pattern(h: int, w: int, payload: int, key: bytes, cell: int) -> np.ndarray:
    """The tile for (payload, key), cells of `cell` pixels, repeated over an h x w plane
    (float32, read-only). It depends on nothing else, so a video computes it once; the
    cache keeps the last few for callers that mark frame after frame."""
    cells = tile(payload, key)
    block = np.repeat(np.repeat(cells, cell, axis=0), cell, axis=1)
    reps = (-(-h // block.shape[0]), -(-w // block.shape[1]))
    plane = np.ascontiguousarray(np.tile(block, reps)[:h, :w])
    plane.setflags(write=False)
    return plane


def local_stats(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of `y` (uint8 or float32) over the 7x7 window around each pixel
    (float32): what `masking` weighs the mark by, and what SSIM compares (`watermark.ssim`)."""
    mean = cv2.boxFilter(y, cv2.CV_32F, (7, 7), borderType=cv2.BORDER_REFLECT)
    square = cv2.sqrBoxFilter(y, cv2.CV_32F, (7, 7), borderType=cv2.BORDER_REFLECT)
    return mean, np.maximum(square - mean * mean, 0.0, out=square)


def masking(
    y: np.ndarray, max_gain: float | None = None, stats: tuple[np.ndarray, np.ndarray] | None = None
) -> np.ndarray:
    """Per-pixel weight of the mark, RMS 1: the local standard deviation of Y (7x7),
    floored so that flat areas still carry a little and capped so edges do not take all.
    Box filters in float32 and a median over every 4th pixel each way: a few ms a 1080p
    frame, which is what lets video be marked faster than it plays. `max_gain` bounds the
    factor that scales the local deviation to RMS 1: a nearly flat picture (a fade, a dark
    scene) then carries less than RMS 1 instead of a mark many times its own texture.
    `stats`: `local_stats(y)`, when the caller has them already."""
    y = np.asarray(y)
    if y.dtype not in (np.uint8, np.float32):
        y = y.astype(np.float32)
    _, var = local_stats(y) if stats is None else stats
    std = cv2.sqrt(var)
    cap = 6.0 * max(float(np.median(std[::4, ::4])), 1.0)
    weight = np.clip(std, 1.0, cap, out=std)
    gain = np.sqrt(weight.size) / (cv2.norm(weight) + 1e-12)
    if max_gain is not None:
        gain = min(gain, max_gain)
    return weight * np.float32(gain)


def mark_delta(
    y: np.ndarray,
    plane: np.ndarray,
    strength: float,
    max_gain: float | None = None,
    stats: tuple[np.ndarray, np.ndarray] | None = None,
) -> np.ndarray:
    """The change to add to luminance `y` (H x W, uint8 or float32): the repeated tile
    `plane` weighted by `masking(y, max_gain, stats)`, RMS `strength` grey levels (float32)."""
    return cv2.multiply(masking(y, max_gain, stats), plane, scale=float(strength))


def mark_luma(
    y: np.ndarray, plane: np.ndarray, strength: float = DEFAULT_STRENGTH, max_gain: float | None = None
) -> np.ndarray:
    """A uint8 luminance plane `y` with the mark added (rounded, clipped): a video frame's
    whole per-frame cost once `pattern` is known."""
    return cv2.add(y, mark_delta(y, plane, strength, max_gain), dtype=cv2.CV_8U)


def _check_cell(cell: int) -> int:
    if isinstance(cell, bool) or not isinstance(cell, (int, np.integer)) or cell < MIN_CELL:
        raise WatermarkError(f"the cell size must be an int of at least {MIN_CELL} pixels (got {cell!r})")
    return int(cell)


def embed(
    image: np.ndarray, payload: int, key: bytes, strength: float = DEFAULT_STRENGTH, cell: int | None = None
) -> np.ndarray:
    """A copy of `image` (uint8 grey, RGB or RGBA; alpha kept) carrying `payload` (< 2**48)
    under `key`, with a mark of RMS `strength` grey levels in luminance, in cells of
    `cell` pixels (default `cell_size(h, w)`)."""
    image = _check_image(image)
    key = check_key(key)
    payload = framing.check_payload(payload)
    if not strength > 0:
        raise WatermarkError(f"the strength must be positive (got {strength})")
    h, w = image.shape[:2]
    c = cell_size(h, w) if cell is None else _check_cell(cell)
    plane = pattern(h, w, payload, key, c)
    if image.ndim == 2 or image.shape[2] == 1:
        return mark_luma(image.reshape(h, w), plane, strength).reshape(image.shape)
    colour = np.ascontiguousarray(image[..., :3])
    delta = mark_delta(cv2.cvtColor(colour, cv2.COLOR_RGB2GRAY), plane, strength)
    marked = cv2.add(colour, cv2.cvtColor(delta, cv2.COLOR_GRAY2RGB), dtype=cv2.CV_8U)
    if image.shape[2] == 3:
        return marked
    out = image.copy()
    out[..., :3] = marked
    return out


# ---------------------------------------------------------------- detection


def residual(y: np.ndarray, high_pass: float = 1.5, spread: float = 6.0) -> np.ndarray:
    """Y with the host image mostly removed: high-pass (Y less its Gaussian blur of sigma
    `high_pass`), then normalised by its local RMS (Gaussian of sigma `spread`). Residuals
    of frames carrying the same mark may be summed before `fold_candidates`."""
    y = np.asarray(y, dtype=np.float32)
    r = y - cv2.GaussianBlur(y, (0, 0), high_pass, borderType=cv2.BORDER_REFLECT)
    local = cv2.sqrt(cv2.GaussianBlur(r * r, (0, 0), spread, borderType=cv2.BORDER_REFLECT)) + 1.0
    return np.clip(r / local, -3.0, 3.0)


def _grid_bins(n: int, bins: int) -> np.ndarray:
    """Which of the first `bins` bins of an n-point FFT lie within GRID_NOTCH bins of a
    multiple of 1/BLOCK_GRID cycle per pixel."""
    step = n / BLOCK_GRID  # bins between multiples
    f = np.arange(bins) / step
    return np.abs(f - np.round(f)) * step <= GRID_NOTCH


def _autocorrelation(r: np.ndarray, reach: int, block_grid: bool = False) -> np.ndarray:
    """Whitened, peak-sharpened linear autocorrelation of r for lags |dy|, |dx| <= reach,
    centred on lag 0; with `block_grid`, without the lines of a coding block grid."""
    h, w = r.shape
    shape = (fft.next_fast_len(h + reach + 1), fft.next_fast_len(w + reach + 1))
    spec = fft.rfft2(r - r.mean(), s=shape, workers=-1)
    power = spec.real**2 + spec.imag**2
    # Whiten: the tiling puts narrow lines in the spectrum, the host's energy is broad.
    power /= ndimage.uniform_filter(power, 15, mode="wrap") + 1e-12
    if block_grid:
        # Strongly compressed video: H.264 blocks (4, 8, 16 px) leave lines at multiples of
        # 1/16 cycle per pixel along the axes, whose lattices would outscore a faint mark.
        # Set them to what whitened noise would give; the mark's points off them remain.
        # (Not for stills: there it costs more of a 2-pixel-cell mark than it saves.)
        power[_grid_bins(shape[0], power.shape[0]), :] = 1.0
        power[:, _grid_bins(shape[1], power.shape[1])] = 1.0
    ac = fft.irfft2(power, s=shape, workers=-1)
    ac = np.roll(ac, (reach, reach), axis=(0, 1))[: 2 * reach + 1, : 2 * reach + 1]
    ac = ndimage.gaussian_filter(ac / ac[reach, reach], 1.0)
    # Keep the sharp peaks of the lattice, drop the broad correlation of the host.
    ac -= ndimage.gaussian_filter(ac, 3.0)
    peaks: np.ndarray = ac.astype(np.float32)
    return peaks


def _basis_score(ac: np.ndarray, reach: int, v1: np.ndarray, v2: np.ndarray, ridges: bool = False) -> np.ndarray:
    """Mean autocorrelation at v1, v2, v1+v2, v1-v2 of the lattices with basis vectors
    v1, v2 (each a (dy, dx) stack of equal-shaped arrays). With `ridges`, less its mean
    at the half-way points v1 +/- v2/2, v2 +/- v1/2: a grid of lines (coding blocks,
    rotated or scaled with the picture) correlates along whole ridges and scores as much
    there, the mark's random tile only at the lattice points."""
    shape = v1[0].shape

    def mean_at(points: Sequence[np.ndarray]) -> np.ndarray:  # each a (dy, dx) stack
        total: np.ndarray = np.zeros(shape)
        for dy, dx in points:
            coords = np.stack([dy.ravel() + reach, dx.ravel() + reach])
            total += ndimage.map_coordinates(ac, coords, order=1, mode="constant").reshape(shape)
        return total / len(points)

    score = mean_at((v1, v2, v1 + v2, v1 - v2))
    if ridges:
        score -= mean_at((v1 + v2 / 2, v1 - v2 / 2, v2 + v1 / 2, v2 - v1 / 2))
    return score


def _lattice_score(
    ac: np.ndarray, reach: int, periods: np.ndarray, angles: np.ndarray, ridges: bool = False
) -> np.ndarray:
    """`_basis_score` of square lattices (period, angle)."""
    p, a = np.meshgrid(periods, np.deg2rad(angles), indexing="ij")
    cos, sin = np.cos(a) * p, np.sin(a) * p
    v1 = np.stack([sin, cos])  # (dy, dx) of the first basis vector, near the x axis
    v2 = np.stack([cos, -sin])  # near the y axis
    return _basis_score(ac, reach, v1, v2, ridges)


def _refine(ac: np.ndarray, reach: int, basis: np.ndarray) -> np.ndarray:
    """Least-squares affine lattice (columns v1, v2 in (dy, dx)) through the sub-pixel
    autocorrelation peaks near the lattice points k*v1 + m*v2."""
    rows, targets, weights = [], [], []
    for k in range(-4, 5):
        for m in range(0, 5):
            if m == 0 and k <= 0:
                continue
            guess = basis @ np.array([k, m], dtype=np.float64)
            cy, cx = int(round(guess[0])) + reach, int(round(guess[1])) + reach
            if not (3 <= cy < ac.shape[0] - 3 and 3 <= cx < ac.shape[1] - 3):
                continue
            win = ac[cy - 3 : cy + 4, cx - 3 : cx + 4]
            iy, ix = np.unravel_index(np.argmax(win), win.shape)
            if not (1 <= iy <= 5 and 1 <= ix <= 5) or win[iy, ix] <= 0:
                continue
            py, px = cy - 3 + iy, cx - 3 + ix

            def vertex(a: float, b: float, c: float) -> float:
                d = a - 2 * b + c
                return 0.0 if d >= 0 else 0.5 * (a - c) / d

            sy = vertex(ac[py - 1, px], ac[py, px], ac[py + 1, px])
            sx = vertex(ac[py, px - 1], ac[py, px], ac[py, px + 1])
            rows.append((k, m))
            targets.append((py + sy - reach, px + sx - reach))
            weights.append(float(ac[py, px]))
    if len(rows) < 3:
        return basis
    a = np.array(rows, dtype=np.float64)
    t = np.array(targets)
    sw = np.sqrt(np.array(weights))[:, None]
    solution, *_ = np.linalg.lstsq(a * sw, t * sw, rcond=None)
    refined: np.ndarray = solution.T  # (2, 2): columns v1, v2
    if np.max(np.abs(refined - basis)) > 0.05 * np.linalg.norm(basis[:, 0]):
        return basis
    return refined


def _rectangular_score(ac: np.ndarray, reach: int, periods: np.ndarray, ridges: bool = False) -> np.ndarray:
    """`_lattice_score` of the axis-aligned rectangular lattices v1 = (0, px), v2 = (py, 0)
    for every pair of whole periods (rows py, columns px): what a picture scaled by
    different factors along x and y (another aspect ratio) makes of the square tile.
    Whole-pixel lags, so the autocorrelation is sliced, not interpolated."""
    p = np.rint(periods).astype(np.intp)
    py, px = p[:, None], p[None, :]
    c = reach
    score = (ac[c, c + px] + ac[c + py, c] + ac[c + py, c + px] + ac[c + py, c - px]) / 4
    if ridges:
        hy, hx = py // 2, px // 2
        score = score - (ac[c + hy, c + px] + ac[c - hy, c + px] + ac[c + py, c + hx] + ac[c + py, c - hx]) / 4
    out: np.ndarray = score
    return out


def _rectangular(
    ac: np.ndarray, reach: int, periods: np.ndarray, candidates: int, block_grid: bool
) -> list[tuple[float, np.ndarray]]:
    """Up to `candidates` rectangular lattices (score, basis) whose periods along x and y
    differ by ASPECT_MIN_RATIO or more (equal periods are the square search's), their
    ratio within MAX_ASPECT either way."""
    score = _rectangular_score(ac, reach, periods, block_grid)
    ratio = periods[:, None] / periods[None, :]
    allowed = (np.abs(np.log(ratio)) >= np.log(ASPECT_MIN_RATIO)) & (np.abs(np.log(ratio)) <= np.log(MAX_ASPECT))
    score = np.where(allowed, score, -np.inf)
    peaks = score == ndimage.maximum_filter(score, size=5, mode="nearest")
    order = np.argsort(np.where(peaks & allowed, score, -np.inf), axis=None)[::-1][:candidates]
    found = []
    for flat in order:
        i, j = np.unravel_index(flat, score.shape)
        if not np.isfinite(score[i, j]):
            break
        py, px = float(periods[i]), float(periods[j])
        # A multiple of either period scores as well; prefer the fundamental.
        for dy, dx in ((3, 3), (2, 2), (3, 1), (1, 3), (2, 1), (1, 2)):
            sy, sx = py / dy, px / dx
            if min(sy, sx) >= MIN_PERIOD:
                s = _rectangular_score(ac, reach, np.array([sy, sx]), block_grid)[0, 1]
                if s > 0.5 * score[i, j]:
                    py, px = float(round(sy)), float(round(sx))
                    break
        # Fine search (sub-pixel, interpolated) around the coarse optimum.
        fy, fx = np.meshgrid(np.arange(py - 2, py + 2.01, 0.25), np.arange(px - 2, px + 2.01, 0.25), indexing="ij")
        zero = np.zeros_like(fy)
        fine = _basis_score(ac, reach, np.stack([zero, fx]), np.stack([fy, zero]), block_grid)
        k = np.unravel_index(np.argmax(fine), fine.shape)
        basis = np.array([[0.0, fy[k]], [fx[k], 0.0]])
        found.append((float(score[i, j]), _refine(ac, reach, _refine(ac, reach, basis))))
    return found


def _lattices(r: np.ndarray, candidates: int = LATTICE_CANDIDATES, block_grid: bool = False) -> list[np.ndarray]:
    """Candidate tile lattices in this image, best first: 2x2 matrices whose columns are
    the (dy, dx) tile vectors, near the x and y axes. `candidates` from the search over
    square lattices (period, angle), then RECT_CANDIDATES rectangular ones (other aspect
    ratios)."""
    h, w = r.shape
    max_period = 0.7 * min(h, w)
    reach = int(min(h, w) * 0.9)
    ac = _autocorrelation(r, reach, block_grid)
    periods = np.arange(MIN_PERIOD, max_period, 1.0)
    coarse = np.arange(-MAX_ANGLE, MAX_ANGLE + 1e-9, 0.25)
    long = np.arange(periods[-1] + 1, LONG_PERIOD * min(h, w), 1.0)
    score = _lattice_score(ac, reach, np.concatenate([periods, long]), coarse, block_grid)
    n = len(periods) * len(coarse)

    def best(part: np.ndarray, count: int) -> list[int]:  # flat indices of its highest local maxima
        peaks = part == ndimage.maximum_filter(part, size=(9, 5), mode="nearest")
        ranked = np.where(peaks, part, -np.inf).ravel()
        return [int(k) for k in np.argsort(ranked)[::-1][:count] if np.isfinite(ranked[k])]

    order = best(score[: len(periods)], candidates)
    top = float(score.flat[order[0]])
    if LONG_CANDIDATES and len(long):
        # Tiles nearly as wide as the frame (a narrow column cut out of the picture and
        # scaled up): a period beyond the usual range, tried besides, never instead (and
        # always: on a faint copy it scores little above the usual range's best).
        order += [n + k for k in best(score[len(periods) :], LONG_CANDIDATES)]
    usual, periods = periods, np.concatenate([periods, long])
    found = []
    for flat in order:
        i, j = (int(k) for k in np.unravel_index(flat, score.shape))
        # The multiples of the true period score as well; prefer the fundamental.
        for div in (3, 2):
            sub = periods[i] / div
            if sub >= MIN_PERIOD:
                s = _lattice_score(ac, reach, np.array([sub]), np.array([coarse[j]]), block_grid)[0, 0]
                if s > 0.5 * score[i, j]:
                    i = int(np.argmin(np.abs(periods - sub)))
                    break
        # Fine search around the coarse optimum.
        p0, a0 = float(periods[i]), float(coarse[j])
        fine_p = np.arange(p0 - 2, p0 + 2.01, 0.25)
        fine_a = np.arange(a0 - 0.3, a0 + 0.301, 0.02)
        fine = _lattice_score(ac, reach, fine_p, fine_a, block_grid)
        fi, fj = np.unravel_index(np.argmax(fine), fine.shape)
        p, a = fine_p[fi], np.deg2rad(fine_a[fj])
        basis = np.array([[p * np.sin(a), p * np.cos(a)], [p * np.cos(a), -p * np.sin(a)]]).T
        found.append(_refine(ac, reach, _refine(ac, reach, basis)))
    # Rectangular lattices only when they clearly outscore the square ones: a wrong lattice
    # tried costs little time, but it may sync better than the right one by chance when the
    # mark is faint (as may the mirrored read of every fold, which no score can rule out).
    rectangular = _rectangular(ac, reach, usual, RECT_CANDIDATES, block_grid)
    found += [basis for s, basis in rectangular if s > EXTRA_MARGIN * top]
    return found


def _fold(r: np.ndarray, basis: np.ndarray) -> np.ndarray:
    """Average r into one tile of (TILE_CELLS*BINS)^2 bins, every pixel taken modulo the lattice."""
    h, w = r.shape
    inv = np.linalg.inv(basis)  # (dy, dx) -> tile units (u1 along v1, u2 along v2)
    ys = np.arange(h, dtype=np.float64) - h / 2
    xs = np.arange(w, dtype=np.float64) - w / 2
    u1 = inv[0, 0] * ys[:, None] + inv[0, 1] * xs[None, :]
    u2 = inv[1, 0] * ys[:, None] + inv[1, 1] * xs[None, :]
    return fold_at(r, u1, u2)


def fold_at(r: np.ndarray, u1: np.ndarray, u2: np.ndarray) -> np.ndarray:
    """Average r into one tile of (TILE_CELLS*BINS)^2 bins by every pixel's tile coordinates
    (u1 along the tile's x-like vector, u2 along its y-like one; only their fractions count)."""
    g = TILE_CELLS * BINS
    b1 = (np.floor((u1 - np.floor(u1)) * g).astype(np.intp)) % g  # column bin (x-like)
    b2 = (np.floor((u2 - np.floor(u2)) * g).astype(np.intp)) % g  # row bin (y-like)
    index = (b2 * g + b1).ravel()
    total = np.bincount(index, weights=r.ravel(), minlength=g * g)
    count = np.bincount(index, minlength=g * g)
    folded = total / np.maximum(count, 1)
    return folded.reshape(g, g)


def _offset(folded: np.ndarray, template_spectrum: np.ndarray) -> tuple[tuple[int, int], float]:
    """Cyclic offset of the sync pattern (given by the conjugate spectrum of its folded-tile
    template) in the folded tile, and its strength (robust z)."""
    corr = fft.irfft2(fft.rfft2(folded) * template_spectrum, s=folded.shape)
    oy, ox = np.unravel_index(np.argmax(corr), corr.shape)
    med = np.median(corr)
    spread = 1.4826 * np.median(np.abs(corr - med)) + 1e-12
    return (int(oy), int(ox)), float((corr[oy, ox] - med) / spread)


def fold_candidates(r: np.ndarray, candidates: int = LATTICE_CANDIDATES, block_grid: bool = False) -> list[np.ndarray]:
    """The key-independent part of a reading: `r` (a residual, or a sum of the residuals
    of frames of one copy) folded into one tile along each of `candidates` lattices
    (`block_grid`: see `_autocorrelation`)."""
    return [_fold(r, basis) for basis in _lattices(r, candidates, block_grid)]


@functools.lru_cache(maxsize=16)
def _reader(key: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """What reading under `key` needs, derived once per key: sync pattern, conjugate
    spectrum of its folded-tile template, cell layout, chips, cells per coded bit."""
    s, layout = _sync(key), _layout(key).ravel()
    template_spectrum = np.conj(fft.rfft2(np.kron(s, np.ones((BINS, BINS), dtype=np.float32))))
    counts = np.bincount(layout, minlength=framing.CODED_BITS)
    return s, template_spectrum, layout, _chips(key), counts


def read(folds: list[np.ndarray], key: bytes) -> tuple[np.ndarray, float]:
    """The per-key part of a reading: soft values (one per coded bit, unit noise scale,
    positive = bit 0) and sync strength, from the folded tile whose sync under `key` is
    strongest."""
    s, template_spectrum, layout, chips, counts = _reader(check_key(key))
    best = None
    for folded in folds:
        # A copy mirrored left to right folds into the tile mirrored along x.
        for hypothesis in (folded, folded[:, ::-1]):
            (oy, ox), sync = _offset(hypothesis, template_spectrum)
            if best is None or sync > best[2]:
                best = (hypothesis, (oy, ox), sync)
    assert best is not None, "no folded tile to read"
    folded, (oy, ox), sync = best
    aligned = np.roll(folded, (-oy, -ox), axis=(0, 1))
    cells = aligned.reshape(TILE_CELLS, BINS, TILE_CELLS, BINS).mean(axis=(1, 3))
    cells = cells - (np.sum(cells * s) / s.size) * s
    cells = cells / (np.std(cells) + 1e-12)
    soft = np.bincount(layout, weights=(cells * chips).ravel(), minlength=framing.CODED_BITS)
    return soft / np.sqrt(counts), sync


def _check_plane(y: np.ndarray) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if y.ndim != 2 or min(y.shape) < TILE_CELLS * MIN_CELL:
        raise WatermarkError(
            f"expected a luminance plane of at least {TILE_CELLS * MIN_CELL} pixels a side, got shape {y.shape}"
        )
    return y


def soft_bits(y: np.ndarray, key: bytes) -> tuple[np.ndarray, float]:
    """Soft values (one per coded bit, unit noise scale, positive = bit 0) read from the
    luminance plane `y` (H x W, any real dtype), and the sync strength. Soft values of
    several frames of the same mark may be summed before `decode`."""
    key = check_key(key)
    return read(fold_candidates(residual(_check_plane(y))), key)


def decode(soft: np.ndarray) -> int | None:
    """The payload carried by (summed) soft values, or None; see `watermark.payload`."""
    return framing.decode(soft)


def check_keys(keys: bytes | Sequence[bytes]) -> list[bytes]:
    """One key or a non-empty sequence of keys, as a list of checked keys."""
    if isinstance(keys, (bytes, bytearray)):
        return [check_key(keys)]
    if isinstance(keys, str) or not isinstance(keys, Sequence):
        raise WatermarkError(f"expected a watermark key (bytes) or a sequence of keys, not {type(keys).__name__}")
    if not keys:
        raise WatermarkError("no watermark keys given")
    return [check_key(k) for k in cast(Sequence[bytes], keys)]  # bytes was taken out above


def decide(folds: list[np.ndarray], keys: Sequence[bytes], threshold: float = SYNC_THRESHOLD) -> Detection:
    """Read `folds` under every key; decode under each key whose sync reaches
    `threshold` (one Viterbi + CRC per key at most), and report the decoded payload of
    strongest sync with the index of its key. With no payload the sync reported is the
    strongest seen."""
    best, strongest = None, float("-inf")
    for index, key in enumerate(keys):
        soft, sync = read(folds, key)
        strongest = max(strongest, sync)
        if sync < threshold or (best is not None and sync <= best.sync):
            continue
        found = decode(soft)
        if found is None:
            continue
        norm = np.linalg.norm(soft) * np.sqrt(soft.size) + 1e-12
        confidence = float(np.dot(soft, framing.symbols(found)) / norm)
        best = Detection(found, max(confidence, 0.0), sync, index)
    return best if best is not None else Detection(None, 0.0, strongest, None)


def detect_many(
    image: np.ndarray,
    keys: Sequence[bytes],
    evidence: Callable[[list[np.ndarray]], None] | None = None,
    screen: Screen | None = None,
) -> Detection:
    """Read a uint8 grey, RGB or RGBA image under each of `keys`; the key-independent work
    (residual, lattice search, folding) is done once. `key_index` says which key matched.
    `evidence`, if given, is handed the whole-frame folds (for tracing colluders). `screen`,
    if given, says where the marked picture lies in a copy recorded off a screen
    (`watermark.perspective`), read along it when nothing else reads."""
    keys = check_keys(keys)
    y = luma(image)
    r = residual(y)
    folds = fold_candidates(r)
    if evidence is not None:
        evidence(folds)
    found = decide(folds, keys)
    if found.payload is None:  # second stage: the mark may fill only part of the picture
        from watermark import regions

        found = regions.detect_regions(r, keys, strongest=found.sync)
    if found.payload is None:  # third: along a recorded screen's perspective, given or found
        from watermark import perspective, screens

        candidates = [perspective.Candidate([screen])] if screen is not None else screens.screens_in(y, cell_size)
        if candidates:
            found = perspective.detect_screens(perspective.screen_residual(y), keys, candidates, found.sync)
    return found


def detect(image: np.ndarray, key: bytes, screen: Screen | None = None) -> Detection:
    """Read the payload marked under `key` from a uint8 grey, RGB or RGBA image (`screen`:
    see `detect_many`)."""
    return detect_many(image, [check_key(key)], screen=screen)
