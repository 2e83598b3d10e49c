"""A second reading of the watermark in parts of the picture and along lattices the
whole-frame search misses: picture-in-picture copies, shrinks into bars, heavy crops.

Why
    `watermark.image` finds the tile's lattice in the autocorrelation of the whole
    residual. When the marked picture fills only part of the frame (a copy shown at 40 %
    inside other footage), the rest of the frame adds its own residual to the
    autocorrelation and to every folded tile, and the lattice's peaks and the sync sink
    into it: at 40 % the marked area is a sixth of the frame. And when a crop leaves less
    than 1.5 tiles on the shorter side (a quarter off every border of a 1080p video: 540
    lines for a 512-line tile), the lattice search does not look that far.

Method
    Only when the whole-frame reading gives no payload, four kinds of key-independent
    folds of the same residual, all read together under each key (`image.decide`, the fold
    of strongest sync kept):
    - windows: WINDOW_SHARE of each side at WINDOW_STEPS positions along each axis (3 x 3:
      corners, the edges' middles, centre), so that a copy at 40 % of the frame anywhere
      lies at least 60 % inside one window; each window gets its own lattice search;
    - with `axes` (video): square lattices found from the autocorrelation at the tile
      vectors along the axes alone, periods up to FOLD_REACH of the shorter side;
    - given `periods` (video): the upright square lattices of the tile periods of copies
      cropped without rescaling, which `watermark.video` knows from the standard frame
      heights (its cell depends only on the frame size);
    - given `lattices` (video): lattices found otherwise, those on which the two halves
      of the picture agree (`watermark.agreement`: a warped copy's sheared lattice).

False positives
    Each key gets at most one Viterbi + CRC-32 decode here, after at most one in the
    whole-frame stage, so the bound per call is 2 x k x 2**-32 for k keys (one key:
    ~4.7e-10; 100 keys: ~4.7e-8), whatever the sync. The extra folds raise the best sync
    of content without the key's mark, so this stage decodes only at REGION_THRESHOLD.
    Measured best sync of this stage: unmarked 1080p stills and their pip40 / bars70 /
    JPEG 50 copies, and pip40 copies marked under another key (14 photographs, 4 keys,
    244 reads) max 5.8; unmarked clips (10 s of 1080p photo footage and bigbuckbunny,
    each plain, crop25each+crf30 and pip40; bikes) max 6.0; marked clips and their attacked
    copies read under 4 other keys max 9.6, which the whole-frame stage already reaches on
    the same copy (the fold along the true lattice correlates with a foreign sync pattern
    with a heavier tail); never a wrong payload. 6 s of marked 1080p footage, unattacked,
    under 8 other keys reached 8.7 to 10.4 here (7.4 on the whole frame): one decode,
    which the CRC turned away.

Limits (measured)
    1080p stills (5 photographs): pip40 at five places, pip60, bars70, a quarter off every
    border and the asymmetric crop, each with JPEG 50 where named, read on all. Video:
    pip40 reads on 10-s excerpts (1080p photo footage, bigbuckbunny 720p; sync 11.9 and
    13.2 against 10) but not on 1-2 s clips; pip60, bars70 and the crops at CRF 30 read
    on 2-s 720p clips and on the 10-s excerpts. Not the camcorder recording (480 lines,
    corners moved 2-4 %, barrel): one affine lattice misses its geometry by up to 67 px
    (sync ~4), the square lattices searched in windows do not match its sheared local
    ones, and at 480 lines a window's own search mostly finds half the tile period. A
    fitted geometry alone would not be enough either: folded along the attack's exact
    perspective and barrel (3 photographs x 3 camera placements) the 1080p stills reach
    sync 35-41 before the camera's optics, 15-21 after its blur and 480 lines, and 9.0-13.6
    after its noise and JPEG, so 5 of 9 decode at REGION_THRESHOLD (decoded regardless of
    sync, 5 of 6 of them carry the payload: the message survives better than the sync).
    Larger cells do not help (6 and 8 px: sync 9.2-10.9). Such copies read along the
    screen's corners marked by an investigator (`watermark.perspective`, a third stage),
    which also says why the geometry is not found blind.

Cost
    Nothing for a copy that reads on the whole frame; otherwise 9 lattice searches on
    windows a quarter of the frame's area (about 2x the whole-frame search), and for video
    one autocorrelation reaching 0.9 of the longer side and a few more folds.
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
FOLD_REACH = 0.95  # longest tile period folded, as a share of the shorter side: a fold needs a whole
# tile each way, and one of about the frame's own size barely averages anything (measured: such a
# fold of a copy in black bars gave sync 9.4 under foreign keys)
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
    periods = np.arange(image.MIN_PERIOD, min(reach, FOLD_REACH * min(h, w)), 1.0)
    axes = np.stack([periods <= AXIS_REACH * w, periods <= AXIS_REACH * h]).astype(np.float64)
    coarse = np.arange(-image.MAX_ANGLE, image.MAX_ANGLE + 1e-9, 0.25)
    found = []
    for i, j in _local_maxima(_axis_score(ac, reach, periods, coarse, axes), candidates):
        p0, a0 = float(periods[i]), float(coarse[j])
        fine_p = np.arange(p0 - 2, p0 + 2.01, 0.25)
        fine_a = np.arange(a0 - 0.3, a0 + 0.301, 0.02)
        use = np.stack([fine_p <= AXIS_REACH * w, fine_p <= AXIS_REACH * h]).astype(np.float64)
        fine = _axis_score(ac, reach, fine_p, fine_a, use)
        fi, fj = np.unravel_index(np.argmax(fine), fine.shape)
        p, a = fine_p[fi], np.deg2rad(fine_a[fj])
        found.append(_square(p, a))
    return found


def _local_maxima(score: np.ndarray, count: int) -> list[tuple[int, int]]:
    """The (period, angle) indices of the `count` highest local maxima of a score surface."""
    peaks = score == ndimage.maximum_filter(score, size=(9, 5), mode="nearest")
    flat = np.argsort(np.where(peaks, score, -np.inf), axis=None)[::-1][:count]
    return [(int(i), int(j)) for i, j in zip(*np.unravel_index(flat, score.shape), strict=True)]


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
    axes: bool = False,
    lattices: Sequence[np.ndarray] = (),
) -> image.Detection:
    """Read the residual `r` under `keys` window by window, with `axes` along lattices
    found from the axes alone (`axis_lattices`), and along the upright square lattices of
    the tile `periods` of copies cropped without rescaling, and along `lattices` found
    otherwise (`watermark.agreement`); see the module's docstring."""
    folds = region_folds(r, block_grid=block_grid)
    bases = axis_lattices(r, block_grid=block_grid) if axes else []
    bases += [_square(p, 0.0) for p in periods if image.MIN_PERIOD <= p <= FOLD_REACH * min(r.shape)]
    bases += list(lattices)
    folds += [image._fold(r, basis) for basis in bases]
    if not folds:
        return image.Detection(None, 0.0, strongest, None)
    found = image.decide(folds, keys, REGION_THRESHOLD)
    return found if found.payload is not None else replace(found, sync=max(found.sync, strongest))
