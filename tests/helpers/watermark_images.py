"""Test photographs from skimage.data only (bundled with scikit-image; nothing is downloaded
at run time), at native size and scaled up to a 1920 x 1080 frame, marked once per session."""

from __future__ import annotations

import functools

import numpy as np

from watermark.image import embed
from watermark.testimages import full_hd, photograph

KEY = b"test key: distribution 1"
PAYLOAD = 0x5EED_0BAD_F00D


@functools.cache
def original(name: str, size: str) -> np.ndarray:
    image = photograph(name)
    image = full_hd(image) if size == "1080p" else image
    image.setflags(write=False)
    return image


@functools.cache
def marked(name: str, size: str) -> np.ndarray:
    image = embed(original(name, size), PAYLOAD, KEY)
    image.setflags(write=False)
    return image
