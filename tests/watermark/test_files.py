"""The file-level entry point: kind by content, images in their modes and formats, videos,
and a clear WatermarkError for every input it cannot work with. Images are skimage.data
photographs (watermark.testimages); the video is photo footage (watermark.testvideos)."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from watermark.attacks import ATTACKS
from watermark.errors import WatermarkError
from watermark.files import EmbedResult, FileDetection, detect_file, embed_file, media_kind
from watermark.testimages import full_hd, photograph
from watermark.testvideos import photo_footage

KEY = b"files test key: distribution 3"
OTHER = b"files test key: distribution 4"
PAYLOAD = 0x0BAD_CAFE_0042


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("files")


def _save(folder: Path, name: str, pixels: np.ndarray, mode: str | None = None) -> Path:
    path = folder / name
    Image.fromarray(pixels, mode).save(path)
    return path


@pytest.fixture(scope="module")
def rgb(folder) -> Path:
    return _save(folder, "astronaut.png", photograph("astronaut"))


@pytest.fixture(scope="module")
def clip(folder) -> Path:
    return photo_footage(folder / "clip.mp4", seconds=1.0, width=1280, height=720, audio=True)


def test_kind_is_told_by_content_not_suffix(folder, rgb, clip):
    assert media_kind(rgb) == "image"
    assert media_kind(clip) == "video"
    disguised = folder / "really-a-video.png"
    disguised.write_bytes(clip.read_bytes())
    assert media_kind(disguised) == "video"
    jpeg_named_mp4 = folder / "really-an-image.mp4"
    Image.open(rgb).convert("RGB").save(jpeg_named_mp4, format="JPEG")
    assert media_kind(jpeg_named_mp4) == "image"


def test_rgb_image_round_trip(folder, rgb):
    out = folder / "astronaut-marked.png"
    result = embed_file(rgb, out, PAYLOAD, KEY)
    assert result == EmbedResult("image", 1, 512, 512, result.psnr) and result.psnr >= 40.0
    with Image.open(out) as im:
        assert im.mode == "RGB" and im.size == (512, 512)
    found = detect_file(out, [OTHER, KEY])
    assert isinstance(found, FileDetection)
    assert (found.payload, found.kind, found.frames, found.key_index) == (PAYLOAD, "image", 1, 1)
    assert detect_file(rgb, [KEY]).payload is None
    assert detect_file(out, [OTHER]).payload is None


def test_a_still_inset_in_other_footage_reads_from_its_file(folder):
    """A file goes through the same two stages as pixels: the mark of a copy shown at 40 %
    inside other footage is found only by the windows of the second stage."""
    source = _save(folder, "coffee-1080p.png", full_hd(photograph("coffee")))
    marked = folder / "coffee-marked.png"
    embed_file(source, marked, PAYLOAD, KEY)
    with Image.open(marked) as im:
        pixels = np.asarray(im.convert("RGB"))
    copy = _save(folder, "coffee-pip40.png", ATTACKS["pip40"](pixels))
    found = detect_file(copy, [OTHER, KEY])
    assert (found.payload, found.key_index) == (PAYLOAD, 1)
    assert detect_file(source, [KEY]).payload is None


def test_grey_image_stays_grey(folder):
    src = _save(folder, "camera.png", photograph("camera"))
    out = folder / "camera-marked.png"
    embed_file(src, out, 5, KEY)
    with Image.open(out) as im:
        assert im.mode == "L"
    assert detect_file(out, [KEY]).payload == 5


def test_rgba_keeps_alpha(folder):
    pixels = photograph("coffee")
    alpha = np.tile(np.linspace(0, 255, pixels.shape[1]).astype(np.uint8), (pixels.shape[0], 1))
    src = _save(folder, "coffee-rgba.png", np.dstack([pixels, alpha]))
    out = folder / "coffee-rgba-marked.png"
    embed_file(src, out, 6, KEY)
    with Image.open(out) as im:
        assert im.mode == "RGBA"
        assert np.array_equal(np.asarray(im)[..., 3], alpha)
    assert detect_file(out, [KEY]).payload == 6


def test_grey_with_alpha_and_palette(folder):
    grey = photograph("camera")
    src = folder / "camera-la.png"
    Image.merge("LA", (Image.fromarray(grey), Image.fromarray(255 - grey))).save(src)
    out = folder / "camera-la-marked.png"
    embed_file(src, out, 7, KEY)
    with Image.open(out) as im:
        assert im.mode == "LA" and np.array_equal(np.asarray(im)[..., 1], 255 - grey)
    assert detect_file(out, [KEY]).payload == 7
    palette = folder / "chelsea-p.png"
    Image.fromarray(photograph("chelsea")).convert("P", palette=Image.Palette.ADAPTIVE).save(palette)
    out = folder / "chelsea-marked.png"
    embed_file(palette, out, 8, KEY)
    assert detect_file(out, [KEY]).payload == 8


def test_written_in_the_suffix_format(folder, rgb):
    for suffix, fmt in ((".jpg", "JPEG"), (".webp", "WEBP"), (".tiff", "TIFF")):
        out = folder / f"astronaut-marked{suffix}"
        embed_file(rgb, out, 9, KEY)
        with Image.open(out) as im:
            assert im.format == fmt
        assert detect_file(out, [KEY]).payload == 9


def test_video_through_files(folder, clip):
    out = folder / "clip-marked.mp4"
    calls = []
    result = embed_file(clip, out, PAYLOAD, KEY, progress=lambda d, t: calls.append((d, t)))
    assert (result.kind, result.frames, result.width, result.height) == ("video", 25, 1280, 720)
    assert result.psnr >= 40.0
    assert calls[-1] == (25, 25)
    found = detect_file(out, [OTHER, KEY], max_seconds=0.5)
    assert (found.payload, found.kind, found.frames, found.key_index) == (PAYLOAD, "video", 13, 1)
    assert detect_file(clip, [KEY, OTHER]).payload is None


# ---------------------------------------------------------------- bad inputs


def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height (8-bit grey) and whose pixel data is cut
    short: refusing it for its size proves the size was read before any pixel."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 1000)[:20]))
    return path


def test_bad_files(folder, rgb, clip):
    text = folder / "notes.txt"
    text.write_text("no pixels here\n" * 100)
    empty = folder / "empty.png"
    empty.write_bytes(b"")
    tiny = _save(folder, "tiny.png", photograph("camera")[:150, :300])
    huge = _png_header_only(folder / "huge.png", 10_000, 6_000)
    truncated_png = folder / "truncated.png"
    truncated_png.write_bytes(rgb.read_bytes()[:4000])
    half_video = folder / "half.mp4"
    half_video.write_bytes(clip.read_bytes()[: clip.stat().st_size // 2])  # its index is at the end
    wide = folder / "sixteen-bit.png"
    Image.fromarray(photograph("camera").astype(np.uint16) * 257).save(wide)
    cases = [
        (text, "is not an image or a video"),
        (empty, "is empty"),
        (folder / "missing.png", "does not exist"),
        (tiny, "smaller than the watermark needs"),
        (huge, "over the limit of 50 megapixels"),
        (truncated_png, "could not be decoded"),
        (half_video, "is not an image or a video .*truncated"),
        (wide, "more than 8 bits"),
    ]
    for path, message in cases:
        with pytest.raises(WatermarkError, match=message):
            embed_file(path, folder / "out.png", PAYLOAD, KEY)
    for path, message in cases[:3] + cases[4:]:  # a small image can still be read
        with pytest.raises(WatermarkError, match=message):
            detect_file(path, [KEY])
    assert not (folder / "out.png").exists()


@pytest.mark.parametrize(
    "payload, key, message",
    [
        (2**48, KEY, "below 2\\*\\*48"),
        (-1, KEY, "must not be negative"),
        (1.5, KEY, "must be an int"),
        (1, b"", "key is empty"),
        (1, "text key", "must be bytes"),
    ],
)
def test_bad_payload_or_key(folder, rgb, payload, key, message):
    with pytest.raises(WatermarkError, match=message):
        embed_file(rgb, folder / "never.png", payload, key)
    assert not (folder / "never.png").exists()


def test_bad_keys_and_destinations(folder, rgb, clip):
    with pytest.raises(WatermarkError, match="no watermark keys"):
        detect_file(rgb, [])
    with pytest.raises(WatermarkError, match="key is empty"):
        detect_file(rgb, [KEY, b""])
    with pytest.raises(WatermarkError, match="not bytes|sequence of keys"):
        detect_file(rgb, "text key")
    with pytest.raises(WatermarkError, match="a marked image is written as"):
        embed_file(rgb, folder / "astronaut.mp4", 1, KEY)
    with pytest.raises(WatermarkError, match="a marked video is written as"):
        embed_file(clip, folder / "clip.png", 1, KEY)
    rgba = _save(folder, "rgba.png", np.dstack([photograph("astronaut"), np.full((512, 512), 9, np.uint8)]))
    with pytest.raises(WatermarkError, match="JPEG has no alpha"):
        embed_file(rgba, folder / "rgba.jpg", 1, KEY)
    assert not (folder / "rgba.jpg").exists()
