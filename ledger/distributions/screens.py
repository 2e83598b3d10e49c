"""Where a copy filmed off a screen shows the marked picture, as an investigator gives it
(the API's and the CLI's `screen` and `marked_size`): parsed once, refused with a reason."""

from __future__ import annotations

import math
from dataclasses import dataclass

from ledger.errors import InvalidInput

MAX_SIDE = 16384  # pixels: the largest marked width or height taken


@dataclass(frozen=True)
class ScreenHint:
    """Where the marked picture lies in a copy filmed off a screen, as an investigator marks
    it: its corners in the copy's pixels (top-left, top-right, bottom-right, bottom-left)
    and the size (height, width) it was marked at."""

    corners: tuple[tuple[float, float], ...]
    marked_size: tuple[int, int]


def parse_screen(corners: str | None, marked_size: str | None) -> ScreenHint | None:
    """A `ScreenHint` from 'X,Y X,Y X,Y X,Y' and 'WIDTHxHEIGHT' (both or neither)."""
    if corners is None and marked_size is None:
        return None
    if corners is None or marked_size is None:
        raise InvalidInput("screen", "screen and marked_size go together: the corners and the size marked at")
    try:
        points = tuple((float(x), float(y)) for x, y in (pair.split(",") for pair in corners.split()))
    except ValueError:
        points = ()
    if len(points) != 4 or not all(map(math.isfinite, sum(points, ()))):
        raise InvalidInput("screen", f"screen wants four corners as 'X,Y X,Y X,Y X,Y', not {corners!r}")
    width, _, height = marked_size.lower().partition("x")
    if not (width.isdigit() and height.isdigit() and 0 < int(width) <= MAX_SIDE and 0 < int(height) <= MAX_SIDE):
        raise InvalidInput("marked_size", f"marked_size wants WIDTHxHEIGHT, e.g. 1920x1080, not {marked_size!r}")
    return ScreenHint(points, (int(height), int(width)))
