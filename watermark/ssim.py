"""SSIM of a marked luminance plane against its source, and the mark scaled down to keep it.

SSIM is computed as scikit-image's `structural_similarity` does by default (7 x 7 uniform
windows, sample covariance, K1 = 0.01, K2 = 0.03, data range 255, the mean over the windows
wholly inside the plane), from box filters of the source and of the change, over every
STEP-th window each way: within 6e-5 of scikit-image's figure (29 marked frames of photo
footage at 360p to 1080p, bikes and bigbuckbunny), well inside the 0.001 by which the
video's floor (0.981) clears 0.98, and cheap enough to check every frame as it is marked.
The check is of the rounded, clipped plane that is written, so nothing is left to a model
of the mark.

`limit` marks a plane and, when the result falls under a floor, scales the change down by
as little as the measured loss allows (1 - SSIM grows about as the square of the mark's
amplitude) and measures again, until it holds: a frame with texture keeps its full mark,
a low-texture one (a smooth, upscaled photograph; a fade) loses only what the floor needs.
"""

from __future__ import annotations

import cv2
import numpy as np

from watermark import image

WINDOW = 7  # pixels a side, as scikit-image
C1 = (0.01 * 255) ** 2
C2 = (0.03 * 255) ** 2
STEP = 2  # every STEP-th window each way is averaged
SHRINK = 0.995  # each new try scales a little further than the square law asks, so that tries end
_COVARIANCE = WINDOW**2 / (WINDOW**2 - 1)  # sample covariance, as scikit-image's default
_EDGE = WINDOW // 2


def _windows(a: np.ndarray, square: bool = False) -> np.ndarray:
    """Means of `a` (or of its square) over the windows averaged (float32, contiguous)."""
    box = cv2.sqrBoxFilter if square else cv2.boxFilter
    return _sample(box(a, cv2.CV_32F, (WINDOW, WINDOW), borderType=cv2.BORDER_REFLECT))


def _sample(per_pixel: np.ndarray) -> np.ndarray:
    """The values of a per-pixel window map at the centres of the windows averaged: those
    wholly inside the plane, every STEP-th each way (copied: arithmetic on a strided view
    costs several times more)."""
    return np.ascontiguousarray(per_pixel[_EDGE:-_EDGE:STEP, _EDGE:-_EDGE:STEP])


class Source:
    """A source plane (uint8) and the terms of SSIM that depend on it alone, computed once
    for however many marked versions of it are measured. `stats`: `image.local_stats(y)`,
    which the mark's masking has computed already."""

    def __init__(self, y: np.ndarray, stats: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        mean, var = image.local_stats(y) if stats is None else stats
        self.y, self.mean = y, _sample(mean)
        self.luminance = cv2.multiply(self.mean, self.mean, scale=2.0) + np.float32(C1)  # 2 mean x^2 + C1
        self.structure = _sample(var) * np.float32(2 * _COVARIANCE) + np.float32(C2)  # 2 var x + C2

    def ssim(self, marked: np.ndarray) -> float:
        """The SSIM of `marked` (uint8, the source's shape) against the source. With
        y = x + d: 2 mean x mean y = 2 mean x^2 + 2 mean x mean d, mean x^2 + mean y^2 is
        that plus mean d^2; 2 cov(x, y) = 2 var x + 2 cov(x, d), var x + var y is that
        plus var d."""
        d = cv2.subtract(marked, self.y, dtype=cv2.CV_16S)  # whole grey levels: box filters run faster on them
        mean_d = _windows(d)
        cross = cv2.multiply(self.mean, mean_d)  # mean x mean d
        square = cv2.multiply(mean_d, mean_d)
        luminance = cv2.scaleAdd(cross, 2.0, self.luminance)
        cov = cv2.subtract(_windows(cv2.multiply(self.y, d, dtype=cv2.CV_32F)), cross)  # cov(x, d)
        structure = cv2.scaleAdd(cov, 2 * _COVARIANCE, self.structure)
        var = cv2.subtract(_windows(d, square=True), square)  # var d
        below = cv2.multiply(cv2.add(luminance, square), cv2.scaleAdd(var, _COVARIANCE, structure))
        return float(cv2.mean(cv2.divide(cv2.multiply(luminance, structure), below))[0])


def limit(
    y: np.ndarray, delta: np.ndarray, floor: float, stats: tuple[np.ndarray, np.ndarray] | None = None
) -> tuple[np.ndarray, float, float]:
    """`y` (uint8) plus `delta` (float32), rounded and clipped, with `delta` scaled down as
    little as needed for an SSIM of at least `floor` (under 1) against `y`: (marked plane,
    its SSIM, the scale kept, 1 when the whole of `delta` fits). `stats`: as for `Source`."""
    source = Source(y, stats)
    marked = cv2.add(y, delta, dtype=cv2.CV_8U)
    ssim, scale = source.ssim(marked), 1.0
    while ssim < floor:
        scale *= SHRINK * np.sqrt((1 - floor) / (1 - ssim))
        marked = cv2.add(y, cv2.multiply(delta, scale), dtype=cv2.CV_8U)
        ssim = source.ssim(marked)
    return marked, ssim, scale
