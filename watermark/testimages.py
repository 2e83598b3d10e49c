"""Test photographs for the watermark's tests and benchmark.

They come only from `skimage.data` (photographs bundled with scikit-image, nothing is
downloaded at run time), at native size and scaled up to a 1920 x 1080 frame.
"""

from __future__ import annotations

import cv2
import numpy as np

PHOTOGRAPHS = ("astronaut", "camera", "coffee", "chelsea", "rocket")
# Never registered anywhere: the negative set of the matcher's tests and benchmark.
UNRELATED_PHOTOGRAPHS = (
    "immunohistochemistry",
    "hubble_deep_field",
    "retina",
    "grass",
    "gravel",
    "brick",
    "moon",
    "clock",
    "coins",
)


def photograph(name: str) -> np.ndarray:
    from skimage import data

    picture: np.ndarray = getattr(data, name)()
    return picture


def full_hd(image: np.ndarray) -> np.ndarray:
    """Scale up (bicubic) to cover 1920 x 1080 and cut the centre out, like a frame."""
    h, w = image.shape[:2]
    f = max(1080 / h, 1920 / w)
    up = cv2.resize(image, (int(np.ceil(w * f)), int(np.ceil(h * f))), interpolation=cv2.INTER_CUBIC)
    top, left = (up.shape[0] - 1080) // 2, (up.shape[1] - 1920) // 2
    return np.ascontiguousarray(up[top : top + 1080, left : left + 1920])
