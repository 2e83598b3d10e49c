"""What a crawl may do: its limits, its manners and its name, in one value.

Every limit has a default a crawl of a hostile site survives: a page is at most 5 MiB, a
medium at most 2 GiB, no resource takes longer than five minutes however slowly a server
sends it, and a host hears from us at most once a second (longer if its robots.txt asks).
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

USER_AGENT = "ReelLedgerBot/0.1 (+https://github.com/reelledger/reelledger; anti-piracy crawler)"
ROBOTS_TOKEN = "ReelLedgerBot"  # the product token robots.txt groups are matched against

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB


@dataclass(frozen=True)
class CrawlConfig:
    max_depth: int = 3  # links followed from a seed (a seed is depth 0)
    max_pages: int = 1000  # pages fetched in one crawl, seeds included
    max_page_bytes: int = 5 * MiB
    max_media_bytes: int = 2 * GiB  # of one medium; for HLS, of the whole assembled stream
    connect_timeout: float = 5.0
    read_timeout: float = 15.0  # the longest silence between two reads
    resource_deadline: float = 300.0  # the longest one resource (with its redirects) may take
    host_interval: float = 1.0  # seconds between two requests to one host, at least
    max_crawl_delay: float = 60.0  # a robots.txt asking for longer between requests: its site is not crawled
    hls_max_seconds: float = 600.0  # of an HLS stream downloaded, from its start
    hls_live_seconds: float = 120.0  # the longest a live HLS stream is followed as it grows
    hls_max_bandwidth: int | None = None  # bits/s of the variant picked; None: the highest
    max_redirects: int = 5
    user_agent: str = USER_AGENT
    robots_token: str = ROBOTS_TOKEN
    extra_hosts: frozenset[str] = frozenset()  # in scope besides the seeds' hosts ("host" or "host:port")
    private_hosts: frozenset[str] = frozenset()  # host names allowed to resolve to private addresses ("localhost")
    verify: str | bool = True  # TLS: verify with the system CAs, a CA bundle path, or not at all
    http2: bool = True

    def ssl_verify(self) -> ssl.SSLContext | bool:
        """What httpx takes for `verify`: a CA bundle path becomes a context that trusts it."""
        if isinstance(self.verify, str):
            return ssl.create_default_context(cafile=self.verify)
        return self.verify
