"""SSIM of a marked plane (`watermark.ssim`) against scikit-image's, and the floor `limit` keeps."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from skimage.metrics import structural_similarity

from watermark import image, ssim
from watermark.testimages import photograph

KEY = b"ssim test key"


def _grey(name: str) -> np.ndarray:
    picture = photograph(name)
    return picture if picture.ndim == 2 else cv2.cvtColor(picture[..., :3], cv2.COLOR_RGB2GRAY)


def _delta(y: np.ndarray, strength: float) -> np.ndarray:
    return image.mark_delta(y, image.pattern(*y.shape, 0xABC, KEY, 3), strength)


@pytest.mark.parametrize("name", ["camera", "chelsea", "coffee"])
@pytest.mark.parametrize("strength", [1.0, 4.0])
def test_ssim_is_scikit_images(name, strength):
    """scikit-image's default SSIM, within 1 % of what the mark costs (the windows are
    sampled), a dark (clipped) copy included."""
    for y in (_grey(name), (_grey(name) // 8).astype(np.uint8)):
        marked = cv2.add(y, _delta(y, strength), dtype=cv2.CV_8U)
        expected = structural_similarity(y, marked, data_range=255)
        assert ssim.Source(y).ssim(marked) == pytest.approx(expected, abs=0.01 * (1 - expected) + 1e-5)
    assert ssim.Source(y).ssim(y) == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("floor", [0.95, 0.98, 0.99])
def test_limit_keeps_the_floor_and_no_more(floor):
    """A mark too strong for the floor is scaled down to just over it (by scikit-image's
    measure too); one that fits is kept whole."""
    y = _grey("chelsea")
    delta = _delta(y, 6.0)
    assert structural_similarity(y, cv2.add(y, delta, dtype=cv2.CV_8U), data_range=255) < floor
    marked, measured, scale = ssim.limit(y, delta, floor)
    assert floor <= measured < floor + 0.002 and 0 < scale < 1
    assert structural_similarity(y, marked, data_range=255) >= floor - 1e-4
    gentle = _delta(y, 0.5)
    marked, measured, scale = ssim.limit(y, gentle, floor)
    assert scale == 1 and np.array_equal(marked, cv2.add(y, gentle, dtype=cv2.CV_8U)) and measured >= floor
