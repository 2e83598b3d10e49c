"""Mark or read a file, image or video, told apart by content: the single entry point the
ledger and the CLI call. Every input it cannot work with raises WatermarkError with a
message that names the file and the reason.

Images are read with Pillow: grey (L), RGB and RGBA are marked as they are, grey with
alpha (LA) in its grey channel; palette, bilevel, CMYK and other 8-bit modes are converted
to RGB (RGBA when the palette has transparency); the EXIF orientation is applied first, so
the mark sits in the picture as it is seen. 16-bit and floating-point images are refused
rather than reduced to 8 bits behind the caller's back. The size is checked from the
header, before any pixel is decoded: at most MAX_IMAGE_PIXELS, at least MIN_SIDE pixels a
side (a tile must fit one and a half times to be found again). Marked images are written
in the format of the destination's suffix: PNG, TIFF, BMP and WebP losslessly, JPEG at
quality 95 without chroma subsampling; the ICC profile is kept.

Videos go to `watermark.video` (H.264 out; see there).
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from watermark import image, perspective, video
from watermark.errors import WatermarkError
from watermark.keys import check_key
from watermark.payload import check_payload

MAX_IMAGE_PIXELS = 50_000_000
MIN_SIDE = video.MIN_SIDE
_IMAGE_FORMATS: dict[str, tuple[str, dict[str, object]]] = {  # suffix: (Pillow format, save options)
    ".png": ("PNG", {"compress_level": 6}),
    ".jpg": ("JPEG", {"quality": 95, "subsampling": 0}),
    ".jpeg": ("JPEG", {"quality": 95, "subsampling": 0}),
    ".tif": ("TIFF", {"compression": "tiff_lzw"}),
    ".tiff": ("TIFF", {"compression": "tiff_lzw"}),
    ".bmp": ("BMP", {}),
    ".webp": ("WEBP", {"lossless": True}),
}
_VIDEO_SUFFIXES = (".mp4", ".m4v", ".mov", ".mkv")
_NOT_IMAGES = {"MPEG"}  # Pillow names an MPEG video's header but cannot decode it
_WIDE_MODES = {"I", "I;16", "I;16B", "I;16L", "I;16N", "F"}

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class EmbedResult:
    kind: str  # "image" or "video"
    frames: int
    width: int
    height: int
    psnr: float | None  # dB; a video's is the mean over frames of its Y planes


@dataclass(frozen=True)
class FileDetection:
    payload: int | None  # None: no mark under any of the keys
    confidence: float
    sync: float
    kind: str
    frames: int  # frames the evidence was summed over (1 for an image)
    key_index: int | None  # which key matched


def _check_file(path: Path) -> Path:
    path = Path(path)
    if not path.is_file():
        raise WatermarkError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise WatermarkError(f"{path} is empty")
    return path


def _open_image(path: Path) -> Image.Image | None:
    """The image opened lazily (header only), or None when Pillow does not know the content."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except Image.DecompressionBombError:
        raise WatermarkError(
            f"{path}: the image is over the limit of {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
        ) from None
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    if im.format in _NOT_IMAGES:
        im.close()
        return None
    return im


def media_kind(path: Path) -> str:
    """ "image" or "video", by content (the suffix is not looked at)."""
    path = _check_file(path)
    im = _open_image(path)
    if im is not None:
        im.close()
        return "image"
    try:
        with video.open_video(path):
            return "video"
    except WatermarkError as e:
        reason = str(e).removeprefix(str(path)).strip()
        raise WatermarkError(f"{path} is not an image or a video ({reason})") from None


# ---------------------------------------------------------------- images


def read_pixels(path: Path, min_side: int) -> np.ndarray:
    """An image file's pixels as they are seen (grey, RGB or RGBA, uint8), sizes checked first."""
    pixels, alpha, _ = _read_image(_check_file(path), min_side)
    return pixels


def _read_image(path: Path, min_side: int) -> tuple[np.ndarray, np.ndarray | None, dict[str, object]]:
    """Pixels (H x W grey or H x W x 3/4 RGB(A), uint8), a separate alpha plane for grey
    with alpha, and what to keep when writing (ICC profile). Sizes are checked first."""
    im = _open_image(path)
    if im is None:
        raise WatermarkError(f"{path} is not an image")
    with im:
        w, h = im.size
        if w * h > MAX_IMAGE_PIXELS:
            raise WatermarkError(
                f"{path}: the image ({w} x {h}) is over the limit of {MAX_IMAGE_PIXELS // 1_000_000} megapixels"
            )
        if min(w, h) < min_side:
            raise WatermarkError(
                f"{path}: the image ({w} x {h}) is smaller than the watermark needs "
                f"(at least {min_side} x {min_side} pixels)"
            )
        if getattr(im, "n_frames", 1) > 1:
            raise WatermarkError(f"{path}: animated images are not supported; convert it to a video")
        if im.mode in _WIDE_MODES:
            raise WatermarkError(
                f"{path}: {im.mode} images (more than 8 bits per channel) are not supported; convert it to 8 bits first"
            )
        try:
            im.load()
            im = ImageOps.exif_transpose(im)
        except (OSError, ValueError, SyntaxError) as e:
            raise WatermarkError(f"{path}: the image could not be decoded (truncated or damaged?): {e}") from None
        keep = {"icc_profile": im.info["icc_profile"]} if im.info.get("icc_profile") else {}
        alpha = None
        if im.mode == "LA":
            alpha = np.asarray(im.getchannel("A"))
            im = im.getchannel("L")
        elif im.mode == "1":
            im = im.convert("L")
        elif im.mode == "P" or im.mode == "PA":
            im = im.convert("RGBA" if ("transparency" in im.info or im.mode == "PA") else "RGB")
        elif im.mode not in ("L", "RGB", "RGBA"):
            im = im.convert("RGBA" if "A" in im.mode else "RGB")
        return np.asarray(im), alpha, keep


def _write_image(pixels: np.ndarray, alpha: np.ndarray | None, dst: Path, keep: dict[str, object]) -> None:
    fmt, options = _IMAGE_FORMATS[dst.suffix.lower()]
    if alpha is not None:
        picture = Image.merge("LA", (Image.fromarray(pixels), Image.fromarray(alpha)))
    else:
        picture = Image.fromarray(pixels)
    if fmt == "JPEG" and "A" in picture.mode:
        raise WatermarkError(f"{dst.name}: JPEG has no alpha channel; write this image as .png, .tiff or .webp")
    tmp = dst.with_name(f".{dst.name}.partial")
    try:
        picture.save(tmp, format=fmt, **options, **keep)
        os.replace(tmp, dst)
    except (OSError, ValueError) as e:
        tmp.unlink(missing_ok=True)
        raise WatermarkError(f"cannot write {dst}: {e}") from None


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = cv2.norm(a, b, cv2.NORM_L2SQR) / a.size
    return float(10 * np.log10(255.0**2 / mse)) if mse > 0 else float("inf")


# ---------------------------------------------------------------- entry points


def embed_file(src: Path, dst: Path, payload: int, key: bytes, *, progress: Progress | None = None) -> EmbedResult:
    """Mark the image or video `src` with `payload` under `key` and write `dst` (an image
    in its suffix's format; a video as H.264 in MP4, or MKV / MOV by suffix)."""
    payload, key = check_payload(payload), check_key(key)
    src, dst = Path(src), Path(dst)
    kind = media_kind(src)
    if kind == "video":
        if dst.suffix.lower() not in _VIDEO_SUFFIXES:
            raise WatermarkError(f"{dst.name}: a marked video is written as {', '.join(_VIDEO_SUFFIXES)}")
        result = video.embed_video(src, dst, payload, key, progress=progress)
        return EmbedResult("video", result.frames, result.width, result.height, result.mean_psnr)
    if dst.suffix.lower() not in _IMAGE_FORMATS:
        raise WatermarkError(f"{dst.name}: a marked image is written as {', '.join(_IMAGE_FORMATS)}")
    pixels, alpha, keep = _read_image(src, MIN_SIDE)
    marked = image.embed(pixels, payload, key)
    _write_image(marked, alpha, dst, keep)
    if progress is not None:
        progress(1, 1)
    colour = slice(0, 3) if marked.ndim == 3 else slice(None)
    psnr = _psnr(pixels[..., colour], marked[..., colour])
    return EmbedResult("image", 1, pixels.shape[1], pixels.shape[0], psnr)


def detect_file(
    path: Path,
    keys: Sequence[bytes],
    *,
    max_seconds: float | None = None,
    progress: Progress | None = None,
    start: float | None = None,
    evidence: Callable[[list[np.ndarray]], None] | None = None,
    screen: perspective.Screen | None = None,
) -> FileDetection:
    """Read the mark of an image or video under each of `keys` (a video from `start`, or
    its start, for at most `max_seconds`). At most one payload is reported, with the index
    of its key; the chance of a payload from unmarked content is at most len(keys) x 2**-32
    (3 x that with a `screen`). `evidence`, if given, is handed the folded tiles read (see
    `video.detect_video`); `screen` (`marked_screen`) says where the marked picture lies in
    a copy recorded off a screen."""
    keys = image.check_keys(keys)
    path = Path(path)
    kind = media_kind(path)
    if kind == "video":
        found = video.detect_video(
            path, keys, max_seconds=max_seconds, start=start, progress=progress, evidence=evidence, screen=screen
        )
        return FileDetection(found.payload, found.confidence, found.sync, "video", found.frames, found.key_index)
    pixels, _, _ = _read_image(path, image.TILE_CELLS * image.MIN_CELL)
    read = image.detect_many(pixels, keys, evidence, screen)
    if progress is not None:
        progress(1, 1)
    return FileDetection(read.payload, read.confidence, read.sync, "image", 1, read.key_index)


def marked_screen(
    path: Path, corners: Sequence[tuple[float, float]], marked_size: tuple[int, int]
) -> perspective.Screen:
    """Where a picture marked at `marked_size` (height, width) lies in a copy recorded off a
    screen: its corners in the copy's pixels (top-left, top-right, bottom-right,
    bottom-left), with the cell marking used for that size (a video's or a still's)."""
    h, w = marked_size
    cell = video.video_cell(h, w) if media_kind(Path(path)) == "video" else image.cell_size(h, w)
    return perspective.Screen(tuple((float(x), float(y)) for x, y in corners), (h, w), cell)
