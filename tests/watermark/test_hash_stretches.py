"""A long video hashed in stretches side by side (`watermark.hash_stretches`) gives
the sequence one read gives. Footage: skimage.data photographs (pans, zooms, cuts) encoded
here."""

from __future__ import annotations

import numpy as np
import pytest

from watermark.frame_hashes import REGISTERED_VARIANTS
from watermark.hash_sequence import hash_video
from watermark.hash_stretches import STRETCH_GRID, hash_video_in_stretches, starts
from watermark.testvideos import photo_footage


def test_stretches_start_on_the_grid_and_cover_the_video():
    for duration, workers in ((25.0, 2), (7200.0, 2), (61.0, 4), (9.0, 2)):
        begins = starts(duration, workers)
        assert begins[0] == 0 and all(b % STRETCH_GRID == 0 for b in begins)
        assert begins[-1] < duration and np.all(np.diff(begins) > 0)
        assert len(begins) <= workers * 3
    assert len(starts(7200.0, 2)) == 6  # two hours: three stretches a thread


@pytest.mark.parametrize("workers", [2, 3])
def test_a_video_hashed_in_stretches_is_hashed_as_one_read_hashes_it(tmp_path, workers):
    path = photo_footage(tmp_path / "footage.mp4", seconds=25.0, shot_seconds=3.0)
    whole = hash_video(path, REGISTERED_VARIANTS)
    seen: list[tuple[float, float | None]] = []
    joined = hash_video_in_stretches(
        path, REGISTERED_VARIANTS, workers=workers, min_seconds=0, progress=lambda d, t: seen.append((d, t))
    )
    assert len(seen) == len(starts(25.0, workers)) > 1
    np.testing.assert_array_equal(joined.times_ms, whole.times_ms)
    np.testing.assert_array_equal(joined.hashes, whole.hashes)
    assert (joined.kind, joined.variants, joined.sampled) == (whole.kind, whole.variants, whole.sampled)
    assert joined.duration == pytest.approx(whole.duration)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_short_video_is_hashed_in_one_read(tmp_path):
    path = photo_footage(tmp_path / "short.mp4", seconds=4.0)
    whole = hash_video(path, REGISTERED_VARIANTS)
    one = hash_video_in_stretches(path, REGISTERED_VARIANTS, workers=2)  # under MIN_SECONDS
    np.testing.assert_array_equal(one.hashes, whole.hashes)
    assert one.duration == whole.duration
