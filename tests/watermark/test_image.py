"""Embed/detect on skimage.data photographs (see conftest), invisibility and robustness."""

import numpy as np
import pytest
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from tests.helpers.watermark_images import KEY, PAYLOAD, marked, original
from watermark.attacks import ATTACKS, jpeg, noise
from watermark.errors import WatermarkError
from watermark.image import decode, detect, embed, luma, soft_bits


def test_invisible(image_id):
    image, mark = original(*image_id), marked(*image_id)
    assert mark.shape == image.shape and mark.dtype == np.uint8
    axis = -1 if image.ndim == 3 else None
    assert peak_signal_noise_ratio(image, mark, data_range=255) >= 40.0
    assert structural_similarity(image, mark, channel_axis=axis, data_range=255) >= 0.98


def test_round_trip(image_id):
    found = detect(marked(*image_id), KEY)
    assert found.payload == PAYLOAD
    assert found.confidence > 0.5


# All listed attacks pass on 1080p frames. At native size (300-640 pixels, only a few
# tiles of 2-pixel cells) only the value changes pass everywhere; see the benchmark.
HD = ["astronaut", "camera", "coffee"]


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("name", HD)
def test_attack_1080p(name, attack):
    found = detect(ATTACKS[attack](marked(name, "1080p")), KEY)
    assert found.payload == PAYLOAD, found


@pytest.mark.parametrize("attack", ["bright+20", "bright-20", "contrast0.8"])
@pytest.mark.parametrize("name", ["astronaut", "camera", "coffee", "chelsea", "rocket"])
def test_attack_native(name, attack):
    found = detect(ATTACKS[attack](marked(name, "native")), KEY)
    assert found.payload == PAYLOAD, found


@pytest.mark.parametrize("name", ["astronaut", "camera", "coffee", "chelsea", "rocket"])
def test_unmarked_reads_no_mark(name):
    for size in ("native", "1080p"):
        for image in (original(name, size), jpeg(original(name, size), 60)):
            assert detect(image, KEY).payload is None


@pytest.mark.parametrize("name", ["astronaut", "camera", "coffee", "chelsea", "rocket"])
def test_other_key_reads_no_mark(name):
    for size in ("native", "1080p"):
        for other in (b"another distribution", b"test key: distribution 2"):
            assert detect(marked(name, size), other).payload is None


def test_soft_values_of_frames_add_up():
    """Three frames, each too noisy to read alone, decode once their soft values are summed."""
    frame = marked("coffee", "native")
    frames = [noise(jpeg(frame, 40), 12.0, seed=s) for s in range(3)]
    readings = [soft_bits(luma(f), KEY) for f in frames]
    assert decode(sum(soft for soft, _ in readings)) == PAYLOAD


def test_grey_rgba_and_single_channel():
    rgb = original("astronaut", "native")
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 77, np.uint8)])
    out = embed(rgba, 42, KEY)
    assert out.shape == rgba.shape and np.all(out[..., 3] == 77)
    assert detect(out, KEY).payload == 42
    grey = original("camera", "native")
    assert detect(embed(grey[..., None], 43, KEY), KEY).payload == 43


@pytest.mark.parametrize(
    "image, payload, key, message",
    [
        (np.zeros((100, 400, 3), np.uint8), 1, b"k", "smaller than one watermark tile"),
        (np.zeros((256, 256, 3), np.float32), 1, b"k", "uint8"),
        (np.zeros((256, 256, 2), np.uint8), 1, b"k", "shape"),
        (np.zeros((256, 256, 3), np.uint8), 2**48, b"k", "below 2\\*\\*48"),
        (np.zeros((256, 256, 3), np.uint8), -5, b"k", "negative"),
        (np.zeros((256, 256, 3), np.uint8), 1, b"", "key is empty"),
        (np.zeros((256, 256, 3), np.uint8), 1, "text", "must be bytes"),
        ([[0]], 1, b"k", "numpy array"),
    ],
)
def test_bad_inputs(image, payload, key, message):
    with pytest.raises(WatermarkError, match=message):
        embed(image, payload, key)


def test_detect_bad_inputs():
    with pytest.raises(WatermarkError, match="smaller than one watermark tile"):
        detect(np.zeros((64, 64), np.uint8), KEY)
    with pytest.raises(WatermarkError, match="key is empty"):
        detect(marked("camera", "native"), b"")
