"""Perceptual fingerprints of images and video, in the manner of imagehash.

An image's fingerprint is its 64-bit pHash. A video's is the pHash of one frame per second
of its opening (a short sequence), so a copy that was re-encoded, rescaled or filtered
still lands within a few bits of the original frame by frame.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import imagehash
from PIL import Image, UnidentifiedImageError

IMAGE_PHASH = "image-phash64"
VIDEO_PHASH = "video-phash64-1fps"
VIDEO_SECONDS = 30  # how much of a video's opening is fingerprinted at registration


@dataclass(frozen=True)
class Fingerprint:
    kind: str
    hashes: tuple[imagehash.ImageHash, ...]

    def digest(self) -> bytes:
        """32 bytes for the chain: an image's pHash itself (left-aligned), or a video's
        SHA-256 over its kind and frame hashes, a commitment to the whole sequence."""
        if self.kind == IMAGE_PHASH:
            return bytes.fromhex(str(self.hashes[0])).ljust(32, b"\0")
        body = self.kind.encode() + b"".join(bytes.fromhex(str(h)) for h in self.hashes)
        return hashlib.sha256(body).digest()

    def hex_hashes(self) -> list[str]:
        return [str(h) for h in self.hashes]

    @classmethod
    def from_hex(cls, kind: str, hashes: list[str]) -> Fingerprint:
        return cls(kind, tuple(imagehash.hex_to_hash(h) for h in hashes))

    def distance(self, other: Fingerprint) -> int | None:
        """Bits apart, frame by frame from the start (the median over aligned frames for video);
        None when the two cannot be compared."""
        if self.kind != other.kind or not self.hashes or not other.hashes:
            return None
        pairs = sorted(a - b for a, b in zip(self.hashes, other.hashes, strict=False))
        return int(pairs[len(pairs) // 2])


def image_fingerprint(image: Image.Image) -> Fingerprint:
    return Fingerprint(IMAGE_PHASH, (imagehash.phash(image),))


def video_fingerprint(path: str | Path, seconds: int = VIDEO_SECONDS, rate: float = 1.0) -> Fingerprint:
    """pHash of the first decoded frame at or after each 1/rate-second mark.

    Decoding stops at the first damaged stretch and keeps what came before it, so a file of
    which only the opening survives (truncated, or stored in part) still has a fingerprint.
    """
    import av

    hashes: list[imagehash.ImageHash] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        next_mark = 0.0
        try:
            for packet in container.demux(stream):
                for frame in packet.decode():
                    if frame.time is None or frame.time + 1e-6 < next_mark:
                        continue
                    picture = frame.to_image()  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
                    hashes.append(imagehash.phash(picture))
                    next_mark += 1.0 / rate
                    if len(hashes) >= seconds * rate:
                        return Fingerprint(VIDEO_PHASH, tuple(hashes))
        except (av.error.FFmpegError, ValueError):
            pass  # a damaged stretch: keep the frames before it
    if not hashes:
        raise ValueError("the video has no decodable frames")
    return Fingerprint(VIDEO_PHASH, tuple(hashes))


def fingerprint_file(path: str | Path) -> Fingerprint | None:
    """The fingerprint of an image or video file; None for other content."""
    try:
        with Image.open(path) as image:
            image.load()
            return image_fingerprint(image)
    except (UnidentifiedImageError, OSError):
        pass
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                return None
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    try:
        return video_fingerprint(path)
    except (av.error.FFmpegError, ValueError):
        return None
