"""Keyed pseudo-random patterns.

Every pattern the watermark uses is drawn from a numpy Generator whose seed is
HMAC-SHA256(key, label): the key decides where and how the mark is written, the label
keeps the patterns independent of one another, and nothing here is home-made crypto.
"""

from __future__ import annotations

import hashlib
import hmac

import numpy as np

from watermark.errors import WatermarkError


def check_key(key: bytes) -> bytes:
    if not isinstance(key, (bytes, bytearray)):
        raise WatermarkError(f"the watermark key must be bytes, not {type(key).__name__}")
    if not key:
        raise WatermarkError("the watermark key is empty")
    return bytes(key)


def keyed_rng(key: bytes, label: str) -> np.random.Generator:
    """A Generator seeded with the 256-bit HMAC-SHA256 of `label` under `key`."""
    digest = hmac.new(check_key(key), label.encode(), hashlib.sha256).digest()
    return np.random.Generator(np.random.PCG64(int.from_bytes(digest, "big")))


def sign_pattern(key: bytes, label: str, shape: tuple[int, ...]) -> np.ndarray:
    """A +/-1 float32 array of `shape`, fixed by key and label."""
    bits = keyed_rng(key, label).integers(0, 2, size=shape)
    return (1 - 2 * bits).astype(np.float32)


def cell_layout(key: bytes, cells: int, n_bits: int) -> np.ndarray:
    """Which coded bit each of `cells` tile cells carries: a keyed permutation dealt out
    round-robin, so every bit gets cells // n_bits or one more, spread over the tile."""
    order = keyed_rng(key, "layout").permutation(cells)
    layout = np.empty(cells, dtype=np.intp)
    layout[order] = np.arange(cells) % n_bits
    return layout
