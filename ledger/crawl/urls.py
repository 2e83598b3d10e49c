"""URLs as the crawler compares them: one spelling per resource, and whether it is in scope.

Two spellings of a URL that differ only in the case of scheme or host, an explicit default
port or a fragment name the same resource; `normalise` gives them one spelling so a URL is
claimed, fetched and remembered once. Scope is by authority (host and non-default port):
a crawl stays on the sites it was sent to and the hosts it was told to trust.
"""

from __future__ import annotations

import posixpath
from urllib.parse import urljoin, urlsplit, urlunsplit

DEFAULT_PORTS = {"http": 80, "https": 443}

VIDEO_EXTENSIONS = frozenset(
    {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".ts", ".avi", ".flv", ".wmv", ".mpg", ".mpeg", ".3gp"}
)
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".avif"})
HLS_EXTENSIONS = frozenset({".m3u8"})


def normalise(url: str, base: str | None = None) -> str | None:
    """`url` (resolved against `base`) in its one spelling; None when it is not http(s) or
    cannot be parsed (mailto:, javascript:, data:, a bad port...)."""
    try:
        parts = urlsplit(urljoin(base, url.strip()) if base else url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        netloc = f"{parts.netloc.rsplit('@', 1)[0]}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def authority(url: str) -> str:
    """host[:port] of a normalised URL: the unit of scope, politeness and robots.txt."""
    return urlsplit(url).netloc.rsplit("@", 1)[-1]


def origin(url: str) -> str:
    """scheme://host[:port] of a normalised URL: what one robots.txt governs (RFC 9309)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{authority(url)}"


class Scope:
    """The authorities of the seeds plus extra hosts; `extra` entries without a port admit
    their host on any port."""

    def __init__(self, seeds: list[str] | tuple[str, ...], extra: frozenset[str] | set[str] = frozenset()) -> None:
        self.authorities = {authority(u) for u in (normalise(s) for s in seeds) if u}
        self.hosts = {h.lower() for h in extra if ":" not in h}
        self.authorities |= {h.lower() for h in extra if ":" in h}

    def allows(self, url: str) -> bool:
        auth = authority(url)
        return auth in self.authorities or (urlsplit(url).hostname or "") in self.hosts


def media_kind_by_extension(url: str) -> str | None:
    """ "video", "image" or "hls" when the URL's path ends like one, else None."""
    ext = posixpath.splitext(urlsplit(url).path)[1].lower()
    if ext in HLS_EXTENSIONS:
        return "hls"
    if ext in VIDEO_EXTENSIONS:
        return "video"
    if ext in IMAGE_EXTENSIONS:
        return "image"
    return None
