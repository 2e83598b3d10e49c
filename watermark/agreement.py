"""Lattices the autocorrelation ranks too low, picked out by whether the two halves of
the picture fold alike along them.

Why
    `watermark.image` keeps the few lattices that score best in the residual's
    autocorrelation. A warped, rescaled copy can put its true lattice far down that list:
    in the simulated screen recording of a 720p video (perspective, 75 %, blur, CRF 28;
    cells of 3.75 px, tile 240 px) the interpolation of the warp leaves beats of 60 to
    120 px that outscore the mark, the true lattice ranks 23rd of the square ones, and it
    is not square (periods 241.6 and 239.5 px, sheared by 1.6 px), so even the nearest
    square lattice folds to sync 9.5 where the true one gives 12.7.

Method
    CANDIDATES square lattices of the usual search (as ranked, without `image`'s preference
    for a fundamental period: a third of that 240-px tile scores as well), refined, each
    folded twice, over the left and the right half of the residual; the correlation of the
    two folded tiles, times the tile's side in bins, is a key-independent z-score of how
    much the picture repeats along the lattice (the halves' noise and picture are
    independent; the mark repeats in both). On that screen recording the true lattice
    scores 10.7, the best other 4.5. The KEPT lattices of highest z that reach MIN_Z get
    a fine affine search in the autocorrelation (each coordinate of the two tile vectors
    within FINE_SPAN px) and a least-squares refinement: z 15.8, sync 12.2 under the key.

False positives
    The choice is made without a key and adds folds, never decodes: `watermark.regions`
    reads them with its other folds under one decode per key, at its REGION_THRESHOLD.
    The agreement is no test of a mark: other things repeat too (the warp's interpolation,
    the panning background of a picture-in-picture, coding blocks after a crop), and
    unmarked copies reached z 23 (MIN_Z only spares folds where nothing repeats). What
    bounds false positives is the sync and the CRC, as everywhere. Measured best sync of
    these folds under keys without a mark: unmarked clips (19: bigbuckbunny, bikes, 2-s
    720p photo footage and bigbuckbunny, 6 s of 1080p footage, plain and after the screen
    recording, CRF 30, pip40, pip60, crop25each+CRF 30; 9 keys each) max 5.1, the whole
    second stage max 5.9; marked clips read under 8 keys they were not marked with (19:
    the same sources marked, plain and attacked alike) max 7.4, the whole second stage
    max 10.4 (the same without these folds: a window of the unattacked 1080p footage;
    the CRC turned it away). Never a payload.

Cost
    Only when the whole frame gives no payload, which is every read of unmarked video:
    one more autocorrelation, 40 refinements and 40 pairs of half folds. CPU time of a
    whole `detect_video` read before and after (all threads, one key): 6 s of unmarked
    1080p footage 3.5 -> 4.9 s, bigbuckbunny 3.8 -> 5.9 s, bikes 1.3 -> 2.1 s, and
    bigbuckbunny's screen recording 2.3 -> 3.5 s, now with its payload.
"""

from __future__ import annotations

import numpy as np

from watermark import image, regions

CANDIDATES = 40  # square lattices of the autocorrelation search tested for agreement
KEPT = 2  # lattices of highest agreement folded for reading
MIN_Z = 7.0  # agreement needed to be folded: spares folds where nothing repeats (not a test of a mark)
FINE_SPAN = 2.0  # pixels each coordinate of the tile vectors may move in the fine search
FINE_STEP = 0.5


def _bins(shape: tuple[int, int], basis: np.ndarray) -> np.ndarray:
    """Each pixel's bin of the folded tile along `basis` (as `image._fold`)."""
    h, w = shape
    g = image.TILE_CELLS * image.BINS
    inv = np.linalg.inv(basis)
    ys = np.arange(h, dtype=np.float64) - h / 2
    xs = np.arange(w, dtype=np.float64) - w / 2
    u1 = inv[0, 0] * ys[:, None] + inv[0, 1] * xs[None, :]
    u2 = inv[1, 0] * ys[:, None] + inv[1, 1] * xs[None, :]
    b1 = np.floor((u1 - np.floor(u1)) * g).astype(np.intp) % g
    b2 = np.floor((u2 - np.floor(u2)) * g).astype(np.intp) % g
    bins: np.ndarray = b2 * g + b1
    return bins


def agreement(r: np.ndarray, basis: np.ndarray) -> float:
    """z-score of the agreement of the left and right halves of `r` folded along `basis`."""
    g = image.TILE_CELLS * image.BINS
    bins = _bins(r.shape, basis)
    half = r.shape[1] // 2
    tiles = []
    for part in (slice(0, half), slice(half, None)):
        index = bins[:, part].ravel()
        total = np.bincount(index, weights=r[:, part].ravel(), minlength=g * g)
        count = np.bincount(index, minlength=g * g)
        tile = total / np.maximum(count, 1)
        tiles.append(tile - tile.mean())
    a, b = tiles
    return float(np.dot(a, b) / (np.sqrt(np.dot(a, a) * np.dot(b, b)) + 1e-12) * g)


def _fine(ac: np.ndarray, reach: int, basis: np.ndarray) -> np.ndarray:
    """The affine lattice near `basis` of best autocorrelation score (with ridges left out)."""
    d = np.arange(-FINE_SPAN, FINE_SPAN + 1e-9, FINE_STEP)
    a, b, c, e = np.meshgrid(d, d, d, d, indexing="ij")
    v1 = np.stack([basis[0, 0] + a, basis[1, 0] + b])
    v2 = np.stack([basis[0, 1] + c, basis[1, 1] + e])
    score = image._basis_score(ac, reach, v1, v2, True)
    k = np.unravel_index(np.argmax(score), score.shape)
    return np.array([[v1[0][k], v2[0][k]], [v1[1][k], v2[1][k]]])


def agreeing_lattices(r: np.ndarray, block_grid: bool = False) -> list[np.ndarray]:
    """Up to KEPT lattices (columns v1, v2 in (dy, dx)) of `r` on which its halves agree
    (see the module's docstring)."""
    h, w = r.shape
    reach = int(min(h, w) * 0.9)
    ac = image._autocorrelation(r, reach, block_grid)
    periods = np.arange(image.MIN_PERIOD, 0.7 * min(h, w), 1.0)
    angles = np.arange(-image.MAX_ANGLE, image.MAX_ANGLE + 1e-9, 0.25)
    score = image._lattice_score(ac, reach, periods, angles, block_grid)
    found = []
    for i, j in regions._local_maxima(score, CANDIDATES):
        basis = regions._square(float(periods[i]), float(np.deg2rad(angles[j])))
        found.append(image._refine(ac, reach, image._refine(ac, reach, basis)))
    scored = sorted(((agreement(r, basis), k) for k, basis in enumerate(found)), reverse=True)
    kept = [found[k] for z, k in scored[:KEPT] if z >= MIN_Z]
    return [image._refine(ac, reach, _fine(ac, reach, basis)) for basis in kept]
