"""One interface over our image watermark and the open baselines a user would otherwise pick,
so that benchmarks/watermark_image.py runs them all on the same images and attacks.

    method.embed(rgb, bits) -> rgb      uint8 RGB (h, w, 3) in, uint8 RGB of the same size out
    method.extract(rgb) -> bits | None  a uint8 0/1 vector of `payload_bits`, or None for "no mark"

Methods (each with the settings its documentation shows, nothing tuned):
    ours        watermark.image, 48-bit payload under a key; `detect` says None when it finds no mark
    dwtDct      invisible-watermark 0.2.0, method "dwtDct", 32 bits
    dwtDctSvd   invisible-watermark 0.2.0, method "dwtDctSvd", 32 bits
    blind       blind-watermark 0.4.4 (`WaterMark`, bit mode, two passwords), 32 bits; the
                extractor has to be told the watermark's length

The baselines work on OpenCV's BGR order, so their adapters flip channels on the way in and
out. They always return bits (they cannot say "no mark"), so any read that is not exact is a
wrong payload; an exception from them (invisible-watermark refuses images under 256 x 256
pixels) is counted by the benchmark as no read. The baselines are installed only in the
benchmark's own virtualenv (scripts/bench-watermark-image; the `bench` extra).
"""

from __future__ import annotations

import sys

import numpy as np

from watermark.image import detect, embed

KEY = b"benchmark key"
PAYLOAD = 0xC0FFEE123456  # ours: 48 bits
PAYLOAD_BITS = 48
BASELINE_BITS = 32  # the baselines: the top 32 bits of PAYLOAD (as the issue measured them)
BLIND_PASSWORD_WM = 20240611  # blind-watermark's two passwords (its "key")
BLIND_PASSWORD_IMG = 1127


def int_to_bits(value: int, n: int) -> np.ndarray:
    """`n` bits of `value`, most significant first, as a uint8 0/1 vector."""
    return np.array([(value >> (n - 1 - i)) & 1 for i in range(n)], dtype=np.uint8)


def bits_to_int(bits: np.ndarray) -> int:
    out = 0
    for b in np.asarray(bits).astype(np.uint8).ravel():
        out = (out << 1) | int(b)
    return out


def payload_bits(n: int) -> np.ndarray:
    """The payload a method with `n` bits carries: PAYLOAD, or its top `n` bits."""
    return int_to_bits(PAYLOAD >> (PAYLOAD_BITS - n), n)


def _to_u8(image: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(image), 0, 255).astype(np.uint8)


def _bgr(rgb: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(rgb[..., ::-1])


class Method:
    name: str = ""
    label: str = ""  # for tables
    payload_bits: int = 0

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def extract(self, rgb: np.ndarray) -> np.ndarray | None:
        raise NotImplementedError

    def reset(self) -> None:
        """Forget whatever the method caches between calls (for a first-call time)."""


class Ours(Method):
    name = "ours"
    label = "ours (48 bit)"
    payload_bits = PAYLOAD_BITS

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        return embed(rgb, bits_to_int(bits), KEY)

    def extract(self, rgb: np.ndarray) -> np.ndarray | None:
        found = detect(rgb, KEY)
        return None if found.payload is None else int_to_bits(found.payload, PAYLOAD_BITS)

    def reset(self) -> None:
        # watermark caches what depends only on (payload, key, frame size), e.g. the repeated
        # tile, so that a video's frames after the first are marked faster: clear every such cache.
        for name, module in list(sys.modules.items()):
            if name == "watermark" or name.startswith("watermark."):
                for obj in list(vars(module).values()):
                    if callable(getattr(obj, "cache_clear", None)):
                        obj.cache_clear()


class InvisibleWatermark(Method):
    """invisible-watermark (`imwatermark`): a frequency-domain mark in U (YUV) of the
    image's Haar-DWT approximation, one bit per 4 x 4 DCT block, repeated over the frame."""

    payload_bits = BASELINE_BITS

    def __init__(self, method: str) -> None:
        from imwatermark import WatermarkDecoder, WatermarkEncoder

        self.name = method
        self.label = f"invisible-watermark {method}"
        self._encoder_cls, self._decoder_cls = WatermarkEncoder, WatermarkDecoder

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        encoder = self._encoder_cls()
        encoder.set_watermark("bits", [int(b) for b in bits])
        return _to_u8(encoder.encode(_bgr(rgb), self.name))[..., ::-1].copy()

    def extract(self, rgb: np.ndarray) -> np.ndarray | None:
        decoder = self._decoder_cls("bits", self.payload_bits)
        return np.asarray(decoder.decode(_bgr(rgb), self.name)).astype(np.uint8)


class BlindWatermark(Method):
    """blind-watermark: DWT-DCT-SVD in Y, U and V, blocks shuffled by a password, the bits
    shuffled by another; extraction needs the payload's length."""

    name = "blind"
    label = "blind-watermark"
    payload_bits = BASELINE_BITS

    def __init__(self) -> None:
        import blind_watermark

        blind_watermark.bw_notes.close()  # it prints a banner on first use otherwise
        self._cls = blind_watermark.WaterMark

    def _new(self):
        return self._cls(password_wm=BLIND_PASSWORD_WM, password_img=BLIND_PASSWORD_IMG)

    def embed(self, rgb: np.ndarray, bits: np.ndarray) -> np.ndarray:
        bwm = self._new()
        bwm.read_img(img=_bgr(rgb))
        bwm.read_wm([bool(b) for b in bits], mode="bit")
        return _to_u8(bwm.embed())[..., ::-1].copy()

    def extract(self, rgb: np.ndarray) -> np.ndarray | None:
        bits = self._new().extract(embed_img=_bgr(rgb), wm_shape=self.payload_bits, mode="bit")
        return np.asarray(bits).astype(np.uint8)


METHODS = ("ours", "dwtDct", "dwtDctSvd", "blind")


def make(name: str) -> Method:
    """The method called `name` (one of METHODS). The baselines import their libraries here,
    so a run of ours alone needs none of them."""
    try:
        if name == "ours":
            return Ours()
        if name in ("dwtDct", "dwtDctSvd"):
            return InvisibleWatermark(name)
        if name == "blind":
            return BlindWatermark()
    except ImportError as e:
        raise SystemExit(
            f"{name}: {e}. The baselines are installed by scripts/bench-watermark-image "
            "into .venv-bench (pyproject.toml's `bench` extra); run the benchmark through it."
        ) from e
    raise SystemExit(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
