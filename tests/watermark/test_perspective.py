"""The reading along a recorded screen's perspective (`watermark.perspective`): a camcorder
copy reads along the corners an investigator marks, and nothing reads without the mark."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.watermark_images import KEY, PAYLOAD, marked, original
from watermark import image, perspective, screens
from watermark.attacks import camcorder, camcorder_screen
from watermark.errors import WatermarkError

OTHER = b"test key: distribution 2"


def _screen(seed: int, error: float = 0.0) -> perspective.Screen:
    """Where the picture's corners land in a 1080p still's camcorder copy, each coordinate
    off by `error` pixels in alternating directions (a person's clicks)."""
    corners = camcorder_screen((1080, 1920), seed=seed) + error * np.array([[1, -1], [-1, 1], [1, 1], [-1, -1]])
    return perspective.Screen(tuple((float(x), float(y)) for x, y in corners), (1080, 1920), 4)


def test_the_screen_of_a_recording_without_geometry_is_the_frame():
    corners = camcorder_screen((1080, 1920), corners=0.0, k1=0.0, lines=None)
    assert np.allclose(corners, [[0, 0], [1920, 0], [1920, 1080], [0, 1080]])
    assert camcorder_screen((1080, 1920), corners=0.0, k1=0.0)[2] == pytest.approx([852.72, 479.72], abs=0.01)


def test_a_camcorder_still_whose_screen_leaves_the_frame_reads_along_the_corners_given():
    copy = camcorder(marked("rocket", "1080p"), seed=8, surround=128)  # top and right beyond the frame, a lit room
    assert copy.shape[:2] == (480, 853)
    assert not screens.dark_margin(image.luma(copy))  # no dark around the screen to find it by
    assert image.detect(copy, KEY).payload is None
    found = image.detect_many(copy, [OTHER, KEY], screen=_screen(8, error=1.0))
    assert (found.payload, found.key_index) == (PAYLOAD, 1), found
    assert found.sync >= perspective.SCREEN_THRESHOLD


def test_unmarked_and_foreign_keyed_recordings_read_nothing_along_the_screen():
    where = _screen(2)
    for picture, key in ((original("astronaut", "1080p"), KEY), (marked("astronaut", "1080p"), OTHER)):
        y = image.luma(camcorder(picture, seed=2))
        found = perspective.detect_screen(perspective.screen_residual(y), [key], where)
        assert found.payload is None
        assert found.sync < perspective.SCREEN_THRESHOLD - 1, found


def test_a_screen_needs_four_corners_not_in_a_line():
    with pytest.raises(WatermarkError):
        perspective.Screen(((0.0, 0.0), (1.0, 0.0), (1.0, 1.0)), (1080, 1920), 4)
    flat = perspective.Screen(((0.0, 0.0), (100.0, 0.0), (200.0, 0.0), (300.0, 0.0)), (1080, 1920), 4)
    with pytest.raises(WatermarkError):
        perspective.refine(np.zeros((480, 853), np.float32), flat, KEY, evaluations=12)


def test_a_screen_scales_with_the_analysis():
    where = perspective.Screen(((0.5, 1.5), (10.5, 1.5), (10.5, 9.5), (0.5, 9.5)), (1080, 1920), 4)
    assert where.scaled(0.5).corners[1] == (5.0, 0.5)
