"""robots.txt, as RFC 9309 says a crawler reads it, one fetch per origin per crawl.

A robots.txt that is there (2xx) is obeyed, Crawl-delay included when it asks for more
patience than we have anyway. One that is missing (4xx) allows everything. One the server
cannot give (5xx, a timeout, a refused connection) disallows everything: a site in trouble
is not one to crawl. Nor is one whose host name does not resolve; that is told apart, as the
likelier cause to look at is the name (a typo, a domain already seized). Redirects are
followed (at most five, as the RFC asks). At most 512 KiB is read (the RFC's minimum is
500 KiB; the rest would be ignored).
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass
from urllib.robotparser import RobotFileParser

import httpx

from ledger.crawl.config import CrawlConfig, KiB
from ledger.crawl.limits import HostLimiter
from ledger.crawl.transport import DeadlineExceeded, PrivateAddress, guarded_stream, unresolved_name
from ledger.crawl.urls import authority, normalise, origin

MAX_ROBOTS_BYTES = 512 * KiB
ROBOTS_DEADLINE = 30.0
DELAY_SCALE = 1000  # urllib.robotparser reads whole seconds only: we hand it milliseconds
_CRAWL_DELAY = re.compile(r"^(\s*crawl-delay\s*:\s*)([0-9]*\.?[0-9]+)(\s*(?:#.*)?)$", re.IGNORECASE)


def _scaled(line: str) -> str:
    """A Crawl-delay line in milliseconds, so that "Crawl-delay: 0.5" is not lost."""
    match = _CRAWL_DELAY.match(line)
    if not match:
        return line
    return f"{match.group(1)}{round(float(match.group(2)) * DELAY_SCALE)}{match.group(3)}"


@dataclass(frozen=True)
class RobotsRules:
    parser: RobotFileParser | None  # None: no rules (allow all)
    allow_all: bool
    status: str  # how we came by them: "200", "404", "unreachable", "503", "private_address", "dns_unresolved"...
    detail: str = ""  # why none could be read, when it says more than the status

    @property
    def reachable(self) -> bool:
        """False when the site could not give its robots.txt: everything is disallowed, for now."""
        return self.status not in ("unreachable", PRIVATE, DNS_UNRESOLVED) and not self.status.startswith("5")

    @property
    def unresolved(self) -> bool:
        """The site's host name did not resolve to any address: nothing there could be asked."""
        return self.status == DNS_UNRESOLVED

    @property
    def private(self) -> bool:
        """The site's name led to a private address: nothing there is fetched (transport.py)."""
        return self.status == PRIVATE

    def allows(self, token: str, url: str) -> bool:
        if self.parser is None:
            return self.allow_all
        return self.parser.can_fetch(token, url)

    def crawl_delay(self, token: str) -> float | None:
        if self.parser is None:
            return None
        delay = self.parser.crawl_delay(token)
        return float(delay) / DELAY_SCALE if delay is not None else None


PRIVATE = "private_address"
DNS_UNRESOLVED = "dns_unresolved"
ROBOTS_TTL = 24 * 3600.0
UNREACHABLE_TTL = 60.0  # a robots.txt the site could not give is asked for again this soon


class Robots:
    """The rules of each origin, fetched the first time a URL there is checked."""

    def __init__(self, client: httpx.Client, config: CrawlConfig, limiter: HostLimiter) -> None:
        self.client = client
        self.config = config
        self.limiter = limiter
        self._rules: dict[str, RobotsRules] = {}
        self._fetched: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def rules(self, url: str) -> RobotsRules:
        key = origin(url)
        with self._lock:
            if self._fresh(key):
                return self._rules[key]
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # one fetch per origin, however many threads ask at once
            with self._lock:
                if self._fresh(key):
                    return self._rules[key]
            rules = self._fetch(key)
            with self._lock:
                self._rules[key], self._fetched[key] = rules, time.monotonic()
            return rules

    def _fresh(self, key: str) -> bool:
        """Known, and fetched within a day (RFC 9309: a cached robots.txt is used 24 hours at most);
        a site that could not answer is asked again after a minute, not held to it for a day."""
        if key not in self._rules:
            return False
        ttl = ROBOTS_TTL if self._rules[key].reachable else UNREACHABLE_TTL
        return time.monotonic() - self._fetched[key] < ttl

    def allows(self, url: str) -> bool:
        return self.rules(url).allows(self.config.robots_token, url)

    def interval(self, url: str) -> float:
        """Seconds between two requests to this URL's host: ours, or the site's if longer."""
        delay = self.rules(url).crawl_delay(self.config.robots_token)
        return max(self.config.host_interval, delay or 0.0)

    def known_interval(self, url: str) -> float | None:
        """`interval(url)` if this origin's rules are at hand; None rather than fetch them."""
        with self._lock:
            known = self._fresh(origin(url))
        return self.interval(url) if known else None

    def _fetch(self, site: str) -> RobotsRules:
        url = f"{site}/robots.txt"
        try:
            for _ in range(self.config.max_redirects + 1):
                self.limiter.wait(authority(url), self.config.host_interval)
                # the site's time starts now: waiting for our own turn (or our own Redis) is not its fault
                deadline = time.monotonic() + min(ROBOTS_DEADLINE, self.config.resource_deadline)
                # a robots.txt may redirect anywhere (RFC 9309), so elsewhere must be a public address:
                # the crawl's scope, which admits an address written in a seed, is not asked here
                public_only = True if authority(url) != authority(site) else None
                with guarded_stream(self.client, self.config, url, {}, deadline, public_only) as (response, watchdog):
                    if response.is_redirect and "location" in response.headers:
                        url = normalise(response.headers["location"], url) or ""
                        if not url:
                            break
                        continue
                    if 400 <= response.status_code < 500:
                        return RobotsRules(None, True, str(response.status_code))
                    if not response.is_success:
                        return RobotsRules(None, False, str(response.status_code))
                    body = bytearray()
                    for chunk in response.iter_bytes():
                        watchdog.check()
                        body += chunk
                        if len(body) >= MAX_ROBOTS_BYTES:
                            break
                    parser = RobotFileParser()
                    parser.parse(
                        [
                            _scaled(line)
                            for line in bytes(body[:MAX_ROBOTS_BYTES]).decode("utf-8", "replace").splitlines()
                        ]
                    )
                    return RobotsRules(parser, True, str(response.status_code))
            return RobotsRules(None, True, "too_many_redirects")  # RFC 9309: treat as unavailable
        except PrivateAddress:
            return RobotsRules(None, False, PRIVATE)
        except (httpx.HTTPError, DeadlineExceeded, OSError) as exc:
            cause = unresolved_name(exc)
            if cause is not None and authority(url) == authority(site):  # not a name a redirect led to
                return RobotsRules(None, False, DNS_UNRESOLVED, f"{_host(site)} does not resolve: {cause}")
            return RobotsRules(None, False, "unreachable")


def _host(url: str) -> str:
    return httpx.URL(url).host or authority(url)
