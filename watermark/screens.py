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
    model `perspective` reads along: 4 corners and the barrel k1. A border point lies
    where the first of eight half-planes ends: the picture's four sides after the
    homography, and the four sides of the frame the lens saw (barrel distortion pulls
    black in at a copy's edges too). A corner may lie outside the copy; each side of the
    picture must still be seen along at least MIN_SIDE_SHARE of its length, or the fit
    is refused (`find_corners` gives None): a side beyond the frame leaves two of the
    eight coordinates free, where the mark's sync has no slope to search along.

Limits (measured on `attacks.camcorder` of the 1080p photographs, 2026-12-07, loaded machine)
    Where every side is seen, the corners come within a pixel (0.2-0.7 px), closer than a
    person's clicks, and k1 within 0.001. `scripts/bench-watermark-camcorder --blind` (5
    photographs x 4 camera placements): outlines found on 13 of 20, 11 within 2 px; 11 of
    20 stills read exact (55 %; 24 of 40 over 8 placements), no wrong payload; the null
    (unmarked recordings under the key, marked ones under a foreign key, 40 reads) best
    sync mean 5.6, max 7.1 against SCREEN_THRESHOLD 9, no payload. The misses: a side
    entirely beyond the frame (both its corners moved outward; about one placement in
    two), which is refused, and dark picture content along a border (the astronaut's
    black lower right), which pulls a fit off (outlines found 12.6 px off read nothing).
    On video the frames' mean luminance is fitted, where moving content rarely stays
    dark: the benchmark's camcorder row (one placement) reads on the 1080p footage and
    bigbuckbunny, not on the 272-line bikes clip. Cost: 0.5-2 s of CPU a copy where the
    outline is found, up to 4 s where it is refused; nothing for a copy not dark along
    three edges (`dark_margin`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy import ndimage, optimize

from watermark import perspective
from watermark.errors import WatermarkError

DARK = 14.0  # luminance (0-255) below which a pixel counts as the dark around a screen
EDGE_DEPTH = (2, 6)  # pixels inside a border whose median brightness sets its half level
INLIER = 1.5  # pixels: a border point this close to the fitted outline supports it
MIN_SIDE_SHARE = 0.25  # of a side's length that its inlying border points must span
K1_RANGE = (0.0, 0.1)  # barrel distortions the fit may choose (perspective.K1_SCAN's range)
K1_STARTS = (0.0, 0.03, 0.06)  # k1 the fit starts from, one fit each
FIT_SCALE = np.r_[np.full(8, 10.0), 0.01]  # typical change of a corner coordinate (pixels) and of k1
K1_GRID = tuple(np.arange(0.0, 0.1001, 0.01))  # k1 tried for the straight lines the fit starts from
RANSAC_TRIES = 200  # pairs of border points tried per side
FIT_EVALUATIONS = 40  # of the outline per least-squares fit (a fit from a good start needs a few)
RING = 2  # pixels: the frame's outer ring looked at by `dark_margin`


def dark_margin(y: np.ndarray) -> bool:
    """Whether a frame looks recorded off a screen: dark along at least three of its four
    edges while its middle is not (cheap: decides whether to gather a screen's evidence)."""
    h, w = y.shape
    if float(np.mean(y[h // 4 : 3 * h // 4, w // 4 : 3 * w // 4])) <= DARK:
        return False
    rings = (y[:RING], y[-RING:], y[:, :RING], y[:, -RING:])
    return sum(float(np.mean(ring <= DARK)) >= 0.6 for ring in rings) >= 3


def screens_in(y: np.ndarray, cell: Callable[[int, int], int]) -> list[perspective.Screen]:
    """The screens to read a copy of luminance `y` along when it looks recorded off a
    screen: its outline as a 16:9 picture marked at each of `perspective.MARKED_LINES`
    (`cell`: the marking's cell for a height and width); none unless every side is seen."""
    if not dark_margin(y):
        return []
    found = find_corners(y)
    return [] if found is None else perspective.standard_screens(found[0], perspective.MARKED_LINES, cell)


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
    centre, norm = np.array([(w - 1) / 2, (h - 1) / 2]), float(np.hypot(w, h)) / 2

    def seen(p: np.ndarray) -> np.ndarray:
        q = (p - centre) / norm
        out: np.ndarray = q * (1 + k1 * np.sum(q * q, axis=1, keepdims=True))
        return out

    m = perspective._homography(seen(corners), np.array([[0.0, 0.0], [w, 0.0], [w, h], [0.0, h]]))
    q = seen(points)
    d = m[2, 0] * q[:, 0] + m[2, 1] * q[:, 1] + m[2, 2]
    px = (m[0, 0] * q[:, 0] + m[0, 1] * q[:, 1] + m[0, 2]) / d
    py = (m[1, 0] * q[:, 0] + m[1, 1] * q[:, 1] + m[1, 2]) / d
    s = centre + q * norm
    return np.stack(
        [py + 0.5, w - 0.5 - px, h - 0.5 - py, px + 0.5]  # the picture's top, right, bottom, left
        + [s[:, 1] + 0.5, w - 0.5 - s[:, 0], h - 0.5 - s[:, 1], s[:, 0] + 0.5]  # the lens's frame
    )


def _outline(params: np.ndarray, points: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out: np.ndarray = _distances(params, points, shape).min(axis=0)
    return out


def find_corners(y: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The marked picture's corners (4 x 2: x, y in `y`'s pixels; top-left, top-right,
    bottom-right, bottom-left) and barrel k1 in a copy recorded off a screen, from its
    luminance `y`; None unless every side of the picture is seen (see the module's
    docstring)."""
    h, w = y.shape
    points, sides = edge_points(y)
    lit = ndimage.binary_opening(y > DARK, iterations=2)
    if len(points) < 8 or not lit.any():
        return None
    rows, cols = np.nonzero(lit)
    start = [np.argmin(cols + rows), np.argmin(rows - cols), np.argmax(cols + rows), np.argmax(rows - cols)]
    corners0 = np.array([[cols[i], rows[i]] for i in start], dtype=np.float64).ravel()
    starts = [np.r_[corners0, k1] for k1 in K1_STARTS]  # the fit has local optima where a side hides
    lined = _lines_start(points, sides, (h, w))  # behind the lens's frame: start from several places
    if lined is not None:
        starts.insert(0, lined)
    for x0 in starts:  # the first start whose outline holds
        params = _fit(x0, points, (h, w))
        if params is not None and _plausible(params[:8].reshape(4, 2), (h, w)) and _sides_seen(params, points, (h, w)):
            return params[:8].reshape(4, 2), float(params[8])
    return None


def _lines_start(points: np.ndarray, sides: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """An outline to fit from: for each k1 of K1_GRID, the border points undistorted and
    those of the lens's frame left out, a straight line per scanned side (RANSAC); the k1
    whose lines hold the most points, and the corners where its lines meet."""
    h, w = shape
    centre, norm = np.array([(w - 1) / 2, (h - 1) / 2]), float(np.hypot(w, h)) / 2
    rng = np.random.default_rng(0)
    best: tuple[int, np.ndarray] | None = None
    for k1 in K1_GRID:
        q = (points - centre) / norm
        s = centre + q * (1 + k1 * np.sum(q * q, axis=1, keepdims=True)) * norm
        inside = np.minimum.reduce([s[:, 0] + 0.5, w - 0.5 - s[:, 0], s[:, 1] + 0.5, h - 0.5 - s[:, 1]]) > INLIER
        lines, held = [], 0
        for side in range(4):
            found = _ransac_line(s[inside & (sides == side)], rng)
            if found is None:
                break
            lines.append(found[0])
            held += found[1]
        if len(lines) == 4 and (best is None or held > best[0]):
            corners = [np.cross(lines[(i + 3) % 4], lines[i]) for i in range(4)]  # left x top = top-left, ...
            if any(abs(c[2]) < 1e-9 for c in corners):
                continue
            meet = np.array([c[:2] / c[2] for c in corners])
            best = (held, np.r_[_distort(meet, k1, centre, norm).ravel(), k1])
    return None if best is None else best[1]


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


def _distort(points: np.ndarray, k1: float, centre: np.ndarray, norm: float) -> np.ndarray:
    """The copy's pixels whose undistorted positions are `points` (the inverse of the lens)."""
    q = (points - centre) / norm
    p = q.copy()
    for _ in range(50):
        p = q / (1 + k1 * np.sum(p * p, axis=1, keepdims=True))
    out: np.ndarray = centre + p * norm
    return out


def _fit(x0: np.ndarray, points: np.ndarray, shape: tuple[int, int]) -> np.ndarray | None:
    """The outline fitted from `x0` (soft-L1 then Cauchy), None if its corners fall into a line."""
    bounds = (np.r_[np.full(8, -np.inf), K1_RANGE[0]], np.r_[np.full(8, np.inf), K1_RANGE[1]])
    params = x0
    try:
        for loss in ("soft_l1", "cauchy"):
            params = optimize.least_squares(
                _outline,
                params,
                args=(points, shape),
                loss=loss,
                f_scale=1.0,
                x_scale=FIT_SCALE,
                bounds=bounds,
                max_nfev=FIT_EVALUATIONS,
            ).x
    except WatermarkError:
        return None
    return params


def _plausible(corners: np.ndarray, shape: tuple[int, int]) -> bool:
    """A convex outline, within a quarter of the frame beyond each edge."""
    h, w = shape
    if np.any(corners < -0.25 * np.array([w, h])) or np.any(corners > 1.25 * np.array([w, h])):
        return False
    edges = np.roll(corners, -1, axis=0) - corners
    turns = edges[:, 0] * np.roll(edges, -1, axis=0)[:, 1] - edges[:, 1] * np.roll(edges, -1, axis=0)[:, 0]
    return bool(np.all(turns > 0))


def _sides_seen(params: np.ndarray, points: np.ndarray, shape: tuple[int, int]) -> bool:
    """Whether each side of the picture has inlying border points along MIN_SIDE_SHARE of it."""
    distances = _distances(params, points, shape)
    nearest = np.argmin(distances, axis=0)
    close = np.abs(distances.min(axis=0)) <= INLIER
    corners = params[:8].reshape(4, 2)
    for side in range(4):
        a, b = corners[side], corners[(side + 1) % 4]
        on = points[close & (nearest == side)]
        if len(on) < 2:
            return False
        along = (on - a) @ (b - a) / float(np.sum((b - a) ** 2))
        if np.ptp(along) < MIN_SIDE_SHARE:
            return False
    return True
