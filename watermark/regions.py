"""A second reading of the watermark in parts of the picture: picture-in-picture copies,
shrinks into bars, heavy crops.

Why
    `watermark.image` finds the tile's lattice in the autocorrelation of the whole
    residual. When the marked picture fills only part of the frame (a copy shown at 40 %
    inside other footage, or shrunk into black bars), the rest of the frame adds its own
    residual to the autocorrelation and to every folded tile, and the lattice's peaks and
    the sync sink into it: at 40 % the marked area is a sixth of the frame.

Method
    Only when the whole-frame reading gives no payload: the same residual is cut into
    overlapping windows, WINDOW_SHARE of each side, at WINDOW_STEPS positions along each
    axis (3 x 3: the corners, the edges' middles and the centre), so that a copy at 40 %
    of the frame anywhere lies at least two-thirds inside one window. Each window gets its
    own lattice search and folds (`image.fold_candidates`, which needs no key), and under
    each key the fold of strongest sync over all windows is kept (`image.read`).

False positives
    The windows add hypotheses, which raises the best sync of unmarked content: this
    stage decodes only at REGION_THRESHOLD or more, above the highest sync measured on
    unmarked and foreign-keyed stills and video with the windows. Each key gets at most
    one Viterbi + CRC-32 decode here, after at most one in the whole-frame stage, so the
    bound per call becomes 2 x k x 2**-32 for k keys (one key: ~4.7e-10).

Cost
    Nothing for a copy that reads on the whole frame; otherwise 9 more lattice searches on
    windows a quarter of the frame's area.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
from scipy import ndimage

from watermark import image

WINDOW_SHARE = 0.5  # window side as a share of the frame's side
WINDOW_STEPS = 3  # window positions along each axis (from one border to the other)
AXIS_REACH = 0.9  # tile periods searched along an axis, up to this share of the side
AXIS_CANDIDATES = 3  # lattices from the axes alone folded and tried
REGION_THRESHOLD = 10.0  # sync needed to decode in this stage (image.SYNC_THRESHOLD: 9)


def windows(h: int, w: int) -> list[tuple[slice, slice]]:
    """The overlapping windows (rows, columns) of an h x w plane read by this stage; none
    when a window would be smaller than the lattice search can use."""
    wh, ww = int(h * WINDOW_SHARE), int(w * WINDOW_SHARE)
    if min(wh, ww) < 2 * image.MIN_PERIOD:
        return []
    found = []
    for fy in np.linspace(0.0, 1.0, WINDOW_STEPS):
        for fx in np.linspace(0.0, 1.0, WINDOW_STEPS):
            top, left = int(round((h - wh) * fy)), int(round((w - ww) * fx))
            found.append((slice(top, top + wh), slice(left, left + ww)))
    return found


def region_folds(
    r: np.ndarray, candidates: int = image.LATTICE_CANDIDATES, block_grid: bool = False
) -> list[np.ndarray]:
    """The folds of every window of the residual `r` (key-independent)."""
    folds: list[np.ndarray] = []
    for rows, cols in windows(*r.shape):
        folds += image.fold_candidates(np.ascontiguousarray(r[rows, cols]), candidates, block_grid)
    return folds


def _axis_score(ac: np.ndarray, reach: int, periods: np.ndarray, angles: np.ndarray, axes: np.ndarray) -> np.ndarray:
    """Mean autocorrelation at the tile vectors v1 (near the x axis) and/or v2 (near the
    y axis) of square lattices (period, angle); `axes` (2, n_periods) says which of the
    two each period may use (1) or not (0): a lag near a side's length has no overlap."""
    p, a = np.meshgrid(periods, np.deg2rad(angles), indexing="ij")
    cos, sin = np.cos(a) * p, np.sin(a) * p
    total = np.zeros_like(p)
    for (dy, dx), use in zip(((sin, cos), (cos, -sin)), axes, strict=True):
        coords = np.stack([dy.ravel() + reach, dx.ravel() + reach])
        values = ndimage.map_coordinates(ac, coords, order=1, mode="constant").reshape(p.shape)
        total += values * use[:, None]
    score: np.ndarray = total / np.maximum(axes.sum(axis=0), 1)[:, None]
    return score


def axis_lattices(r: np.ndarray, candidates: int = AXIS_CANDIDATES, block_grid: bool = False) -> list[np.ndarray]:
    """Square tile lattices found from the tile vectors along the axes alone, with periods
    up to AXIS_REACH of the longer side: a crop that leaves less than 1.5 tiles on the
    shorter side (a quarter off every border of a 1080p video: 540 lines for a 512-line
    tile) has too little overlap at the lags v2, v1 + v2 that `image` scores too."""
    h, w = r.shape
    reach = int(AXIS_REACH * max(h, w))
    ac = image._autocorrelation(r, reach, block_grid)
    periods = np.arange(image.MIN_PERIOD, reach, 1.0)
    axes = np.stack([periods <= AXIS_REACH * w, periods <= AXIS_REACH * h]).astype(np.float64)
    coarse = np.arange(-image.MAX_ANGLE, image.MAX_ANGLE + 1e-9, 0.25)
    score = _axis_score(ac, reach, periods, coarse, axes)
    peaks = score == ndimage.maximum_filter(score, size=(9, 5), mode="nearest")
    order = np.argsort(np.where(peaks, score, -np.inf), axis=None)[::-1][:candidates]
    found = []
    for flat in order:
        i, j = np.unravel_index(flat, score.shape)
        p0, a0 = float(periods[i]), float(coarse[j])
        fine_p = np.arange(p0 - 2, p0 + 2.01, 0.25)
        fine_a = np.arange(a0 - 0.3, a0 + 0.301, 0.02)
        use = np.stack([fine_p <= AXIS_REACH * w, fine_p <= AXIS_REACH * h]).astype(np.float64)
        fine = _axis_score(ac, reach, fine_p, fine_a, use)
        fi, fj = np.unravel_index(np.argmax(fine), fine.shape)
        p, a = fine_p[fi], np.deg2rad(fine_a[fj])
        found.append(_square(p, a))
    return found


def _square(period: float, angle: float) -> np.ndarray:
    """The square lattice (columns v1, v2 in (dy, dx)) of a period and a rotation (radians)."""
    c, s = period * np.cos(angle), period * np.sin(angle)
    return np.array([[s, c], [c, -s]]).T


def detect_regions(
    r: np.ndarray,
    keys: Sequence[bytes],
    *,
    block_grid: bool = False,
    strongest: float = float("-inf"),
    periods: Sequence[float] = (),
) -> image.Detection:
    """Read the residual `r` under `keys` window by window, along lattices found from the
    axes alone, and along the upright square lattices of the given tile `periods` (those
    of a copy cropped without rescaling, which the caller knows from the standard frame
    sizes); see the module's docstring."""
    folds = region_folds(r, block_grid=block_grid)
    bases = axis_lattices(r, block_grid=block_grid)
    bases += [_square(p, 0.0) for p in periods if image.MIN_PERIOD <= p < max(r.shape)]
    folds += [image._fold(r, basis) for basis in bases]
    if not folds:
        return image.Detection(None, 0.0, strongest, None)
    found = image.decide(folds, keys, REGION_THRESHOLD)
    return found if found.payload is not None else replace(found, sync=max(found.sync, strongest))
