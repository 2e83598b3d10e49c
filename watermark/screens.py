"""Finding a recorded screen in a copy: the marked picture's corners where it meets the dark around it.

Why
    `watermark.perspective` reads a camcorder copy (翻拍) along the four corners of the
    marked picture in the copy, but the mark itself is too faint to find them from (see
    there). The screen's outline is not: a screen in a dark room, or the black a camera's
    lens pulls in at the frame's edges, leaves the picture bordered by near-black, and the
    border follows the same perspective and barrel distortion as the mark.

Method
    Every row and column is scanned from both ends for the first pixel brighter than DARK;
    the border's sub-pixel position is where the profile crosses half the brightness just
    inside (`edge_points`). The outline is then fitted (robust least squares: soft-L1,
    then Cauchy so that dark picture content at the border counts for little) by the
    model `perspective` reads along: 4 corners and the barrel k1. The fit is not symmetric:
    a point inside the outline may be where dark picture content ends, but a bright point
    more than INLIER outside it cannot be (the dark around the screen is dark), so such a
    point counts OUTSIDE_WEIGHT times over. A border point lies
    where the first of eight half-planes ends: the picture's four sides after the
    homography, and the four sides of the frame the lens saw (barrel distortion pulls
    black in at a copy's edges too). The fit starts from straight lines: for each k1 of
    K1_GRID the points are undistorted, those on the lens's frame set aside, and a line
    is found per scanned side (RANSAC); the k1 whose lines and frame hold the most points
    wins. A corner may lie outside the copy; a side counts as seen when its inlying
    points span MIN_SIDE_SHARE of the frame's side. When only three are seen (the fourth
    beyond the frame: both its corners moved outward), the fourth starts on the line of
    the frame's edge, its corners held where they start along the adjacent sides (nothing
    else fixes that), and the outline says which side is unseen (`Outline.unseen`):
    `perspective.search_side` then looks for it by the mark's sync, under each key. When
    no start gives such an outline, two sides that meet may be unseen (the corner between
    them beyond the frame): each starts on the frame's edge, that corner held, and the
    reading looks for the first side in the third of the frame farthest from the second
    (`perspective.away_from`, where the second's error shifts the fold least), then for
    the second. Opposite sides both unseen give no outline. Dark content along a
    side can hide its end, so that the k1 holding the most points sees only three sides
    where another sees four: then both outlines are fitted and read in turn
    (`find_outlines`), three sides first.

Limits (measured on `attacks.camcorder` of the 1080p photographs, 2026-12-07, two runs side by side)
    `scripts/bench-watermark-camcorder --blind --seeds 8 --foreign 1` (5 photographs x 8
    camera placements): a first outline with every side seen on 26 of 40, with one side
    beyond the frame on 14; the seen corners within 1 px on all 40 (median 0.5 px: closer
    than a person's clicks); **38 of 40 stills read exact (95 %)**, no wrong payload; the
    null (unmarked recordings under the key, marked ones under a foreign key, 80 reads)
    best sync mean 5.9, max 7.1 against SCREEN_THRESHOLD 9, no payload. Before the
    one-sided fit and the second outline: 34 of 40, the astronaut (whose black lower right
    passes for the dark around the screen) missing at 4 placements. The misses: the
    astronaut at placement 0 (its right side, seen only above the black, is taken for
    unseen and its lower corner lies 44 px inward, beyond `search_side`'s reach), and
    camera at placement 7 (sync 8.8; 12.4 along the true corners). On placements 8-15,
    not looked at while this was built (`--first-seed 8`): **36 of 40 exact (90 %)**, no
    wrong payload, null max 7.3 over 80 reads; first outlines with every side seen on 6,
    one beyond the frame on 23, two on 10 (before the two-sided reading those 10 had no
    outline and none read: 28 of 40 in all); the misses: camera and coffee at placement 8 (two
    sides beyond, the search does not lock), the astronaut at placements 10 (no outline)
    and 12. Both sets together: 74 of 80 (92.5 %). On
    video the frames' mean luminance is fitted, where moving content rarely stays dark.
    Cost: 0.5-2 s of CPU a copy for the outline, up to 4 s where none is found; nothing
    for a copy not dark along three edges (`dark_margin`); a second outline adds a
    reading (1.5-3 s a key) to a copy the first does not read. A marked still's whole
    read took 3.8 s of CPU (median, placements 0-7) and 7.6 s (8-15, more sides searched).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage, optimize

from watermark import perspective
from watermark.errors import WatermarkError

DARK = 14.0  # luminance (0-255) below which a pixel counts as the dark around a screen
EDGE_DEPTH = (2, 6)  # pixels inside a border whose median brightness sets its half level
INLIER = 1.5  # pixels: a border point this close to the fitted outline supports it
MIN_SIDE_SHARE = 0.25  # of the frame's side that a seen side's inlying border points must span
REACH_SHARE = 0.08  # of the frame: how far beyond it a side not seen is searched for
K1_RANGE = (0.0, 0.1)  # barrel distortions the fit may choose (perspective.K1_SCAN's range)
K1_STARTS = (0.0, 0.03, 0.06)  # k1 the fit starts from, one fit each
FIT_SCALE = np.r_[np.full(8, 10.0), 0.01]  # typical change of a corner coordinate (pixels) and of k1
K1_GRID = tuple(np.arange(0.0, 0.1001, 0.01))  # k1 tried for the straight lines the fit starts from
RANSAC_TRIES = 200  # pairs of border points tried per side
FIT_EVALUATIONS = 40  # of the outline per least-squares fit (a fit from a good start needs a few)
OUTSIDE_WEIGHT = 10.0  # how much more a bright point beyond INLIER outside the outline counts than one inside
RING = 2  # pixels: the frame's outer ring looked at by `dark_margin`


def dark_margin(y: np.ndarray) -> bool:
    """Whether a frame looks recorded off a screen: dark along at least three of its four
    edges while its middle is not (cheap: decides whether to gather a screen's evidence)."""
    h, w = y.shape
    if float(np.mean(y[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4])) <= DARK:
        return False
    rings = (y[:RING], y[-RING:], y[:, :RING], y[:, -RING:])
    return sum(float(np.mean(ring <= DARK)) >= 0.6 for ring in rings) >= 3


def screens_in(y: np.ndarray, cell: Callable[[int, int], int]) -> list[perspective.Candidate]:
    """The outlines to read a copy of luminance `y` along, most likely first, when it looks
    recorded off a screen (`cell`: the marking's cell for a height and width); none unless
    three sides, or two that meet, are seen."""
    if not dark_margin(y):
        return []
    return [
        perspective.Candidate(perspective.standard_screens(found.corners, perspective.MARKED_LINES, cell), found.unseen)
        for found in find_outlines(y)
    ]


def edge_points(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sub-pixel points (x, y) where bright picture meets the dark around it, found along
    every row and column from both ends (none where the picture reaches the frame), and
    the side each was scanned from (0 top, 1 right, 2 bottom, 3 left)."""
    h, w = y.shape
    bright = y > DARK
    points: list[tuple[float, float]] = []
    sides: list[int] = []
    for x in range(w):
        for t, end in _crossings(y[:, x], bright[:, x]):
            points.append((float(x), t))
            sides.append(0 if end == 1 else 2)
    for row in range(h):
        for t, end in _crossings(y[row], bright[row]):
            points.append((t, float(row)))
            sides.append(3 if end == 1 else 1)
    return np.array(points, dtype=np.float64).reshape(-1, 2), np.array(sides, dtype=np.int64)


def _crossings(profile: np.ndarray, bright: np.ndarray) -> list[tuple[float, int]]:
    """Where `profile` rises out of the dark from each end (sub-pixel), if it does, and
    from which end (1 the start, -1 the end)."""
    lit = np.flatnonzero(bright)
    n = len(profile)
    if len(lit) == 0:
        return []
    found = []
    for first, step in ((int(lit[0]), 1), (int(lit[-1]), -1)):
        if not EDGE_DEPTH[0] <= (first if step == 1 else n - 1 - first):
            continue  # the picture reaches this end of the frame: no border here
        inner = [first + step * d for d in range(EDGE_DEPTH[0], EDGE_DEPTH[1]) if 0 <= first + step * d < n]
        if not inner:
            continue
        half = 0.5 * float(np.median(profile[inner]))
        i = first
        while 0 < i < n - 1 and profile[i] > half:
            i -= step
        a, b = float(profile[i]), float(profile[i + step])
        found.append((i + step * ((half - a) / (b - a) if b != a else 0.5), step))
    return found


def _distances(params: np.ndarray, points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Each point's signed distance (pixels, positive inside) to the eight half-planes of
    the outline `params` (8 corner coordinates, k1); one row per half-plane."""
    h, w = shape
    corners, k1 = params[:8].reshape(4, 2), float(params[8])
    lens = perspective._Lens(shape)
    m = perspective._homography(lens.undistort(corners, k1), np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]))
    q = lens.undistort(points, k1)
    d = m[2, 0] * q[:, 0] + m[2, 1] * q[:, 1] + m[2, 2]
    px = (m[0, 0] * q[:, 0] + m[0, 1] * q[:, 1] + m[0, 2]) / d
    py = (m[1, 0] * q[:, 0] + m[1, 1] * q[:, 1] + m[1, 2]) / d
    s = lens.centre + q * lens.norm
    return np.stack(
        [py + 0.5, w - 0.5 - px, h - 0.5 - py, px + 0.5]  # the picture's top, right, bottom, left
        + [s[:, 1] + 0.5, w - 0.5 - s[:, 0], h - 0.5 - s[:, 1], s[:, 0] + 0.5]  # the lens's frame
    )


@dataclass(frozen=True)
class Outline:
    """The marked picture's corners in a copy recorded off a screen (4 x 2: x, y in the
    copy's pixels; top-left, top-right, bottom-right, bottom-left) and the lens's barrel k1;
    `unseen` says which sides lie beyond the frame (one, or two that meet), each placed
    along the line of the frame's edge (the reading searches on from there)."""

    corners: np.ndarray
    k1: float
    unseen: tuple[perspective.UnseenSide, ...] = ()


def find_corners(y: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The corners and k1 of the outline `find_outline` finds, if every side is seen."""
    found = find_outline(y)
    return None if found is None or found.unseen else (found.corners, found.k1)


def find_outline(y: np.ndarray) -> Outline | None:
    """The most likely of `find_outlines`, if any."""
    found = find_outlines(y)
    return found[0] if found else None


def find_outlines(y: np.ndarray) -> list[Outline]:
    """The outlines of the marked picture in a copy recorded off a screen, from its
    luminance `y`, most likely first: every side seen, or else three, or else two that meet
    (see the module's docstring). Two outlines when the straight lines the fit starts from
    disagree on whether a side is seen (dark picture content along a side hides its end)."""
    h, w = y.shape
    points, sides = edge_points(y)
    if len(points) < 8:
        return []
    found: list[Outline] = []
    for lined, missing in _lines_starts(points, sides, (h, w)) or [(None, ())]:
        if len(missing) == 2 and found:
            break
        if not missing:
            outline = _four_sides(y, lined, points)
        else:
            assert lined is not None
            outline = _sides_beyond(lined, missing, points, (h, w))
        if outline is not None and not any(_same(outline, other) for other in found):
            found.append(outline)
    return found


def _same(a: Outline, b: Outline) -> bool:
    """Whether two outlines would be read alike: the same sides unseen, corners within INLIER."""
    return [u.side for u in a.unseen] == [u.side for u in b.unseen] and bool(
        np.max(np.abs(a.corners - b.corners)) <= INLIER
    )


def _sides_beyond(
    start: np.ndarray, missing: tuple[int, ...], points: np.ndarray, shape: tuple[int, int]
) -> Outline | None:
    """The outline fitted from the seen sides' lines and the frame's edges for the others."""
    h, w = shape
    params = _fit(start, points, shape, unseen=missing)
    if params is None or _unseen_sides(params, points, shape) != list(missing):
        return None
    corners = params[:8].reshape(4, 2)
    if not _plausible(corners, shape):
        return None
    k1 = float(params[8])
    return Outline(
        corners,
        k1,
        tuple(perspective.UnseenSide(side, k1, REACH_SHARE * (h if side in (0, 2) else w)) for side in missing),
    )


def _four_sides(y: np.ndarray, lined: np.ndarray | None, points: np.ndarray) -> Outline | None:
    """The outline with every side seen, fitted from `lined` (four sides' lines) or from
    the lit region's extreme corners."""
    shape = (h, w) = y.shape
    lit = ndimage.binary_opening(y > DARK, iterations=2)
    if not lit.any():
        return None
    rows, cols = np.nonzero(lit)  # the lit region's extreme corners, for the other starts
    extremes = [np.argmin(cols + rows), np.argmin(rows - cols), np.argmax(cols + rows), np.argmax(rows - cols)]
    corners0 = np.array([[cols[i], rows[i]] for i in extremes], dtype=np.float64).ravel()
    starts = [np.r_[corners0, k1] for k1 in K1_STARTS]  # the fit has local optima where a side hides
    if lined is not None:  # behind the lens's frame: start from several places
        starts.insert(0, lined)
    for x0 in starts:  # the first start whose outline holds
        params = _fit(x0, points, (h, w))
        if (
            params is not None
            and not _unseen_sides(params, points, shape)
            and _plausible(params[:8].reshape(4, 2), shape)
        ):
            return Outline(params[:8].reshape(4, 2), float(params[8]))
    return None


def _lines_starts(
    points: np.ndarray, sides: np.ndarray, shape: tuple[int, int]
) -> list[tuple[np.ndarray | None, tuple[int, ...]]]:
    """Outlines to fit from: for each k1 of K1_GRID, the border points undistorted and
    those of the lens's frame left out, a straight line per scanned side (RANSAC); the k1
    whose lines and frame hold the most points, and the corners where its lines meet. If only three
    sides have a line (holding MIN_SIDE_SHARE of the frame's side in points), the fourth is
    taken along the frame's edge and its index returned too. When the k1 holding the most
    points sees three sides, the k1 holding the most among those that see four follows.
    Last, two sides that meet (the corner between them beyond the frame) and the frame's
    edges for the others, for when no other start gives an outline."""
    h, w = shape
    lens = perspective._Lens(shape)
    rng = np.random.default_rng(0)
    best: dict[int, tuple[int, np.ndarray, tuple[int, ...]]] = {}  # by how many sides are missing
    for k1 in K1_GRID:
        s = lens.centre + lens.undistort(points, k1) * lens.norm
        frame = np.minimum.reduce([s[:, 0] + 0.5, w - 0.5 - s[:, 0], s[:, 1] + 0.5, h - 0.5 - s[:, 1]])
        inside = frame > INLIER
        lines: list[np.ndarray] = []
        missing: list[int] = []
        held = int(np.sum(np.abs(frame) <= INLIER))  # the lens's frame holds these
        for side in range(4):
            found = _ransac_line(s[inside & (sides == side)], rng)
            if found is None or found[1] < MIN_SIDE_SHARE * (w if side in (0, 2) else h):
                missing.append(side)
                found = (_frame_edge(lens, k1, side, shape), 0)
            lines.append(found[0])
            held += found[1]
        if len(missing) > 2 or (len(missing) == 2 and (missing[1] - missing[0]) % 2 == 0):
            continue  # two opposite sides beyond the frame leave the picture's extent unknown
        corners = [np.cross(lines[(i + 3) % 4], lines[i]) for i in range(4)]  # left x top = top-left, ...
        if any(abs(c[2]) < 1e-9 for c in corners):
            continue
        meet = np.array([c[:2] / c[2] for c in corners])
        kind = len(missing)
        if kind not in best or held > best[kind][0]:
            start = lens.distort((meet - lens.centre) / lens.norm, k1)
            best[kind] = (held, np.r_[start.ravel(), k1], tuple(missing))
    ranked = sorted((found for kind, found in best.items() if kind < 2), key=lambda found: -found[0])
    if ranked and not ranked[0][2]:
        ranked = ranked[:1]  # four sides hold the most: no reason to doubt one
    if 2 in best:
        ranked.append(best[2])  # fitted only if no other start gives an outline
    starts: list[tuple[np.ndarray | None, tuple[int, ...]]] = [(start, missing) for _, start, missing in ranked]
    return starts


def _frame_edge(lens: perspective._Lens, k1: float, side: int, shape: tuple[int, int]) -> np.ndarray:
    """The line (a, b, c), where the lens is undone, through the ends of the frame's `side`."""
    h, w = shape
    ends = {0: [(-0.5, -0.5), (w - 0.5, -0.5)], 1: [(w - 0.5, -0.5), (w - 0.5, h - 0.5)]}
    ends |= {2: [(w - 0.5, h - 0.5), (-0.5, h - 0.5)], 3: [(-0.5, h - 0.5), (-0.5, -0.5)]}
    a, b = lens.centre + lens.undistort(np.array(ends[side], dtype=np.float64), k1) * lens.norm
    normal = np.array([a[1] - b[1], b[0] - a[0]]) / float(np.hypot(*(b - a)))
    return np.array([normal[0], normal[1], -float(normal @ a)])


def _ransac_line(points: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, int] | None:
    """The line (a, b, c: ax + by + c = 0, unit normal) through most of `points` within
    INLIER pixels, refitted to them, and how many those are."""
    if len(points) < 2:
        return None
    best, count = None, 0
    for _ in range(RANSAC_TRIES):
        a, b = points[rng.choice(len(points), 2, replace=False)]
        normal = np.array([a[1] - b[1], b[0] - a[0]])
        length = float(np.hypot(*normal))
        if length < 1e-9:
            continue
        normal /= length
        near = np.abs((points - a) @ normal) <= INLIER
        if near.sum() > count:
            best, count = near, int(near.sum())
    if best is None or count < 2:
        return None
    held = points[best]
    mean = held.mean(axis=0)
    normal = np.linalg.svd(held - mean)[2][1]
    return np.array([normal[0], normal[1], -float(normal @ mean)]), count


def _fit(x0: np.ndarray, points: np.ndarray, shape: tuple[int, int], unseen: tuple[int, ...] = ()) -> np.ndarray | None:
    """The outline fitted from `x0` (soft-L1 then Cauchy), None if its corners fall into a
    line. The sides `unseen` bound no point: a corner of one stays where it starts along
    its seen side (nothing fixes that), free across it, and a corner of two stays put."""
    rows = [i for i in range(8) if i not in unseen]
    start = x0[:8].reshape(4, 2)
    across: dict[int, np.ndarray] = {}  # an unseen side's corners: the direction each may move in
    held: list[int] = []  # the corner between two unseen sides
    for corner in range(4):  # corner c joins side c - 1 and side c
        before, after = (corner - 1) % 4 in unseen, corner in unseen
        if before and after:
            held.append(corner)
        elif before or after:  # along the seen side, towards its other corner
            u = start[corner] - start[(corner - 1) % 4 if after else (corner + 1) % 4]
            across[corner] = np.array([-u[1], u[0]]) / float(np.linalg.norm(u))
    free = [c for c in range(4) if c not in across and c not in held]

    def full(v: np.ndarray) -> np.ndarray:
        corners = start.copy()
        corners[free] = v[: 2 * len(free)].reshape(-1, 2)
        for n, (corner, direction) in enumerate(across.items()):
            corners[corner] = start[corner] + v[2 * len(free) + n] * direction
        out: np.ndarray = np.r_[corners.ravel(), v[-1]]
        return out

    def residuals(v: np.ndarray) -> np.ndarray:
        out: np.ndarray = _distances(full(v), points, shape)[rows].min(axis=0)
        beyond = out < -INLIER  # bright where the dark around the screen should be: counts fully
        return np.where(beyond, OUTSIDE_WEIGHT * (out + INLIER) - INLIER, out)

    v = np.r_[start[free].ravel(), np.zeros(len(across)), x0[8]]
    n = len(v) - 1
    bounds = (np.r_[np.full(n, -np.inf), K1_RANGE[0]], np.r_[np.full(n, np.inf), K1_RANGE[1]])
    scale = np.r_[np.full(n, FIT_SCALE[0]), FIT_SCALE[8]]
    try:
        for loss in ("soft_l1", "cauchy"):
            v = optimize.least_squares(
                residuals, v, loss=loss, f_scale=1.0, x_scale=scale, bounds=bounds, max_nfev=FIT_EVALUATIONS
            ).x
    except WatermarkError:
        return None
    return full(v)


def _plausible(corners: np.ndarray, shape: tuple[int, int]) -> bool:
    """A convex outline, within a quarter of the frame beyond each edge."""
    h, w = shape
    if np.any(corners < -0.25 * np.array([w, h])) or np.any(corners > 1.25 * np.array([w, h])):
        return False
    edges = np.roll(corners, -1, axis=0) - corners
    turns = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    return bool(np.all(turns > 0))


def _unseen_sides(params: np.ndarray, points: np.ndarray, shape: tuple[int, int]) -> list[int]:
    """The sides of the picture whose inlying border points span less than MIN_SIDE_SHARE
    of the frame's side (in pixels: a side fitted shrunk to nothing is not seen)."""
    h, w = shape
    distances = _distances(params, points, shape)
    nearest = np.argmin(distances, axis=0)
    close = np.abs(distances.min(axis=0)) <= INLIER
    corners = params[:8].reshape(4, 2)
    unseen = []
    for side in range(4):
        a, b = corners[side], corners[(side + 1) % 4]
        length = float(np.hypot(*(b - a)))
        on = points[close & (nearest == side)]
        span = float(np.ptp((on - a) @ (b - a))) / length if len(on) >= 2 and length > 0 else 0.0
        if span < MIN_SIDE_SHARE * (w if side in (0, 2) else h):
            unseen.append(side)
    return unseen
