"""What a crawl remembers: the URLs it has taken on, how each medium was last served, and
the content it has already handed on.

Three things with three lifetimes. A claim lives for one crawl: it stops two pages (or two
workers) from fetching one URL twice. Validators (ETag, Last-Modified) and content hashes
outlive the crawl, so that the next crawl asks "has it changed?" instead of downloading a
film again, and never hands on the same bytes twice, whatever URL they turn up at.
`MemoryCrawlState` forgets everything with the process; `SqliteCrawlState` keeps validators
and hashes in a file; `RedisCrawlState` shares all three between worker processes.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


@dataclass(frozen=True)
class Validators:
    etag: str | None
    last_modified: str | None

    def headers(self) -> dict[str, str]:
        """The conditional request headers that ask "changed since?"."""
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


class CrawlState(Protocol):
    def claim(self, url: str) -> bool:
        """True for the first claim of `url` in this crawl, False ever after."""

    def take_page_slot(self, limit: int) -> bool:
        """Count one more page towards `limit`; False (and nothing counted) once it is reached."""

    def validators(self, url: str) -> Validators | None: ...

    def remember(self, url: str, validators: Validators) -> None: ...

    def add_content(self, sha256: str) -> bool:
        """Record a content hash; True when it is new, False when it was seen before."""

    def has_content(self, sha256: str) -> bool:
        """Whether a content hash was recorded (without recording it)."""


class MemoryCrawlState:
    """All three in memory: a crawl whose next run starts from nothing."""

    def __init__(self) -> None:
        self._claimed: set[str] = set()
        self._pages = 0
        self._validators: dict[str, Validators] = {}
        self._content: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, url: str) -> bool:
        with self._lock:
            new = url not in self._claimed
            self._claimed.add(url)
            return new

    def take_page_slot(self, limit: int) -> bool:
        with self._lock:
            if self._pages >= limit:
                return False
            self._pages += 1
            return True

    def validators(self, url: str) -> Validators | None:
        with self._lock:
            return self._validators.get(url)

    def remember(self, url: str, validators: Validators) -> None:
        with self._lock:
            self._validators[url] = validators

    def add_content(self, sha256: str) -> bool:
        with self._lock:
            new = sha256 not in self._content
            self._content.add(sha256)
            return new

    def has_content(self, sha256: str) -> bool:
        with self._lock:
            return sha256 in self._content


class SqliteCrawlState(MemoryCrawlState):
    """Claims in memory (one crawl per instance); validators and content hashes in a SQLite
    file, so a later crawl over the same sites sends conditional requests and knows what it
    already handed on."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS validators (url TEXT PRIMARY KEY, etag TEXT, last_modified TEXT)")
        self._db.execute("CREATE TABLE IF NOT EXISTS content (sha256 TEXT PRIMARY KEY)")

    def validators(self, url: str) -> Validators | None:
        with self._lock:
            row = self._db.execute("SELECT etag, last_modified FROM validators WHERE url = ?", (url,)).fetchone()
        return Validators(*row) if row else None

    def remember(self, url: str, validators: Validators) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO validators (url, etag, last_modified) VALUES (?, ?, ?)",
                (url, validators.etag, validators.last_modified),
            )

    def add_content(self, sha256: str) -> bool:
        with self._lock:
            return self._db.execute("INSERT OR IGNORE INTO content (sha256) VALUES (?)", (sha256,)).rowcount == 1

    def has_content(self, sha256: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM content WHERE sha256 = ?", (sha256,)).fetchone() is not None

    def close(self) -> None:
        self._db.close()


class RedisCrawlState:
    """Shared by the workers of a distributed crawl. Keys live under `namespace`; claims and
    the page count belong to one crawl (`crawl_id`, a new one for each crawl), validators
    and content hashes to every crawl in the namespace."""

    def __init__(self, client, namespace: str, crawl_id: str = "current", claim_ttl: int = 7 * 24 * 3600) -> None:
        self.client = client
        self.ns = namespace
        self._claims = f"{namespace}:crawl:{crawl_id}:claimed"
        self._pages = f"{namespace}:crawl:{crawl_id}:pages"
        self._ttl = claim_ttl

    def claim(self, url: str) -> bool:
        pipe = self.client.pipeline()
        pipe.sadd(self._claims, url)
        pipe.expire(self._claims, self._ttl)
        return pipe.execute()[0] == 1

    def take_page_slot(self, limit: int) -> bool:
        pipe = self.client.pipeline()
        pipe.incr(self._pages)
        pipe.expire(self._pages, self._ttl)
        taken = pipe.execute()[0]
        if taken > limit:
            self.client.decr(self._pages)
            return False
        return True

    def validators(self, url: str) -> Validators | None:
        raw = self.client.hget(f"{self.ns}:validators", url)
        if raw is None:
            return None
        etag, _, last_modified = (raw.decode() if isinstance(raw, bytes) else raw).partition("\n")
        return Validators(etag or None, last_modified or None)

    def remember(self, url: str, validators: Validators) -> None:
        self.client.hset(f"{self.ns}:validators", url, f"{validators.etag or ''}\n{validators.last_modified or ''}")

    def add_content(self, sha256: str) -> bool:
        return self.client.sadd(f"{self.ns}:content", sha256) == 1

    def has_content(self, sha256: str) -> bool:
        return bool(self.client.sismember(f"{self.ns}:content", sha256))
