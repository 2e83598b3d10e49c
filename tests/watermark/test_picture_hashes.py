"""pHash and PDQ of one picture, on scikit-image's bundled photographs scaled to 1080p."""

import itertools

import numpy as np
import pytest

from watermark.attacks import ATTACKS
from watermark.errors import WatermarkError
from watermark.picture_hashes import MIN_QUALITY, hamming, picture_hashes
from watermark.testimages import PHOTOGRAPHS, full_hd, photograph

PDQ_MATCH = 31  # of 256 bits: PDQ's recommended match threshold
PHASH_MATCH = 10  # of 64 bits
# What a re-encode or a filter does without moving the picture; geometry (crop, mirror,
# letterbox) moves global hashes far, which is for the matcher's query variants to handle.
VALUE_ATTACKS = ["jpeg50", "crf30", "scale50", "blur1", "bright+20", "bright-20", "contrast0.8", "noise5"]


def _hd(name: str) -> np.ndarray:
    return full_hd(photograph(name))


@pytest.mark.parametrize("name", PHOTOGRAPHS)
def test_attacked_copies_stay_close(name):
    original = picture_hashes(_hd(name))
    assert original.usable and original.quality >= MIN_QUALITY
    for attack in VALUE_ATTACKS:
        copy = picture_hashes(ATTACKS[attack](_hd(name)))
        assert hamming(original.pdq, copy.pdq) <= PDQ_MATCH, attack
        assert hamming(original.phash, copy.phash) <= PHASH_MATCH, attack


def test_unrelated_photographs_are_far_apart():
    hashes = {name: picture_hashes(_hd(name)) for name in PHOTOGRAPHS}
    for a, b in itertools.combinations(PHOTOGRAPHS, 2):
        assert hamming(hashes[a].pdq, hashes[b].pdq) > 2 * PDQ_MATCH, (a, b)
        assert hamming(hashes[a].phash, hashes[b].phash) > PHASH_MATCH, (a, b)


def test_flat_pictures_are_not_used_for_matching():
    black = picture_hashes(np.full((720, 1280, 3), 16, np.uint8))
    ramp = picture_hashes(np.tile(np.linspace(0, 255, 1280).astype(np.uint8), (720, 1)))
    assert not black.usable and not ramp.usable
    assert black.quality < MIN_QUALITY and ramp.quality < MIN_QUALITY


def test_grey_rgba_and_single_channel_hash_like_rgb():
    grey = photograph("camera")
    rgb = np.repeat(grey[..., None], 3, axis=2)
    rgba = np.dstack([rgb, np.full(grey.shape, 255, np.uint8)])
    expected = picture_hashes(rgb)
    for variant in (grey, grey[..., None], rgba):
        assert picture_hashes(variant) == expected
    assert len(expected.pdq) == 32 and 0 <= expected.phash < 2**64


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((8, 400, 3), np.uint8), "too small"),
        (np.zeros((64, 64, 3), np.float32), "uint8"),
        (np.zeros((64, 64, 2), np.uint8), "grey, RGB or RGBA"),
        ([[0, 1], [2, 3]], "numpy array"),
    ],
)
def test_bad_pictures(image, message):
    with pytest.raises(WatermarkError, match=message):
        picture_hashes(image)


def test_huge_picture_is_refused_before_hashing():
    huge = np.broadcast_to(np.zeros((1, 1, 3), np.uint8), (8000, 8000, 3))  # no 192 MB allocated
    with pytest.raises(WatermarkError, match="megapixels"):
        picture_hashes(huge)


def test_hashes_of_different_kinds_do_not_compare():
    h = picture_hashes(photograph("astronaut"))
    with pytest.raises(WatermarkError, match="different kinds"):
        hamming(h.pdq, h.phash)
    with pytest.raises(WatermarkError, match="different kinds"):
        hamming(h.pdq, h.pdq[:16])
