"""Perceptual hashes of one picture, for matching a suspect copy to a registered work.

Two hashes, as the matching pipeline of Meta's hasher-matcher-actioner keeps them: the
64-bit pHash of imagehash (DCT of a 32 x 32 greyscale thumbnail) and Meta's 256-bit PDQ
(the `pdqhash` bindings of the reference C++), with PDQ's quality score, 0-100: how much
gradient the picture has. A nearly flat picture (a black frame, a fade, a title card on
plain ground) hashes to bits that say little about it, so two unrelated flat pictures can
land close together; PDQ's authors advise against matching on quality below MIN_QUALITY,
and `usable` says whether a picture clears it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import imagehash
import numpy as np
import pdqhash
from PIL import Image

from watermark.errors import WatermarkError

MIN_QUALITY = 50  # PDQ's recommended floor for matching
MIN_SIDE = 16  # pixels: smaller pictures carry no structure either hash can use
MAX_PIXELS = 50_000_000


@dataclass(frozen=True)
class PictureHashes:
    phash: int  # 64 bits
    pdq: bytes  # 32 bytes, PDQ's bit order (bit 0 first)
    quality: int  # PDQ quality, 0-100

    @property
    def usable(self) -> bool:
        """Whether the picture has enough structure to match on."""
        return self.quality >= MIN_QUALITY


def _rgb(image: np.ndarray) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise WatermarkError(f"expected a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise WatermarkError(f"expected uint8 pixels, got {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2RGB)  # alpha dropped: what a viewer sees over black
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise WatermarkError(f"expected a grey, RGB or RGBA picture, got shape {image.shape}")
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise WatermarkError(f"a picture of {w} x {h} is too small to hash (at least {MIN_SIDE} pixels a side)")
    if h * w > MAX_PIXELS:
        raise WatermarkError(f"a picture of {w} x {h} is over the limit of {MAX_PIXELS // 1_000_000} megapixels")
    return np.ascontiguousarray(image)


def picture_hashes(image: np.ndarray) -> PictureHashes:
    """pHash, PDQ and PDQ quality of a uint8 grey, RGB or RGBA picture."""
    rgb = _rgb(image)
    bits, quality = pdqhash.compute(rgb)
    phash = imagehash.phash(Image.fromarray(rgb))
    return PictureHashes(
        phash=int(str(phash), 16),
        pdq=np.packbits(np.asarray(bits, dtype=np.uint8), bitorder="little").tobytes(),
        quality=int(quality),
    )


def hamming(a: int | bytes, b: int | bytes) -> int:
    """Bits in which two hashes of the same kind differ."""
    if isinstance(a, int) and isinstance(b, int):
        return (a ^ b).bit_count()
    if isinstance(a, bytes) and isinstance(b, bytes) and len(a) == len(b):
        return (int.from_bytes(a, "little") ^ int.from_bytes(b, "little")).bit_count()
    raise WatermarkError("hashes of different kinds or lengths cannot be compared")
