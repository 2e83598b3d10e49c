import numpy as np
import pytest

from watermark import payload
from watermark.errors import WatermarkError


@pytest.mark.parametrize("value", [0, 1, 0xDEADBEEF, 2**48 - 1])
def test_clean_round_trip(value):
    coded = payload.encode(value)
    assert coded.shape == (payload.CODED_BITS,)
    assert payload.decode(1.0 - 2.0 * coded) == value


def test_soft_decoding_corrects_noise():
    rng = np.random.default_rng(7)
    for _ in range(50):
        value = int(rng.integers(0, 2**48))
        noisy = payload.symbols(value) + rng.normal(0, 0.8, payload.CODED_BITS)
        assert payload.decode(noisy) == value


def test_noise_does_not_decode():
    rng = np.random.default_rng(8)
    assert all(payload.decode(rng.normal(size=payload.CODED_BITS)) is None for _ in range(500))


@pytest.mark.parametrize("bad", [-1, 2**48, 1.5, "12", True])
def test_bad_payload(bad):
    with pytest.raises(WatermarkError):
        payload.encode(bad)
