"""The images a test runs on: every photograph of skimage.data, at native size and at 1080p
(tests/helpers/watermark_images.py holds them, and their marked copies)."""

from __future__ import annotations

import pytest

from watermark.testimages import PHOTOGRAPHS

ALL_IMAGES = [(name, size) for name in PHOTOGRAPHS for size in ("native", "1080p")]


@pytest.fixture(params=ALL_IMAGES, ids=lambda p: f"{p[0]}-{p[1]}")
def image_id(request):
    return request.param
