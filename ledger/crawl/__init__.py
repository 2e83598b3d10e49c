"""The anti-piracy crawler: fetch pages within a scope, find media, download them politely.

A pure web-fetching library. It knows nothing of cases, evidence, the database or the
chain: a caller hands it seeds and a callback, and gets back files with the facts of how
they were fetched (URL, status, headers, time, SHA-256). Everything a site could do to
hurt us (huge files, trickling servers, redirect loops, broken connections) ends in a
`Skipped` with a reason, never in a hang, a full disk or an exception.
"""

from ledger.crawl.config import USER_AGENT, CrawlConfig
from ledger.crawl.crawler import Crawler, CrawlStats, PageOutcome
from ledger.crawl.fetch import FetchedMedium, Skipped
from ledger.crawl.limits import HostLimiter, LocalHostLimiter, RedisHostLimiter
from ledger.crawl.state import CrawlState, MemoryCrawlState, RedisCrawlState, SqliteCrawlState, Validators

__all__ = [
    "USER_AGENT",
    "CrawlConfig",
    "CrawlState",
    "CrawlStats",
    "Crawler",
    "FetchedMedium",
    "HostLimiter",
    "LocalHostLimiter",
    "MemoryCrawlState",
    "PageOutcome",
    "RedisCrawlState",
    "RedisHostLimiter",
    "Skipped",
    "SqliteCrawlState",
    "Validators",
]
