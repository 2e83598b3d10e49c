"""Is a reported link still up? The check that measures a takedown.

A probe asks for the link as the crawl would (robots.txt, rate limit, our User-Agent), but
reads at most a small prefix: a medium too large for that is, by that very answer, still
served. Only a clear answer is recorded: the medium served (alive), or 404/410/451, or a
page in its place (gone). A server that is down or slow says nothing about the link: the
next re-check asks again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledger.crawl.crawler import Crawler
from ledger.crawl.fetch import Skipped

PROBE_BYTES = 64 * 1024
GONE_STATUSES = {404, 410, 451}


@dataclass(frozen=True)
class LinkState:
    url: str
    alive: bool | None  # None: no clear answer this time
    http_status: int | None
    detail: str


def probe(crawler: Crawler, url: str) -> LinkState:
    got = crawler.fetcher.fetch(url, "media", PROBE_BYTES)
    if not isinstance(got, Skipped):
        got.discard()
        return LinkState(url, True, got.status, f"served {got.content_type or 'media'} ({got.size} bytes)")
    reason = got.reason
    if reason == "too_large":
        return LinkState(url, True, 200, "still served (larger than the probe reads)")
    if reason.startswith("http_") and reason[5:].isdigit():
        status = int(reason[5:])
        return LinkState(
            url, True if status < 300 else (False if status in GONE_STATUSES else None), status, got.detail
        )
    if reason == "bad_type":
        return LinkState(url, False, 200, f"no medium there any more: {got.detail}")
    return LinkState(url, None, None, f"{reason}: {got.detail}")


def recheck_pass(service, config, work_dir=None, limiter=None) -> list[tuple[dict, LinkState]]:
    """Probe the link of every open case of the service's crawler account and record each
    clear answer; a gone link closes its case there."""
    import tempfile

    cases = service.open_cases()
    if not cases:
        return []
    results = []
    with (
        tempfile.TemporaryDirectory(prefix="reelledger-recheck-") as tmp,
        Crawler([c["url"] for c in cases], work_dir or tmp, config, limiter=limiter) as crawler,
    ):
        for case in cases:
            state = probe(crawler, case["url"])
            if state.alive is not None:
                service.record_check(case["id"], state.alive, state.http_status, state.detail)
            results.append((case, state))
    return results
