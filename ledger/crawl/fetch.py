"""One resource fetched the careful way: in scope, allowed by robots.txt, politely spaced,
redirects followed by hand, only the types we want, never more bytes than the cap and
never longer than the deadline.

Every redirect hop is a new request and is checked as one (scope, robots, rate limit), so a
site cannot bounce us somewhere we would not go by ourselves. A body goes to a temporary
file in the work directory (a page, to memory); the moment a cap or the deadline is hit the
file is deleted, so a hostile server costs at most a cap of disk. What comes back is a
`Fetched` with the facts a court may ask for (final URL, status, every response header,
protocol, time, SHA-256), or a `Skipped` that says why not.
"""

from __future__ import annotations

import hashlib
import os
import posixpath
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import httpx

from ledger.crawl.config import CrawlConfig
from ledger.crawl.limits import HostLimiter
from ledger.crawl.robots import Robots
from ledger.crawl.sniff import PAGE_TYPES, SNIFF_BYTES, declared_kind, media_type, sniff
from ledger.crawl.state import Validators
from ledger.crawl.transport import DeadlineExceeded, PrivateAddress, guarded_stream, unresolved_name
from ledger.crawl.urls import Scope, authority, media_kind_by_extension, normalise

Accept = Literal["page", "media", "any"]
REDIRECTS = (301, 302, 303, 307, 308)
CHUNK = 64 * 1024
MAX_PLAYLIST_BYTES = 4 * 1024 * 1024  # an HLS playlist read as a medium: text, never gigabytes


@dataclass(frozen=True)
class Skipped:
    """A resource not handed on. `reason` is one of: robots, robots_unreachable (the site
    could not give its robots.txt just now), dns_unresolved (the host name does not resolve to
    any address: no such name, or no answer from DNS), too_large, timeout, bad_type,
    http_<status>, redirect_loop, too_many_redirects, out_of_scope, private_address (a host
    name that led to a private address), crawl_delay (the site asks for longer between requests
    than the crawl waits), unchanged, duplicate_content, error."""

    url: str
    reason: str
    detail: str = ""


@dataclass(frozen=True)
class Fetched:
    url: str  # as asked for
    final_url: str  # after redirects
    redirects: tuple[str, ...]  # the URLs that redirected, in order (url first)
    status: int
    headers: dict[str, str]  # every response header, lower-case names, repeated ones joined by ", "
    http_version: str  # "HTTP/1.1", "HTTP/2"
    fetched_at: datetime  # UTC, when the response headers came
    content_type: str  # the media type declared ("" when none)
    kind: str  # "page", "video", "image", "hls" ("any" when anything was accepted)
    size: int
    sha256: str  # hex, of the body as decoded (what is in `path` or `body`)
    path: Path | None  # the body, for media (the caller owns the file)
    body: bytes | None  # the body, for pages
    validators: Validators | None

    def discard(self) -> None:
        if self.path is not None:
            self.path.unlink(missing_ok=True)


@dataclass(frozen=True)
class FetchedMedium:
    """A medium downloaded in full and handed on: the file and how it was fetched."""

    url: str
    page_url: str | None  # the page it was found on
    final_url: str
    path: Path
    kind: str  # "video", "image" or "hls" (the stream assembled into one .ts or .mp4)
    content_type: str
    size: int
    sha256: str
    status: int
    headers: dict[str, str]
    http_version: str
    fetched_at: datetime
    redirects: tuple[str, ...] = ()  # URLs that redirected to final_url, in order
    segments: tuple[str, ...] = ()  # for HLS: the segment URLs joined (init segment first)
    variant: str | None = None  # for HLS: the media playlist picked from a master playlist
    complete: bool = True  # False: an HLS stream cut short by a failed segment, or a live one that skipped some
    validators: Validators | None = None  # how the server named this version (ETag, Last-Modified)


class _Abandon(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


def _suffix(url: str, kind: str | None) -> str:
    ext = posixpath.splitext(urlsplit(url).path)[1].lower()
    if media_kind_by_extension(url) and len(ext) <= 6:
        return ext
    return {"image": ".img", "video": ".video", "hls": ".m3u8"}.get(kind or "", ".bin")


class Fetcher:
    def __init__(
        self,
        client: httpx.Client,
        config: CrawlConfig,
        scope: Scope,
        robots: Robots,
        limiter: HostLimiter,
        work_dir: Path,
    ) -> None:
        self.client = client
        self.config = config
        self.scope = scope
        self.robots = robots
        self.limiter = limiter
        self.work_dir = Path(work_dir)

    def fetch(
        self,
        url: str,
        accept: Accept,
        cap: int,
        validators: Callable[[str], Validators | None] | None = None,
        deadline: float | None = None,
    ) -> Fetched | Skipped:
        """GET `url`. `accept`: "page" wants HTML in memory (a medium answers with its kind
        and no body, unread); "media" wants a medium in a file; "any" takes any bytes into a
        file (segments, keys). `validators(url)` gives what to send as conditions."""
        seen = [url]
        current = url
        while True:
            if not self.scope.allows(current):
                return Skipped(url, "out_of_scope", f"{current} is outside the crawl's hosts")
            if not self.robots.allows(current):
                if self.robots.rules(current).private:
                    return Skipped(url, "private_address", f"{authority(current)} is not at a public address")
                if self.robots.rules(current).unresolved:
                    return Skipped(url, "dns_unresolved", f"{self.robots.rules(current).detail} ({current})")
                if not self.robots.rules(current).reachable:
                    return Skipped(url, "robots_unreachable", f"no robots.txt could be read for {current} just now")
                return Skipped(url, "robots", f"robots.txt disallows {current}")
            interval = self.robots.interval(current)
            if interval > max(self.config.max_crawl_delay, self.config.host_interval):
                return Skipped(
                    url,
                    "crawl_delay",
                    f"robots.txt asks for {interval:g} s between requests to "
                    f"{authority(current)}; this crawl waits {self.config.max_crawl_delay:g} s at most",
                )
            self.limiter.wait(authority(current), interval)
            if deadline is None:  # the resource's own time starts now: waiting for our turn is not the site's
                deadline = time.monotonic() + self.config.resource_deadline
            headers = {"Accept-Encoding": "gzip, deflate" if accept == "page" else "identity"}
            known = validators(current) if validators else None
            if known:
                headers.update(known.headers())
            try:
                with guarded_stream(self.client, self.config, current, headers, deadline) as (response, watchdog):
                    if response.status_code in REDIRECTS and "location" in response.headers:
                        target = normalise(response.headers["location"], current)
                        if target is None:
                            return Skipped(url, "error", f"unusable redirect to {response.headers['location']!r}")
                        if target in seen:
                            return Skipped(url, "redirect_loop", " -> ".join([*seen, target]))
                        if len(seen) - 1 >= self.config.max_redirects:
                            return Skipped(
                                url,
                                "too_many_redirects",
                                f"more than {self.config.max_redirects}: " + " -> ".join(seen),
                            )
                        seen.append(target)
                        current = target
                        continue
                    if response.status_code == 304 and known:
                        return Skipped(url, "unchanged", f"304 Not Modified at {current}")
                    if response.status_code != 200:
                        return Skipped(
                            url,
                            f"http_{response.status_code}",
                            f"{response.status_code} {response.reason_phrase} at {current}",
                        )
                    return self._body(url, current, tuple(seen[:-1]), response, watchdog, accept, cap)
            except _Abandon as why:
                return Skipped(url, why.reason, why.detail)
            except PrivateAddress as exc:
                return Skipped(url, "private_address", f"{authority(current)} {exc}")
            except DeadlineExceeded:
                return Skipped(url, "timeout", f"not done within {self.config.resource_deadline:g} s")
            except httpx.TimeoutException as exc:
                return Skipped(url, "timeout", f"{type(exc).__name__} at {current}")
            except (httpx.HTTPError, OSError) as exc:
                if (cause := unresolved_name(exc)) is not None:
                    host = httpx.URL(current).host or authority(current)
                    return Skipped(url, "dns_unresolved", f"{host} does not resolve: {cause} ({current})")
                return Skipped(url, "error", f"{type(exc).__name__}: {exc} at {current}")

    def _body(self, url, final, redirects, response: httpx.Response, watchdog, accept: Accept, cap: int) -> Fetched:
        fetched_at = datetime.now(UTC)
        mime = media_type(response.headers.get("content-type"))
        kind = self._kind(final, mime, accept)
        if accept == "page" and kind != "page":
            return self._facts(url, final, redirects, response, fetched_at, mime, kind, 0, "", None, None)
        cap = min(cap, MAX_PLAYLIST_BYTES) if kind == "hls" else cap
        length = response.headers.get("content-length", "")
        if length.isdigit() and int(length) > cap:
            raise _Abandon("too_large", f"Content-Length {length} is over the cap of {cap} bytes")
        digest = hashlib.sha256()
        size = 0
        head = b""
        out = None
        path: Path | None = None
        buffer = bytearray()
        try:
            if accept != "page":
                fd, name = tempfile.mkstemp(dir=self.work_dir, prefix="fetch-", suffix=_suffix(final, kind))
                out, path = os.fdopen(fd, "wb"), Path(name)
            try:
                for chunk in response.iter_bytes(CHUNK):
                    watchdog.check()
                    if size + len(chunk) > cap:
                        raise _Abandon("too_large", f"more than the cap of {cap} bytes")
                    if kind == "sniff" and len(head) < SNIFF_BYTES:
                        head += chunk[: SNIFF_BYTES - len(head)]
                        if len(head) >= SNIFF_BYTES:
                            kind = self._sniffed(head, mime)
                            cap = min(cap, MAX_PLAYLIST_BYTES) if kind == "hls" else cap
                    size += len(chunk)
                    digest.update(chunk)
                    if out is not None:
                        out.write(chunk)
                    else:
                        buffer += chunk
            except (httpx.HTTPError, OSError):
                if watchdog.fired:
                    raise DeadlineExceeded("deadline passed") from None
                raise
            if kind == "sniff":
                kind = self._sniffed(head, mime)
            if out is not None:
                out.close()
            return self._facts(
                url,
                final,
                redirects,
                response,
                fetched_at,
                mime,
                kind,
                size,
                digest.hexdigest(),
                path,
                bytes(buffer) if out is None else None,
            )
        except BaseException:
            if out is not None:
                out.close()
            if path is not None:
                path.unlink(missing_ok=True)
            raise

    def _kind(self, url: str, mime: str, accept: Accept) -> str:
        declared = declared_kind(mime)
        if accept == "any":
            return declared if declared is not None and declared != "sniff" else "any"
        if mime in PAGE_TYPES:
            if accept == "page":
                return "page"
            raise _Abandon("bad_type", f"a page ({mime}) where a medium was expected")
        if declared is None and media_kind_by_extension(url) == "hls":
            return "sniff"  # playlists are often served as text/plain
        if declared is None:
            raise _Abandon("bad_type", f"Content-Type {mime or 'none'} is neither a page nor a medium")
        return declared

    @staticmethod
    def _sniffed(head: bytes, mime: str) -> str:
        kind = sniff(head)
        if kind is None:
            raise _Abandon(
                "bad_type", f"{mime or 'untyped'} bytes that are no known medium (starting {head[:8].hex()})"
            )
        return kind

    @staticmethod
    def _facts(url, final, redirects, response, fetched_at, mime, kind, size, sha, path, body) -> Fetched:
        etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
        return Fetched(
            url=url,
            final_url=final,
            redirects=redirects,
            status=response.status_code,
            headers=dict(response.headers),
            http_version=response.http_version,
            fetched_at=fetched_at,
            content_type=mime,
            kind=kind,
            size=size,
            sha256=sha,
            path=path,
            body=body,
            validators=Validators(etag, modified) if etag or modified else None,
        )
