"""The second reading in windows of the picture (`watermark.regions`): what it finds that the
whole-frame reading misses, and that it finds nothing where there is no mark."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers.watermark_images import KEY, PAYLOAD, marked, original
from watermark import image, regions
from watermark.attacks import inset, other_footage
from watermark.testimages import full_hd, photograph

OTHER = b"test key: distribution 2"


def test_an_inset_of_forty_percent_lies_mostly_inside_one_window():
    h, w = 1080, 1920
    spans = regions.windows(h, w)
    assert len(spans) == regions.WINDOW_STEPS**2
    ih, iw = int(h * 0.4), int(w * 0.4)
    for top in range(0, h - ih + 1, 54):
        for left in range(0, w - iw + 1, 96):
            best = max(
                max(0, min(rows.stop, top + ih) - max(rows.start, top))
                * max(0, min(cols.stop, left + iw) - max(cols.start, left))
                for rows, cols in spans
            )
            assert best >= 0.6 * ih * iw, (top, left)


def test_no_windows_below_the_lattice_search_size():
    assert regions.windows(200, 300) == []


def test_picture_in_picture_reads_only_in_the_second_stage():
    picture = marked("camera", "1080p")
    copy = inset(picture, other_footage(picture.shape), 0.4)
    r = image.residual(image.luma(copy))
    assert image.decide(image.fold_candidates(r), [KEY]).payload is None
    found = regions.detect_regions(r, [OTHER, KEY])
    assert (found.payload, found.key_index) == (PAYLOAD, 1), found
    assert found.sync >= regions.REGION_THRESHOLD
    assert image.detect(copy, KEY).payload == PAYLOAD


@pytest.mark.parametrize("name", ["astronaut", "coins", "grass"])
def test_unmarked_and_foreign_keyed_read_nothing_in_windows(name):
    picture = original(name, "1080p") if name == "astronaut" else full_hd(photograph(name))
    for copy, key in ((picture, KEY), (inset(marked("coffee", "1080p"), np.zeros((1080, 1920, 3), np.uint8)), OTHER)):
        found = regions.detect_regions(image.residual(image.luma(copy)), [key], periods=[256.0, 512.0])
        assert found.payload is None
        assert found.sync < regions.REGION_THRESHOLD - 2, found
