"""Finding a recorded screen in a copy (`watermark.screens`): a camcorder copy's outline
gives the corners `watermark.perspective` reads along, so the copy reads without anyone
marking them; frames that are not recordings of a screen are left alone."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.watermark_images import KEY, PAYLOAD, marked, original
from watermark import image, perspective, screens
from watermark.attacks import camcorder, camcorder_screen, inset

OTHER = b"test key: distribution 2"


@pytest.mark.parametrize(("name", "seed"), [("coffee", 0), ("rocket", 2), ("chelsea", 5)])
def test_a_camcorder_copys_corners_are_found_within_a_pixel(name, seed):
    y = image.luma(camcorder(original(name, "1080p"), seed=seed))
    assert screens.dark_margin(y)
    found = screens.find_corners(y)
    assert found is not None
    corners, k1 = found
    truth = camcorder_screen((1080, 1920), seed=seed)
    assert np.max(np.hypot(*(corners - truth).T)) < 1.0, corners - truth
    assert k1 == pytest.approx(0.04, abs=0.005)


def test_a_side_beyond_the_frame_is_left_to_the_reading():
    truth = camcorder_screen((1080, 1920), seed=1)
    assert np.all(truth[[2, 3], 1] > 480)  # this placement's bottom side lies below the recording
    found = screens.find_outline(image.luma(camcorder(original("rocket", "1080p"), seed=1)))
    assert found is not None and [u.side for u in found.unseen] == [2]
    assert np.max(np.hypot(*(found.corners[:2] - truth[:2]).T)) < 1.0  # the top corners, seen
    assert np.all(found.corners[2:, 1] > 470)  # the bottom ones where the sides meet the frame's edge
    assert screens.find_corners(image.luma(camcorder(original("rocket", "1080p"), seed=1))) is None


def test_two_sides_beyond_the_frame_are_left_to_the_reading():
    truth = camcorder_screen((1080, 1920), seed=8)
    assert np.all(truth[:2, 1] < 0) and np.all(truth[1:3, 0] > 853)  # top and right beyond the frame
    y = image.luma(camcorder(original("rocket", "1080p"), seed=8))
    found = screens.find_outline(y)
    assert found is not None and [u.side for u in found.unseen] == [0, 1]
    assert np.hypot(*(found.corners[3] - truth[3])) < 1.0  # the bottom-left corner, the only one seen
    assert [[u.side for u in c.unseen] for c in screens.screens_in(y, image.cell_size)] == [[0, 1]]


def test_a_still_whose_top_and_right_lie_beyond_the_frame_reads_blind():
    found = image.detect_many(camcorder(marked("rocket", "1080p"), seed=8), [OTHER, KEY])
    assert (found.payload, found.key_index) == (PAYLOAD, 1), found
    plain = image.detect_many(camcorder(original("rocket", "1080p"), seed=8), [KEY])
    assert plain.payload is None and plain.sync < perspective.SCREEN_THRESHOLD - 1, plain


def test_a_still_whose_bottom_lies_below_the_frame_reads_blind():
    found = image.detect_many(camcorder(marked("chelsea", "1080p"), seed=1), [OTHER, KEY])
    assert (found.payload, found.key_index) == (PAYLOAD, 1), found
    plain = image.detect_many(camcorder(original("chelsea", "1080p"), seed=1), [KEY])
    assert plain.payload is None and plain.sync < perspective.SCREEN_THRESHOLD - 1, plain


def test_pictures_not_recorded_off_a_screen_are_not_screens():
    picture = original("coffee", "1080p")
    letterboxed = picture.copy()
    letterboxed[:140] = letterboxed[-140:] = 0  # bars above and below only
    for y in (image.luma(picture), image.luma(letterboxed), np.zeros((480, 853), np.float32)):
        assert not screens.dark_margin(y)
        assert screens.screens_in(y, image.cell_size) == []


def test_a_shrink_into_black_bars_is_found_as_a_rectangle():
    y = image.luma(inset(original("chelsea", "1080p"), np.zeros((1080, 1920, 3), np.uint8), 0.6, (0.5, 0.5)))
    found = screens.find_corners(y)
    assert found is not None
    corners, k1 = found
    expected = np.array([[384, 216], [1536, 216], [1536, 864], [384, 864]]) - 0.5
    assert np.max(np.abs(corners - expected)) < 1.0
    assert k1 < 0.005


def test_the_sizes_a_found_screen_is_tried_at_are_told_apart_by_their_tiles():
    corners = camcorder_screen((1080, 1920), seed=0)
    found = perspective.standard_screens(corners, perspective.MARKED_LINES, image.cell_size)
    tiles = {(s.size[1] / (image.TILE_CELLS * s.cell), s.size[0] / (image.TILE_CELLS * s.cell)) for s in found}
    assert len(tiles) == len(found) > 1
    assert (1080, 1920) in {s.size for s in found}


def test_a_camcorder_still_reads_blind_when_its_screen_is_seen():
    copy = camcorder(marked("coffee", "1080p"), seed=0)
    found = image.detect_many(copy, [OTHER, KEY])
    assert (found.payload, found.key_index) == (PAYLOAD, 1), found
    assert found.sync >= perspective.SCREEN_THRESHOLD


def test_unmarked_and_foreign_keyed_recordings_read_nothing_blind():
    for picture, key in ((original("coffee", "1080p"), KEY), (marked("coffee", "1080p"), OTHER)):
        y = image.luma(camcorder(picture, seed=0))
        assert screens.screens_in(y, image.cell_size)  # the screen is found: its stage runs
        found = image.detect_many(camcorder(picture, seed=0), [key])
        assert found.payload is None
        assert found.sync < perspective.SCREEN_THRESHOLD - 1, found


def test_bright_picture_beyond_a_fitted_side_pulls_the_outline_out_to_the_screens_edge():
    """The astronaut's black lower right looks like the dark around a screen; the helmet's
    bright edge below it must not be left outside the outline."""
    y = image.luma(camcorder(original("astronaut", "1080p"), seed=4))
    found = screens.find_corners(y)
    assert found is not None
    truth = camcorder_screen((1080, 1920), seed=4)
    assert np.max(np.hypot(*(found[0] - truth).T)) < 1.0, found[0] - truth


@pytest.mark.parametrize(("name", "seed"), [("astronaut", 3), ("coffee", 2)])
def test_a_side_whose_end_dark_content_hides_is_also_tried_as_seen(name, seed):
    y = image.luma(camcorder(original(name, "1080p"), seed=seed))
    first, *others = screens.find_outlines(y)
    assert first.unseen  # the likelier reading: a side beyond the frame, which is wrong here
    truth = camcorder_screen((1080, 1920), seed=seed)
    assert [o.unseen for o in others] == [()]
    assert np.max(np.hypot(*(others[0].corners - truth).T)) < 1.0
    candidates = screens.screens_in(y, image.cell_size)
    assert [not c.unseen for c in candidates] == [False, True]


def test_a_still_read_along_its_second_outline():
    found = image.detect_many(camcorder(marked("astronaut", "1080p"), seed=3), [OTHER, KEY])
    assert (found.payload, found.key_index) == (PAYLOAD, 1), found
