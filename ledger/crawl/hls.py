"""An HLS stream made one file: the variant picked, its segments fetched in order and joined.

MPEG-TS segments join by plain concatenation into one .ts; fragmented-MP4 segments join
behind their EXT-X-MAP initialisation segment into one .mp4. Both play as the stream did.
Each segment is a resource of its own (scope, robots, rate limit, deadline), and the whole
stops at `hls_max_seconds` of media or the byte cap, whichever comes first: a stream is
evidence from its start, not a copy of a whole film. AES-128 segments are decrypted when
their key is in scope; a key elsewhere (a licence server) means the stream is skipped.

A live stream (a media playlist without EXT-X-ENDLIST) lists only its last few segments, which
may be too little to match: its playlist is read again every half target duration and each
new segment joined on, until the stream ends, `hls_max_seconds` of media are had,
`hls_live_seconds` of waiting have passed, or three target durations bring nothing new.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import m3u8
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from ledger.crawl.config import CrawlConfig
from ledger.crawl.fetch import MAX_PLAYLIST_BYTES, Accept, Fetched, Fetcher, Skipped
from ledger.crawl.urls import normalise

READ = 1024 * 1024


@dataclass(frozen=True)
class Stream:
    path: Path
    container: str  # "ts" or "mp4"
    size: int
    sha256: str
    seconds: float  # of media, by the playlist's EXTINF durations
    variant: str | None  # the media playlist picked from a master playlist
    segments: tuple[str, ...]  # in the order joined (the init segment first, for fMP4)
    complete: (
        bool  # False when a segment failed and the stream stops before its planned end, or a live one skipped some
    )
    live: bool = False  # the playlist was a live one, followed as it grew


def pick_variant(variants: list, max_bandwidth: int | None):
    """The highest bandwidth not above `max_bandwidth` (any, when None), else the lowest."""
    ranked = sorted(variants, key=lambda p: p.stream_info.bandwidth or 0)
    fitting = [p for p in ranked if max_bandwidth is None or (p.stream_info.bandwidth or 0) <= max_bandwidth]
    return fitting[-1] if fitting else ranked[0]


def _text(got: Fetched) -> str:
    assert got.path is not None  # a playlist is fetched as media, into a file
    try:
        return got.path.read_bytes().decode("utf-8-sig", "replace")
    finally:
        got.discard()


class _Assembler:
    def __init__(self, fetcher: Fetcher, config: CrawlConfig, url: str) -> None:
        self.fetcher, self.config, self.url = fetcher, config, url
        self.keys: dict[str, bytes] = {}
        self.digest = hashlib.sha256()
        self.size = 0
        self.parts: list[str] = []

    def key(self, key) -> bytes | Skipped:
        if key.method != "AES-128":  # SAMPLE-AES and vendor schemes need a player's DRM
            return Skipped(self.url, "bad_type", f"segments encrypted with {key.method}, which we do not decrypt")
        key_url = normalise(key.absolute_uri or "")
        if key_url is None or not self.fetcher.scope.allows(key_url):
            return Skipped(
                self.url, "out_of_scope", f"the key of the stream is at {key.absolute_uri}, outside the crawl's hosts"
            )
        if key_url not in self.keys:
            got = self.fetcher.fetch(key_url, "any", 64)
            if isinstance(got, Skipped):
                return Skipped(self.url, got.reason, f"key {key_url}: {got.detail}")
            assert got.path is not None  # fetched as media, into a file
            data = got.path.read_bytes()
            got.discard()
            if len(data) != 16:
                return Skipped(self.url, "bad_type", f"key {key_url} is {len(data)} bytes, not 16")
            self.keys[key_url] = data
        return self.keys[key_url]

    def append(self, out, url: str, accept: Accept, decrypt=None) -> Skipped | None:
        got = self.fetcher.fetch(url, accept, self.config.max_media_bytes - self.size)
        if isinstance(got, Skipped):
            return Skipped(self.url, got.reason, f"segment {url}: {got.detail}")
        assert got.path is not None  # a segment is fetched as media, into a file
        try:
            with open(got.path, "rb") as part:
                while chunk := part.read(READ):
                    self._write(out, decrypt.update(chunk) if decrypt else chunk)
            if decrypt:
                self._write(out, decrypt.finalize())
        except ValueError:  # bad padding: the wrong key or a broken segment
            return Skipped(self.url, "error", f"segment {url} does not decrypt")
        finally:
            got.discard()
        self.parts.append(url)
        return None

    def _write(self, out, data: bytes) -> None:
        out.write(data)
        self.digest.update(data)
        self.size += len(data)


class _Decryptor:
    def __init__(self, key: bytes, iv: bytes) -> None:
        self.cipher = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
        self.unpadder = padding.PKCS7(128).unpadder()

    def update(self, data: bytes) -> bytes:
        return self.unpadder.update(self.cipher.update(data))

    def finalize(self) -> bytes:
        return self.unpadder.update(self.cipher.finalize()) + self.unpadder.finalize()


def download_stream(fetcher: Fetcher, playlist: Fetched, config: CrawlConfig, work_dir: Path) -> Stream | Skipped:
    """The stream of `playlist` (a fetched master or media playlist; its file is consumed)."""
    url = playlist.url
    parsed = m3u8.loads(_text(playlist), uri=playlist.final_url)
    variant = None
    if parsed.is_variant:
        if not parsed.playlists:
            return Skipped(url, "bad_type", "a master playlist without variants")
        variant = normalise(pick_variant(parsed.playlists, config.hls_max_bandwidth).absolute_uri)
        got = (
            fetcher.fetch(variant, "any", MAX_PLAYLIST_BYTES)
            if variant
            else Skipped(url, "error", "unusable variant URI")
        )
        if isinstance(got, Skipped):
            return Skipped(url, got.reason, f"variant {variant}: {got.detail}")
        parsed = m3u8.loads(_text(got), uri=got.final_url)
        if parsed.is_variant:
            return Skipped(url, "bad_type", f"variant {variant} is itself a master playlist")
    media_url = variant or url  # read again as found: a redirect's target may have been for once only
    planned, seconds = [], 0.0
    for segment in parsed.segments:
        if seconds >= config.hls_max_seconds:
            break
        planned.append(segment)
        seconds += segment.duration or 0.0
    if not planned:
        return Skipped(url, "bad_type", "a playlist without segments")
    fmp4 = any(s.init_section is not None for s in planned)
    fd, name = tempfile.mkstemp(dir=work_dir, prefix="hls-", suffix=".mp4" if fmp4 else ".ts")
    path = Path(name)
    joiner = _Joiner(_Assembler(fetcher, config, url), url)
    try:
        with os.fdopen(fd, "wb") as out:
            for segment in planned:
                if joiner.take(out, segment):
                    break
            live = not parsed.is_endlist and (parsed.playlist_type or "").lower() != "vod"
            if live and joiner.stop is None and joiner.seconds < config.hls_max_seconds:
                last = (parsed.media_sequence or 0) + len(parsed.segments) - 1
                _follow(fetcher, config, media_url, parsed, last, joiner, out)
        if joiner.seconds == 0.0:
            path.unlink(missing_ok=True)
            return joiner.stop or Skipped(url, "error", "no segment could be had")
        work = joiner.work
        return Stream(
            path,
            "mp4" if fmp4 else "ts",
            work.size,
            work.digest.hexdigest(),
            joiner.seconds,
            variant,
            tuple(work.parts),
            joiner.stop is None and not joiner.gap,
            live,
        )
    except BaseException:
        path.unlink(missing_ok=True)
        raise


class _Joiner:
    """Segments joined in order into one file: the init segment when it changes, decryption."""

    def __init__(self, work: _Assembler, url: str) -> None:
        self.work, self.url = work, url
        self.init: str | None = None
        self.stop: Skipped | None = None
        self.seconds = 0.0
        self.gap = False  # a live playlist moved on past segments never seen

    def take(self, out, segment) -> Skipped | None:
        """Appends `segment`; the reason to stop, if any (kept in `stop`)."""
        work, url = self.work, self.url
        if segment.init_section is not None and segment.init_section.absolute_uri != self.init:
            self.init = segment.init_section.absolute_uri
            init_url = normalise(self.init or "")
            self.stop = (
                work.append(out, init_url, "media") if init_url else Skipped(url, "error", "unusable EXT-X-MAP URI")
            )
            if self.stop:
                return self.stop
        seg_url = normalise(segment.absolute_uri or "")
        if seg_url is None:
            self.stop = Skipped(url, "error", f"unusable segment URI {segment.uri!r}")
            return self.stop
        decrypt = None
        if segment.key is not None and segment.key.method not in (None, "NONE"):
            key = work.key(segment.key)
            if isinstance(key, Skipped):
                self.stop = key
                return key
            iv = segment.key.iv
            try:
                iv_bytes = (
                    bytes.fromhex(iv[2:] if iv.lower().startswith("0x") else iv)
                    if iv
                    else int(segment.media_sequence or 0).to_bytes(16, "big")
                )
                decrypt = _Decryptor(key, iv_bytes)
            except (ValueError, OverflowError) as exc:  # a bad IV, or a negative sequence number for one
                self.stop = Skipped(url, "bad_type", f"an AES-128 segment whose IV cannot be had: {exc}")
                return self.stop
        self.stop = work.append(out, seg_url, "any" if decrypt else "media", decrypt)
        if self.stop is None:
            self.seconds += segment.duration or 0.0
        return self.stop


def _follow(fetcher: Fetcher, config: CrawlConfig, media_url: str, parsed, last: int, joiner: _Joiner, out) -> None:
    """Reads a live media playlist again and again, joining each segment after `last` (a media
    sequence number) on, within the limits the module docstring lists: `hls_live_seconds` bounds
    the whole, each read and each segment included."""
    target = float(parsed.target_duration or 0)
    target = target if 0 < target <= 60 else 2.0  # what players assume of a playlist that says nonsense
    give_up = time.monotonic() + config.hls_live_seconds
    quiet_since = time.monotonic()
    while joiner.seconds < config.hls_max_seconds and time.monotonic() < give_up:
        time.sleep(min(target / 2, max(0.0, give_up - time.monotonic())))
        got = fetcher.fetch(media_url, "any", MAX_PLAYLIST_BYTES, deadline=give_up)
        if isinstance(got, Skipped):
            if got.reason in ("timeout", "error") and time.monotonic() - quiet_since <= 3 * target:
                continue  # a read that failed just now: the next may not
            return  # gone: what was joined stands
        try:
            fresh = m3u8.loads(_text(got), uri=got.final_url)
            first = int(fresh.media_sequence or 0)
        except (ValueError, TypeError):  # a playlist turned to nonsense: what was joined stands
            return
        if first + len(fresh.segments) - 1 < last:  # numbered from the start again: an encoder restarted
            joiner.gap = True
            return
        new = [(first + i, segment) for i, segment in enumerate(fresh.segments) if first + i > last]
        if new and new[0][0] > last + 1:
            joiner.gap = True
        for number, segment in new:
            if joiner.seconds >= config.hls_max_seconds or time.monotonic() >= give_up or joiner.take(out, segment):
                return
            last = number
        if fresh.is_endlist:
            return
        if new:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 3 * target:
            return
