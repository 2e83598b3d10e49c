"""A reading along a screen's perspective: copies recorded by a camera pointed at a screen (翻拍).

Why
    A camcorder copy is the picture seen through a perspective (the screen's corners moved
    by a few per cent of the frame) and a lens (barrel distortion), then blurred, scaled
    down (480 lines), noisy and compressed. No one affine lattice fits it, and the mark is
    too faint for its geometry to be found from the copy alone. Measured on 1080p stills
    under `watermark.attacks.camcorder`: neither the autocorrelation (whole frame or
    windows, with or without the block grid left out) nor patches of the residual matched
    one tile apart show the tile's lattice (what they find are multiples of the JPEG block
    grid; matched patches land 10-60 px off), and the same holds for the summed residual
    of a 10-s camcorder clip. The sync has no coarse structure to search on (a random sign
    per cell), and the 8 corner coordinates range over +/-4 % of the frame against a basin
    of a few pixels. So the geometry comes from whoever investigates the copy: the four
    corners of the marked picture in the copy (the screen's corners, where a person or
    `watermark.screens` sees them), given as a `Screen` with the size and cell the picture
    was marked at (which its registration holds; for an outline found blind, each of
    MARKED_LINES at 16:9, the k1 scan choosing which one is refined and decoded).

Method
    The copy's pixels are undistorted radially (p (1 + k1 |p|^2), p from the centre in
    units of half the diagonal), then mapped by the homography that takes the given
    corners to the picture's corners, in tile units, and every pixel is folded at its tile
    coordinates (`image.fold_at`) of a residual at the recording's scale
    (`screen_residual`). Under each key, k1 is scanned (K1_SCAN: the homography through
    the corners takes up the barrel only at the corners; 0.01 off already costs a third of
    the sync), then the 8 corner coordinates and k1 are refined by maximising the sync
    (Nelder-Mead, REFINE_EVALUATIONS folds in all), and the fold of strongest sync is
    decoded once if it reaches SCREEN_THRESHOLD.

False positives
    One Viterbi + CRC-32 decode per key and outline read along (one given, at most two
    found), after at most two in the earlier stages (`image`, `regions`): at most
    4 x k x 2**-32 per call for k keys, whatever the sync. The
    search maximises the sync over 9 parameters, so it raises the best sync of content
    without the key's mark above the earlier stages' (mean ~4.5). Measured along the
    camcorder's own corners (+/-1.5 px): 1080p stills (the 5 photographs x 3 camera
    placements), unmarked recordings under the key and marked ones under a foreign key,
    30 reads, mean 5.6, max 6.9; along corners 3 px off, 40 reads (3 foreign keys), mean
    5.8, max 6.7; 60 more such reads along the exact and the jittered corners with the
    whole-frame residual, max 7.0; 10-s camcorder clips (1080p footage and bigbuckbunny
    unmarked under the key, and six marked or unmarked clips under 2 foreign keys: 14
    reads) max 6.6. SCREEN_THRESHOLD (9, as the whole frame's) sits 2 above all of them;
    none gave a payload. Found blind (`watermark.screens`), the outline is tried at up
    to 7 marked sizes before one is refined, and a side beyond the frame is searched for
    (`search_side`: 20-40 positions per size, then 9 tilts; a second side that meets it
    the same way, at the size chosen): one decode per key and
    outline, and at most two outlines (`watermark.screens.find_outlines`).
    Measured blind (`scripts/bench-watermark-camcorder --blind --seeds 8 --foreign 1`):
    80 reads of unmarked recordings under the key and marked ones under a foreign key,
    14 of the 40 placements with a side searched for, mean 5.9, max 7.1; no payload (the
    same with a second outline read on 5 placements, 2026-12-07).

Limits (measured: scripts/bench-watermark-camcorder, 2 cores heavily loaded)
    1080p stills under `attacks.camcorder` (corners moved 2-4 %, k1 0.04, blur, 480
    lines, noise, JPEG 75), the 5 photographs x 3 camera placements, the corners given
    1.5 px RMS off (`attacks.camcorder_screen` plus noise: a person's clicks): 14 of 15
    exact (93 %), sync 10.8-21.1, never a wrong payload; the miss (coffee, placement 2,
    sync 8.0) reads with its corners exact (sync 12.2). Corners 3 px RMS off: 7 of 10
    (2 placements; the refinement's basin is a few pixels, a wider first step does not
    widen it). With the corners exact and the whole-frame residual, all 15 reached sync
    10.5 and 13 decoded; `screen_residual` decodes the other two. Video
    (`video_attacks.camcorder`, CRF 28, read by `video.detect_video(screen=...)`): 10-s
    excerpts of the 1080p footage at 3 camera placements all exact (sync 11.9-14.5), a
    1-s 1080p clip too (12.1); bigbuckbunny (720p, flat animation: 5-px cells, 3.3 px at
    480 lines) not (sync 9.0, no payload). Blind, the copy reads where
    `watermark.screens` finds two sides that meet, three or four (see there and
    `scripts/bench-watermark-camcorder --blind`).

Cost
    Nothing unless a `Screen` is given or found (only in a copy dark along three edges)
    and the earlier stages find no payload; then per key REFINE_EVALUATIONS folds of the
    whole residual (about 10 ms each on a 480-line copy: ~1.5 s of CPU per key, so k
    keys cost k times that), and for video one more residual per frame while summing.
    Finding the outline costs 0.5-2 s once per copy, up to ~4 s where none is found; a
    side searched for adds 100-300 folds per key (1-3 s).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import optimize

from watermark import image
from watermark.errors import WatermarkError
from watermark.keys import check_key

SCREEN_THRESHOLD = 9.0  # sync needed to decode in this stage (see False positives)
SCREEN_HIGH_PASS = 1.0  # `screen_residual`: sigma of the high-pass (image.residual: 1.5)
SCREEN_SPREAD = 3.0  # and of the local normalisation (image.residual: 6)
REFINE_EVALUATIONS = 150  # folds tried per key while refining the corners and k1
CORNER_STEP = 1.5  # pixels: first step of the refinement along each corner coordinate
K1_STEP = 0.01  # first step of the refinement along k1
MARKED_LINES = (360, 480, 576, 720, 1080, 1440, 2160)  # 16:9 heights a screen found blind is tried at
SIDE_STEP = 2.5  # pixels of the copy between the positions an unseen side is tried at ...
TILT_STEP = 2.0  # ... and between its tilts, up to
TILT_REACH = 8.0  # pixels each way
AWAY_SHARE = 1 / 3  # of the frame: where the first of two unseen sides is looked for (`away_from`)
K1_SCAN = tuple(np.arange(0.0, 0.0801, K1_STEP))  # lens distortions tried before refining (barrel: k1 > 0)


@dataclass(frozen=True)
class Screen:
    """Where the marked picture lies in a copy: its corners (x, y) in the copy's pixels,
    in the order top-left, top-right, bottom-right, bottom-left of the picture (a corner
    may lie outside the copy), and the size (height, width) and cell (pixels) the picture
    was marked at."""

    corners: tuple[tuple[float, float], ...]
    size: tuple[int, int]
    cell: int

    def __post_init__(self) -> None:
        points = np.asarray(self.corners, dtype=np.float64)
        if points.shape != (4, 2) or not np.all(np.isfinite(points)):
            raise WatermarkError(f"a screen needs four finite (x, y) corners, got {self.corners!r}")
        if min(self.size) < image.TILE_CELLS * image.MIN_CELL or self.cell < image.MIN_CELL:
            raise WatermarkError(f"implausible marked size {self.size} or cell {self.cell}")

    def scaled(self, factor: float) -> Screen:
        """The same screen in a copy scaled by `factor` (detection's analysis scale)."""
        corners = tuple(((x + 0.5) * factor - 0.5, (y + 0.5) * factor - 0.5) for x, y in self.corners)
        return Screen(corners, self.size, self.cell)


def screen_residual(y: np.ndarray) -> np.ndarray:
    """`image.residual` at the scale of a recording's cells: a camera's blur and downscale
    leave cells of about 2 px (a 1080p still's 4 px at 480 lines), where a narrower
    high-pass and local normalisation keep more of the mark (measured at the exact
    geometry: sync +0.5 to +1.7, and 2 more of 15 stills decode)."""
    return image.residual(y, SCREEN_HIGH_PASS, SCREEN_SPREAD)


class _Lens:
    """Positions in a copy centred and in units of half its diagonal (what k1 refers to)."""

    def __init__(self, shape: tuple[int, int]) -> None:
        h, w = shape
        self.centre = np.array([(w - 1) / 2, (h - 1) / 2])
        self.norm = float(np.hypot(w, h)) / 2

    def undistort(self, points: np.ndarray, k1: float) -> np.ndarray:
        p = (points - self.centre) / self.norm
        undistorted: np.ndarray = p * (1 + k1 * np.sum(p * p, axis=1, keepdims=True))
        return undistorted

    def distort(self, undistorted: np.ndarray, k1: float) -> np.ndarray:
        """The copy's pixels whose `undistort` is `undistorted` (the lens, inverted by iteration)."""
        p = undistorted.copy()
        for _ in range(50):
            p = undistorted / (1 + k1 * np.sum(p * p, axis=1, keepdims=True))
        out: np.ndarray = self.centre + p * self.norm
        return out


class _Grid(_Lens):
    """The copy's pixels, centred and in units of half the diagonal."""

    def __init__(self, shape: tuple[int, int]) -> None:
        super().__init__(shape)
        h, w = shape
        ys, xs = np.indices((h, w), dtype=np.float64)
        self.x, self.y = (xs - self.centre[0]) / self.norm, (ys - self.centre[1]) / self.norm
        self.radius2 = self.x * self.x + self.y * self.y

    def tile_coordinates(self, screen: Screen, corners: np.ndarray, k1: float) -> tuple[np.ndarray, np.ndarray]:
        h, w = screen.size
        period = image.TILE_CELLS * screen.cell
        target = np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]) / period
        m = _homography(self.undistort(corners, k1), target)
        f = 1 + k1 * self.radius2
        qx, qy = self.x * f, self.y * f
        d = m[2, 0] * qx + m[2, 1] * qy + m[2, 2]
        return (m[0, 0] * qx + m[0, 1] * qy + m[0, 2]) / d, (m[1, 0] * qx + m[1, 1] * qy + m[1, 2]) / d


def _homography(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The 3x3 homography taking four points src to dst (float64, h33 = 1)."""
    rows, rhs = [], []
    for (x, y), (u, v) in zip(src, dst, strict=True):
        rows.append([x, y, 1, 0, 0, 0, -u * x, -u * y])
        rows.append([0, 0, 0, x, y, 1, -v * x, -v * y])
        rhs += [u, v]
    try:
        h = np.linalg.solve(np.array(rows), np.array(rhs))
    except np.linalg.LinAlgError:
        raise WatermarkError("the screen's corners are degenerate (three in a line)") from None
    return np.append(h, 1.0).reshape(3, 3)


def refine(
    r: np.ndarray, screen: Screen | Sequence[Screen], key: bytes, evaluations: int = REFINE_EVALUATIONS
) -> np.ndarray:
    """The fold of residual `r` along `screen` whose sync under `key` is strongest, the
    corners and k1 refined by Nelder-Mead (at most `evaluations` folds). Given several
    screens (one outline, the sizes it may have been marked at), the k1 scan picks the
    one refined."""
    screens = [screen] if isinstance(screen, Screen) else list(screen)
    grid = _Grid(r.shape)
    spectrum = image._reader(check_key(key))[1]
    scale = np.array([CORNER_STEP] * 8 + [K1_STEP])
    best: list[tuple[float, np.ndarray]] = []

    def sync_along(where: Screen, x: np.ndarray) -> float:
        step = x * scale
        corners = np.asarray(where.corners, dtype=np.float64) + step[:8].reshape(4, 2)
        folded = image.fold_at(r, *grid.tile_coordinates(where, corners, float(step[8])))
        sync = image._offset(folded, spectrum)[1]
        if not best or sync > best[0][0]:
            best[:] = [(sync, folded)]
        return float(sync)

    scanned = [(sync_along(where, np.array([0.0] * 8 + [k / K1_STEP])), k, where) for where in screens for k in K1_SCAN]
    _, k1, chosen = max(scanned, key=lambda t: t[0])
    x0 = np.array([0.0] * 8 + [k1 / K1_STEP])
    simplex = x0 + np.vstack([np.zeros(9), np.eye(9)])
    optimize.minimize(
        lambda x: -sync_along(chosen, x),
        x0,
        method="Nelder-Mead",
        options={
            "maxfev": max(1, evaluations - len(scanned)),
            "initial_simplex": simplex,
            "xatol": 0.05,
            "fatol": 0.01,
        },
    )
    return best[0][1]


def standard_screens(corners: np.ndarray, lines: Sequence[int], cell: Callable[[int, int], int]) -> list[Screen]:
    """One outline found in a copy (`watermark.screens`) as the screens of a 16:9 picture
    marked at each of `lines` (cell: the marking's cell for a height and width), those
    whose tiles fall alike kept once."""
    found: dict[tuple[float, float], Screen] = {}
    for h in lines:
        w = h * 16 // 9
        period = image.TILE_CELLS * cell(h, w)
        where = Screen(tuple((float(x), float(y)) for x, y in corners), (h, w), cell(h, w))
        found.setdefault((round(w / period, 3), round(h / period, 3)), where)
    return list(found.values())


@dataclass(frozen=True)
class UnseenSide:
    """A side of the marked picture beyond the copy's frame (0 top, 1 right, 2 bottom, 3
    left): its two corners are known only to lie on the adjacent sides, beyond the frame.
    `k1` is the lens the outline was fitted with; `reach` how far beyond the frame (pixels
    of the copy) the side is looked for."""

    side: int
    k1: float
    reach: float


@dataclass(frozen=True)
class Candidate:
    """One outline a copy may have been recorded along: the screens to read it along (its
    corners as a 16:9 picture marked at each of MARKED_LINES) and the sides beyond the
    frame to search for (none, one, or two that meet)."""

    screens: list[Screen]
    unseen: tuple[UnseenSide, ...] = ()


def slide(screen: Screen, unseen: UnseenSide, shape: tuple[int, int], shift: float, tilt: float) -> Screen:
    """`screen` with the unseen side's corners moved along the adjacent sides (straight
    where the lens is undone) by `shift` pixels outward, the first corner `tilt` more and
    the second `tilt` less."""
    lens = _Lens(shape)
    corners = np.asarray(screen.corners, dtype=np.float64)
    seen = lens.undistort(corners, unseen.k1)
    moved = seen.copy()
    for corner, anchor, extra in (
        (unseen.side, (unseen.side - 1) % 4, tilt),
        ((unseen.side + 1) % 4, (unseen.side + 2) % 4, -tilt),
    ):
        direction = seen[corner] - seen[anchor]
        moved[corner] = seen[corner] + direction / float(np.linalg.norm(direction)) * (shift + extra) / lens.norm
    placed = lens.distort(moved, unseen.k1)
    return Screen(tuple((float(x), float(y)) for x, y in placed), screen.size, screen.cell)


def search_side(r: np.ndarray, screens: Sequence[Screen], unseen: UnseenSide, key: bytes) -> Screen:
    """The screen along which `key`'s sync is strongest as the unseen side moves: first
    parallel (SIDE_STEP pixels apart, from a quarter of `unseen.reach` inward to all of it
    outward, for each marked size), then tilted (TILT_STEP apart, up to TILT_REACH) for
    the best; see `UnseenSide`."""
    grid = _Grid(r.shape)
    spectrum = image._reader(check_key(key))[1]

    def sync(where: Screen) -> float:
        corners = np.asarray(where.corners, dtype=np.float64)
        return float(image._offset(image.fold_at(r, *grid.tile_coordinates(where, corners, unseen.k1)), spectrum)[1])

    shifts = np.arange(-unseen.reach / 4, unseen.reach + SIDE_STEP / 2, SIDE_STEP)
    parallel = [slide(where, unseen, r.shape, float(d), 0.0) for where in screens for d in shifts]
    best = max(parallel, key=sync)
    tilts = np.arange(-TILT_REACH, TILT_REACH + TILT_STEP / 2, TILT_STEP)
    return max((slide(best, unseen, r.shape, 0.0, float(t)) for t in tilts), key=sync)


def away_from(r: np.ndarray, sides: Sequence[int]) -> np.ndarray:
    """`r` with only the AWAY_SHARE of the frame farthest from each of `sides` kept (0 top,
    1 right, 2 bottom, 3 left): where a side still misplaced shifts the fold the least."""
    if not sides:
        return r
    h, w = r.shape
    kept = np.zeros_like(r)
    rows, cols = slice(None), slice(None)
    for side in sides:
        if side in (0, 2):
            rows = slice(h - int(h * AWAY_SHARE), None) if side == 0 else slice(0, int(h * AWAY_SHARE))
        else:
            cols = slice(0, int(w * AWAY_SHARE)) if side == 1 else slice(w - int(w * AWAY_SHARE), None)
    kept[rows, cols] = r[rows, cols]
    return kept


def detect_screens(
    r: np.ndarray, keys: Sequence[bytes], candidates: Sequence[Candidate], strongest: float = float("-inf")
) -> image.Detection:
    """Read the residual `r` along each candidate outline in turn (`watermark.screens`:
    its screens and the sides beyond the frame, if any) until one gives a payload."""
    found = image.Detection(None, 0.0, strongest, None)
    for candidate in candidates:
        found = detect_screen(r, keys, candidate.screens, strongest=found.sync, unseen=candidate.unseen)
        if found.payload is not None:
            break
    return found


def detect_screen(
    r: np.ndarray,
    keys: Sequence[bytes],
    screen: Screen | Sequence[Screen],
    strongest: float = float("-inf"),
    unseen: Sequence[UnseenSide] = (),
) -> image.Detection:
    """Read the residual `r` of a copy under each of `keys` along `screen` (or the best of
    several; with `unseen`, the sides beyond the frame searched for first; refined per key, one decode
    per key at most); see the module's docstring."""
    found = image.Detection(None, 0.0, strongest, None)
    screens = [screen] if isinstance(screen, Screen) else list(screen)
    # with two unseen sides, the first is looked for away from the second (the same for every key)
    searched = [(side, away_from(r, [u.side for u in unseen[n + 1 :]])) for n, side in enumerate(unseen)]
    for index, key in enumerate(keys):
        along = screens
        for side, kept in searched:
            along = [search_side(kept, along, side, key)]
        detection = image.decide([refine(r, along, key)], [key], SCREEN_THRESHOLD)
        if detection.payload is not None and (found.payload is None or detection.sync > found.sync):
            found = image.Detection(detection.payload, detection.confidence, detection.sync, index)
        elif found.payload is None:
            found = image.Detection(None, 0.0, max(found.sync, detection.sync), None)
    return found
