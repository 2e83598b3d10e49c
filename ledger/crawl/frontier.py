"""The pages still to crawl, kept per host, so that many hosts are crawled at once.

A host hears from us once a second at most, so a crawl that takes its pages in one line waits
out that second for every page. The frontier hands out work host by host instead: at most one
page of a host is out at a time (its politeness is the limiter's, and a second page of it would
only wait behind the first), and the hosts with work take turns, so that N fetchers keep N
different hosts busy. Within a host, pages come in the order they were found (breadth first).
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass

from ledger.crawl.urls import authority


@dataclass(frozen=True)
class PageTask:
    url: str
    depth: int
    referrer: str | None  # the page that linked to it (None for a seed)


class HostFrontier:
    """Not thread-safe: one scheduler hands out work and takes it back."""

    def __init__(self) -> None:
        self._pages: dict[str, deque[PageTask]] = {}
        self._ready: OrderedDict[str, None] = OrderedDict()  # hosts with pages and none out, in turn
        self._out: set[str] = set()

    def add(self, task: PageTask) -> None:
        host = authority(task.url)
        self._pages.setdefault(host, deque()).append(task)
        if host not in self._out:
            self._ready[host] = None

    def take(self) -> PageTask | None:
        """The next page of the host whose turn it is (now out until `done`); None when every
        host with pages has one out already."""
        if not self._ready:
            return None
        host, _ = self._ready.popitem(last=False)
        pages = self._pages[host]
        task = pages.popleft()
        if not pages:
            del self._pages[host]
        self._out.add(host)
        return task

    def done(self, task: PageTask) -> None:
        """`task`'s host may be given work again; it goes to the back of the line."""
        host = authority(task.url)
        self._out.discard(host)
        if host in self._pages:
            self._ready[host] = None

    @property
    def out(self) -> int:
        return len(self._out)

    def __bool__(self) -> bool:
        return bool(self._pages) or bool(self._out)
