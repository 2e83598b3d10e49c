"""What a response is: by its declared Content-Type, or, when that says only "bytes", by its
first bytes. A medium is handed on only when it is one of the kinds we can match."""

from __future__ import annotations

PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml"})
HLS_TYPES = frozenset({"application/vnd.apple.mpegurl", "application/x-mpegurl", "audio/mpegurl", "audio/x-mpegurl"})
UNDECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})
SNIFF_BYTES = 189  # enough for every signature below: MPEG-TS is two sync bytes 188 apart


def media_type(content_type: str | None) -> str:
    """ "video/mp4" of "Video/MP4; codecs=..."; "" when there is none."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def declared_kind(mime: str) -> str | None:
    """ "video", "image" or "hls" by a media type; "sniff" for untyped bytes; None otherwise."""
    if mime in HLS_TYPES:
        return "hls"
    if mime.startswith("video/"):
        return "video"
    if mime.startswith("image/"):
        return "image"
    if mime in UNDECLARED:
        return "sniff"
    return None


def sniff(head: bytes) -> str | None:
    """The kind of a file starting with `head`: MP4 (ftyp/styp/moov/moof box), MPEG-TS,
    Matroska/WebM, JPEG, PNG, GIF, WebP or an HLS playlist; None when none fits."""
    if len(head) >= 8 and head[4:8] in (b"ftyp", b"styp", b"moov", b"moof"):
        return "video"
    if head[:1] == b"\x47" and head[188:189] == b"\x47":
        return "video"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video"
    if head[:3] == b"\xff\xd8\xff" or head[:8] == b"\x89PNG\r\n\x1a\n" or head[:6] in (b"GIF87a", b"GIF89a"):
        return "image"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image"
    if head.lstrip(b"\xef\xbb\xbf")[:7] == b"#EXTM3U":
        return "hls"
    return None
