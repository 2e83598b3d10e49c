"""A piracy site on 127.0.0.1 that misbehaves on purpose, for the crawler's tests.

A real HTTP/1.1 server (ThreadingHTTPServer, ephemeral port, daemon threads) started and
stopped as a context manager, on 127.0.0.1 or another loopback address (127.0.1.7: many
sites, each a host of its own). Tests publish their own pages and files on it; built in are
the ways a hostile or broken site hurts a crawler:

    /robots.txt                 disallows /private/ (set `robots_txt`, `robots_status`)
    /private/...                must never be requested
    /huge.mp4                   Content-Length 5_000_000_000, zeros generated as sent
    /huge-unsized.mp4           the same without Content-Length (ends when the client leaves)
    /slow.mp4                   one byte a second
    /slow-headers.mp4           the status line, then headers at one byte a second
    /loop/a, /loop/b            a redirect loop
    /broken.mp4                 promises 100000 bytes, sends 1000 and closes the connection
    anything else               404

Every published file has an ETag and a Last-Modified and answers a matching
If-None-Match / If-Modified-Since with 304. `log` holds every request (path, time,
User-Agent, conditional headers) and, for the generated bodies, the bytes sent.
"""

from __future__ import annotations

import email.utils
import hashlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import av
import numpy as np

ROBOTS = "User-agent: *\nDisallow: /private/\n"
HUGE = 5_000_000_000
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"  # a plausible start for a fake film


@dataclass
class Request:
    method: str
    path: str
    time: float  # time.monotonic() when the request line was read
    user_agent: str | None
    if_none_match: str | None
    if_modified_since: str | None
    sent: int = 0  # body bytes written (generated bodies only)


@dataclass
class _File:
    body: bytes
    content_type: str
    etag: str
    last_modified: str
    headers: dict[str, str]


Route = Callable[[BaseHTTPRequestHandler, Request], None]


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        """A crawler that gives up on a slow page drops its connection; that is no error here."""
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class PiracySite:
    def __init__(self, host: str = "127.0.0.1", poll: float = 0.05) -> None:
        self.host = host  # any 127.x.y.z is loopback on Linux: many sites, each at an address of its own
        self.poll = poll  # how soon a stop is noticed; hundreds of sites at once poll less often
        self.robots_txt: str | None = ROBOTS  # None: 404
        self.robots_status = 200
        self.log: list[Request] = []
        self._files: dict[str, _File] = {}
        self._routes: dict[str, Route] = {
            "/huge.mp4": self._huge,
            "/huge-unsized.mp4": self._huge,
            "/slow.mp4": self._slow,
            "/slow-headers.mp4": self._slow_headers,
            "/broken.mp4": self._broken,
        }
        self.redirect("/loop/a", "/loop/b")
        self.redirect("/loop/b", "/loop/a")
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # --- running -------------------------------------------------------------------------
    def __enter__(self) -> PiracySite:
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                site._handle(self)

            def log_message(self, *args) -> None:
                pass

        self._server = _Server((self.host, 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": self.poll}, daemon=True).start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base_url(self) -> str:
        return f"http://{self.authority}"

    @property
    def authority(self) -> str:
        return f"{self.host}:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base_url + path

    # --- content -------------------------------------------------------------------------
    def publish(
        self, path: str, body: bytes | str | Path, content_type: str, headers: dict[str, str] | None = None
    ) -> str:
        """Serve `body` (bytes, or a file's contents) at `path`; returns its URL."""
        data = Path(body).read_bytes() if isinstance(body, (str, Path)) else body
        etag = '"' + hashlib.sha256(data).hexdigest()[:16] + '"'
        modified = email.utils.formatdate(time.time() - 3600, usegmt=True)
        with self._lock:
            self._files[path] = _File(data, content_type, etag, modified, dict(headers or {}))
        return self.url(path)

    def withdraw(self, path: str) -> None:
        """Take a published file down (a takedown obeyed): it answers 404 from now on."""
        with self._lock:
            self._files.pop(path, None)

    def page(self, path: str, html: str) -> str:
        return self.publish(path, html.encode(), "text/html; charset=utf-8")

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        def answer(handler: BaseHTTPRequestHandler, request: Request) -> None:
            handler.send_response(status)
            handler.send_header("Location", location)
            handler.send_header("Content-Length", "0")
            handler.end_headers()

        self._routes[path] = answer

    def route(self, path: str, answer: Route) -> None:
        self._routes[path] = answer

    # --- the log -------------------------------------------------------------------------
    def requests(self, path: str | None = None) -> list[Request]:
        with self._lock:
            return [r for r in self.log if path is None or r.path == path]

    def paths(self) -> list[str]:
        return [r.path for r in self.requests()]

    # --- serving -------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        path = handler.path if handler.path in self._files else handler.path.split("?", 1)[0]
        request = Request(
            "GET",
            path,
            time.monotonic(),
            handler.headers.get("User-Agent"),
            handler.headers.get("If-None-Match"),
            handler.headers.get("If-Modified-Since"),
        )
        with self._lock:
            self.log.append(request)
            file = self._files.get(path)
            route = self._routes.get(path)
        try:
            if file is not None:
                self._file(handler, file)
            elif route is not None:
                route(handler, request)
            elif path == "/robots.txt":
                self._robots(handler)
            else:
                self._send(handler, 404, b"not here", "text/plain")
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler, status: int, body: bytes, content_type: str, headers: dict | None = None
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(body)

    def _robots(self, handler) -> None:
        if self.robots_txt is None:
            self._send(handler, 404, b"no robots here", "text/plain")
        else:
            self._send(handler, self.robots_status, self.robots_txt.encode(), "text/plain")

    def _file(self, handler, file: _File) -> None:
        validators = {"ETag": file.etag, "Last-Modified": file.last_modified}
        match = handler.headers.get("If-None-Match")
        since = handler.headers.get("If-Modified-Since")
        unchanged = (match is not None and file.etag in [m.strip() for m in match.split(",")]) or (
            match is None and since is not None and _not_after(file.last_modified, since)
        )
        if unchanged:
            handler.send_response(304)
            for name, value in validators.items():
                handler.send_header(name, value)
            handler.end_headers()
            return
        self._send(handler, 200, file.body, file.content_type, {**validators, **file.headers})

    def _stream(
        self, handler, request: Request, total: int | None, pause: float = 0.0, chunk: int = 256 * 1024
    ) -> None:
        """A body of MP4_HEAD then zeros, `total` bytes long (or until the client leaves)."""
        handler.send_response(200)
        handler.send_header("Content-Type", "video/mp4")
        if total is not None:
            handler.send_header("Content-Length", str(total))
        else:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        zeros = bytes(chunk)
        first = True
        while total is None or request.sent < total:
            piece = (MP4_HEAD + zeros)[:chunk] if first else zeros
            first = False
            if total is not None:
                piece = piece[: total - request.sent]
            handler.wfile.write(piece)
            handler.wfile.flush()
            request.sent += len(piece)
            if pause:
                time.sleep(pause)

    def _huge(self, handler, request: Request) -> None:
        self._stream(handler, request, HUGE if request.path == "/huge.mp4" else None)

    def _slow(self, handler, request: Request) -> None:
        self._stream(handler, request, 100, pause=1.0, chunk=1)

    def _slow_headers(self, handler, request: Request) -> None:
        handler.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for byte in b"Content-Type: video/mp4\r\nContent-Length: 10\r\n\r\n0123456789":
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            request.sent += 1
            time.sleep(1.0)

    def _broken(self, handler, request: Request) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "video/mp4")
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        handler.wfile.write((MP4_HEAD + bytes(1000))[:1000])
        handler.wfile.flush()
        request.sent += 1000
        handler.close_connection = True


def _not_after(last_modified: str, since: str) -> bool:
    try:
        return email.utils.parsedate_to_datetime(last_modified) <= email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False


# --- test media ---------------------------------------------------------------------------
def make_clip(
    path: str | Path, seconds: float = 6.0, fps: int = 10, width: int = 96, height: int = 64, seed: int = 0
) -> Path:
    """A tiny H.264 MP4 of moving noise (a keyframe every second), different for each seed."""
    path = Path(path)
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 256, (height * 2, width * 2, 3), dtype=np.uint8)
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"g": str(fps), "preset": "ultrafast", "crf": "30"}
        for i in range(int(seconds * fps)):
            x = i % width
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(base[:height, x : x + width]), format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return path


def make_png(seed: int = 0, size: int = 16) -> bytes:
    """A small PNG of noise, different for each seed."""
    import cv2

    image = np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)
    ok, data = cv2.imencode(".png", image)
    assert ok
    return data.tobytes()


@dataclass(frozen=True)
class HlsFiles:
    master: Path
    media: Path
    segments: list[Path]
    init: Path | None  # the EXT-X-MAP segment of an fMP4 stream


def make_hls(video_path: str | Path, out_dir: str | Path, segment_seconds: int = 2, fmp4: bool = False) -> HlsFiles:
    """Cut `video_path` into HLS with FFmpeg's hls muxer (through PyAV): MPEG-TS segments (or
    fMP4 ones behind an init segment) and a media playlist `media.m3u8`, re-encoded with a
    keyframe every `segment_seconds` so each segment is that long; plus `master.m3u8` naming
    it and a second, lower variant (`low.m3u8`, the same segments) of lower bandwidth."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    media = out_dir / "media.m3u8"
    options = {
        "hls_time": str(segment_seconds),
        "hls_list_size": "0",
        "hls_playlist_type": "vod",
        "hls_segment_filename": str(out_dir / ("seg%03d.m4s" if fmp4 else "seg%03d.ts")),
    }
    if fmp4:
        options |= {"hls_segment_type": "fmp4", "hls_fmp4_init_filename": "init.mp4"}
    with av.open(str(video_path)) as src, av.open(str(media), "w", format="hls", options=options) as out:
        vin = src.streams.video[0]
        fps = int(round(vin.average_rate or 10))
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = vin.codec_context.width, vin.codec_context.height, "yuv420p"
        stream.options = {
            "g": str(fps * segment_seconds),
            "keyint_min": str(fps * segment_seconds),
            "sc_threshold": "0",
            "preset": "ultrafast",
        }
        for i, frame in enumerate(src.decode(vin)):
            frame = frame.reformat(format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    master = out_dir / "master.m3u8"
    (out_dir / "low.m3u8").write_text(media.read_text())
    master.write_text(
        "#EXTM3U\n#EXT-X-VERSION:3\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=200000,RESOLUTION=48x32\nlow.m3u8\n"
        "#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=96x64\nmedia.m3u8\n"
    )
    segments = sorted(out_dir.glob("seg*.m4s" if fmp4 else "seg*.ts"))
    init = out_dir / "init.mp4" if fmp4 else None
    return HlsFiles(master, media, segments, init)


def publish_dir(site: PiracySite, directory: Path, prefix: str) -> dict[str, str]:
    """Every file of `directory` at `prefix`/name, typed by extension; name -> URL."""
    types = {
        ".m3u8": "application/vnd.apple.mpegurl",
        ".ts": "video/mp2t",
        ".m4s": "video/iso.segment",
        ".mp4": "video/mp4",
    }
    return {
        f.name: site.publish(f"{prefix}/{f.name}", f.read_bytes(), types.get(f.suffix, "application/octet-stream"))
        for f in sorted(directory.iterdir())
        if f.is_file()
    }


def encrypt_hls(files: HlsFiles, key: bytes, key_uri: str, out_name: str = "enc.m3u8") -> Path:
    """AES-128 (CBC, PKCS#7) copies of the MPEG-TS segments (`enc-segNNN.ts`), each with its
    media sequence number as IV, and a media playlist naming them behind one EXT-X-KEY
    (no IV attribute, so a player derives it as the standard says)."""
    from cryptography.hazmat.primitives import padding
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    lines = files.media.read_text().splitlines()
    out: list[str] = []
    for line in lines:
        if line.startswith("#EXTINF") and not any(o.startswith("#EXT-X-KEY") for o in out):
            out.append(f'#EXT-X-KEY:METHOD=AES-128,URI="{key_uri}"')
        if line and not line.startswith("#"):
            sequence = int(line.removeprefix("seg").removesuffix(".ts"))
            padder = padding.PKCS7(128).padder()
            plain = padder.update((files.media.parent / line).read_bytes()) + padder.finalize()
            enc = Cipher(algorithms.AES(key), modes.CBC(sequence.to_bytes(16, "big"))).encryptor()
            (files.media.parent / f"enc-{line}").write_bytes(enc.update(plain) + enc.finalize())
            line = f"enc-{line}"
        out.append(line)
    path = files.media.parent / out_name
    path.write_text("\n".join(out) + "\n")
    return path
