"""A crawl: pages breadth-first from the seeds, media handed on as they are found.

`run` drives a whole crawl in this process, on many hosts at once (`frontier.HostFrontier`:
one page of a host out at a time, the hosts taking turns, each at its limiter's pace). A
distributed crawl uses the two steps it is made of, one task each: `crawl_page(url, depth)`
fetches a page and names the pages and media it leads to (each claimed once in the shared
`CrawlState`, so no two workers take the same), and `fetch_medium(url, page_url)` downloads
one medium. Workers that share a Redis share claims, validators, content hashes
(`RedisCrawlState`) and politeness (`RedisHostLimiter`).

A medium handed on is new: a 304 to our conditional request means unchanged, and bytes
whose SHA-256 was handed on before (at any URL, in any earlier crawl the state remembers)
are a duplicate; both are skipped and their files deleted. A medium's validators and
content hash are recorded once the caller is done with it (`run` does so after `on_medium`
returns; a worker calls `record` after `fetch_medium(..., record=False)`): a crash in
between means the medium is fetched again next time, never that it is lost.
"""

from __future__ import annotations

import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from ledger.crawl import hls
from ledger.crawl.config import CrawlConfig
from ledger.crawl.fetch import Fetched, FetchedMedium, Fetcher, Skipped
from ledger.crawl.frontier import HostFrontier, PageTask
from ledger.crawl.limits import HostLimiter, LocalHostLimiter
from ledger.crawl.links import extract
from ledger.crawl.robots import Robots
from ledger.crawl.state import CrawlState, MemoryCrawlState
from ledger.crawl.transport import make_client
from ledger.crawl.urls import Scope, normalise


@dataclass
class PageOutcome:
    url: str
    depth: int
    pages: list[tuple[str, int]] = field(default_factory=list)  # newly claimed pages to crawl, with their depth
    media: list[str] = field(default_factory=list)  # newly claimed media to fetch (page_url: this page)
    skipped: list[Skipped] = field(default_factory=list)  # this page, if it failed; links robots.txt forbids
    final_url: str | None = None  # where the page was, after redirects (None when not fetched)
    is_medium: bool = False  # the URL was a medium, not a page: `media` is [url]


@dataclass
class CrawlStats:
    pages: int = 0  # fetched and read
    media: int = 0  # handed on
    bytes: int = 0  # of the media handed on
    skipped: Counter = field(default_factory=Counter)  # reason -> count
    skips: list[Skipped] = field(default_factory=list)  # each, with its detail

    def skip(self, skipped: Skipped) -> None:
        self.skipped[skipped.reason] += 1
        self.skips.append(skipped)


class Deferred(Exception):
    """Raised by an `on_medium` that cannot deal with a medium now (the service is busy): the
    medium is not remembered, so the next crawl fetches and hands it on again."""


class Crawler:
    """A crawl of the hosts of `seeds` (plus `config.extra_hosts`), files under `work_dir`.
    `robots` may be shared by crawlers of one crawl (it is thread-safe): each origin's
    robots.txt is then fetched once for all of them."""

    def __init__(
        self,
        seeds: Iterable[str],
        work_dir: str | Path,
        config: CrawlConfig = CrawlConfig(),
        *,
        state: CrawlState | None = None,
        limiter: HostLimiter | None = None,
        client: httpx.Client | None = None,
        robots: Robots | None = None,
    ) -> None:
        self.seeds = [u for u in (normalise(s) for s in seeds) if u]
        if not self.seeds:
            raise ValueError("no usable seed URL (http or https)")
        self.config = config
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.state = state if state is not None else MemoryCrawlState()
        self.limiter = limiter if limiter is not None else LocalHostLimiter()
        self._own_client = client is None
        self.client = client if client is not None else make_client(config)
        self.scope = Scope(self.seeds, config.extra_hosts)
        self.robots = robots if robots is not None else Robots(self.client, config, self.limiter)
        self.fetcher = Fetcher(self.client, config, self.scope, self.robots, self.limiter, self.work_dir)

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> Crawler:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def seed_pages(self) -> list[tuple[str, int]]:
        """The seeds not yet claimed, at depth 0: where a crawl starts."""
        return [(u, 0) for u in self.seeds if self.state.claim(u) and self.state.take_page_slot(self.config.max_pages)]

    def crawl_page(self, url: str, depth: int) -> PageOutcome:
        """Fetch the page at `url` (already claimed) and claim what it leads to. A link that
        turned out to be a medium comes back as this outcome's only medium."""
        outcome = PageOutcome(url, depth)
        got = self.fetcher.fetch(url, "page", self.config.max_page_bytes)
        if isinstance(got, Skipped):
            outcome.skipped.append(got)
            return outcome
        outcome.final_url = got.final_url
        self.state.claim(got.final_url)
        if got.kind != "page":
            outcome.is_medium = True
            outcome.media.append(url)
            return outcome
        links = extract(_decode(got), got.final_url)
        if depth < self.config.max_depth:
            for page in links.pages:
                if not self.scope.allows(page):
                    continue
                if not self.robots.allows(page) and self.robots.rules(page).reachable:  # else its own fetch decides
                    if self.state.claim(page):
                        outcome.skipped.append(Skipped(page, "robots", f"robots.txt disallows {page}"))
                    continue
                if self.state.claim(page) and self.state.take_page_slot(self.config.max_pages):
                    outcome.pages.append((page, depth + 1))
        outcome.media = [m for m in links.media if self.state.claim(m)]
        return outcome

    def fetch_medium(self, url: str, page_url: str | None = None, *, record: bool = True) -> FetchedMedium | Skipped:
        """Download one medium (an HLS stream assembled into one file); the caller owns the
        file of a FetchedMedium. Nothing is left on disk for a Skipped. With `record`, its
        validators and content hash are recorded at once; without, the caller calls
        `record(medium)` when it is done with it."""
        got = self.fetcher.fetch(url, "media", self.config.max_media_bytes, validators=self.state.validators)
        if isinstance(got, Skipped):
            return got
        if got.kind == "hls":
            try:
                stream = hls.download_stream(self.fetcher, got, self.config, self.work_dir)
            except (ValueError, KeyError, IndexError, OverflowError) as exc:  # a playlist that says nonsense
                return Skipped(url, "bad_type", f"an HLS playlist that cannot be followed: {exc}")
            if isinstance(stream, Skipped):
                return stream
            medium = FetchedMedium(
                url=url,
                page_url=page_url,
                final_url=got.final_url,
                path=stream.path,
                kind="hls",
                content_type="video/mp4" if stream.container == "mp4" else "video/mp2t",
                size=stream.size,
                sha256=stream.sha256,
                status=got.status,
                headers=got.headers,
                http_version=got.http_version,
                fetched_at=got.fetched_at,
                redirects=got.redirects,
                segments=stream.segments,
                variant=stream.variant,
                complete=stream.complete,
                validators=got.validators,
            )
        else:
            assert got.path is not None  # a medium is fetched into a file
            medium = FetchedMedium(
                url=url,
                page_url=page_url,
                final_url=got.final_url,
                path=got.path,
                kind=got.kind,
                content_type=got.content_type,
                size=got.size,
                sha256=got.sha256,
                status=got.status,
                headers=got.headers,
                http_version=got.http_version,
                fetched_at=got.fetched_at,
                redirects=got.redirects,
                validators=got.validators,
            )
        new = self.state.add_content(medium.sha256) if record else not self.state.has_content(medium.sha256)
        if not new:
            return self._duplicate(medium)
        if record:
            self._remember(medium)
        return medium

    def _duplicate(self, medium: FetchedMedium) -> Skipped:
        """A medium whose bytes were handed on before: its file goes, its validators stay (the
        bytes are recorded already, so they may be too)."""
        self._remember(medium)
        medium.path.unlink(missing_ok=True)
        return Skipped(medium.url, "duplicate_content", f"sha256 {medium.sha256} was handed on before")

    def record(self, medium: FetchedMedium, content: bool = True) -> None:
        """Remember `medium` as handed on: its validators for the next crawl's conditional
        request and its content hash. A caller that found the bytes to matter (a copy of a
        registered work) passes content=False, and neither is kept: the same bytes at another
        address are another leak, and at this one, another sighting, to be handed on again."""
        if content:  # a leak's validators are not kept either: each crawl sees whether it is still there
            self.state.add_content(medium.sha256)
            self._remember(medium)

    def _remember(self, medium: FetchedMedium) -> None:
        if medium.validators:
            self.state.remember(medium.final_url, medium.validators)

    def run(
        self,
        on_medium: Callable[[FetchedMedium], bool | None],
        progress: Callable[[CrawlStats], None] | None = None,
        *,
        hosts_at_once: int = 1,
    ) -> CrawlStats:
        """Crawl to the end (depth, page count or no more links); `on_medium` gets each new
        medium as it is downloaded and owns its file; it returns True when the bytes matter
        (then the same bytes are handed on again wherever else they are found).
        `progress` gets the running stats after each page. An exception from `on_medium` ends
        the crawl, and that medium is not recorded (the next crawl fetches it again).

        `hosts_at_once` fetchers work on that many hosts at a time (`frontier.HostFrontier`),
        each host still at its own pace (the limiter's), and take their next page themselves;
        `on_medium` and `progress` are called from this thread only, one medium at a time,
        while the fetchers go on."""
        stats = CrawlStats()
        frontier = HostFrontier()
        for url, depth in self.seed_pages():
            frontier.add(PageTask(url, depth, None))
        shared = _Shared(frontier, max(1, hosts_at_once))
        fetchers = [
            threading.Thread(target=self._fetcher, args=(shared,), name=f"crawl-{n}", daemon=True)
            for n in range(max(1, hosts_at_once))
        ]
        for fetcher in fetchers:
            fetcher.start()
        running = len(fetchers)
        try:
            while running:
                work = shared.handed.get()
                if work is None:  # a fetcher found nothing left to do
                    running -= 1
                    continue
                if isinstance(work, BaseException):
                    raise work
                self._hand_on(work, stats, on_medium)
                if progress is not None:
                    progress(stats)
        finally:  # ended early: the fetchers stop, and what they still bring is not handed on
            with shared.turn:
                shared.stopped = True
                shared.turn.notify_all()
            while any(fetcher.is_alive() for fetcher in fetchers) or not shared.handed.empty():
                try:  # taken, so that a fetcher waiting to hand its work on can finish
                    left = shared.handed.get(timeout=0.05)
                except queue.Empty:
                    continue
                if isinstance(left, _PageWork):
                    left.discard()
        return stats

    def _fetcher(self, shared: _Shared) -> None:
        """One fetcher: the next host's page and its media, over and over, until no host has a
        page left and none is out (or the crawl stopped); each result goes to the crawl's thread."""
        try:
            while True:
                with shared.turn:
                    task = None
                    while not shared.stopped:
                        task = shared.frontier.take()
                        if task is not None or not shared.frontier:  # work, or none left anywhere
                            break
                        shared.turn.wait()  # every host with pages has one out: wait for one back
                    if task is None:
                        return
                try:
                    work = self._page_work(task)
                except BaseException as exc:
                    shared.handed.put(exc)
                    return
                with shared.turn:
                    for url, depth in work.outcome.pages:
                        shared.frontier.add(PageTask(url, depth, work.outcome.final_url))
                    shared.frontier.done(task)
                    shared.turn.notify_all()
                shared.handed.put(work)
        finally:
            with shared.turn:
                shared.turn.notify_all()
            shared.handed.put(None)

    def _page_work(self, task: PageTask) -> _PageWork:
        """A fetcher's part: the page, then the media it names (the scheduler's part is `_hand_on`)."""
        outcome = self.crawl_page(task.url, task.depth)
        page_url = task.referrer if outcome.is_medium else outcome.final_url
        return _PageWork(task, outcome, [self.fetch_medium(url, page_url, record=False) for url in outcome.media])

    def _hand_on(self, work: _PageWork, stats: CrawlStats, on_medium: Callable[[FetchedMedium], bool | None]) -> None:
        outcome = work.outcome
        for skipped in outcome.skipped:
            stats.skip(skipped)
        if outcome.final_url is not None and not outcome.is_medium:
            stats.pages += 1
        for index, result in enumerate(work.media):
            if isinstance(result, FetchedMedium) and self.state.has_content(result.sha256):
                result = self._duplicate(result)  # the same bytes, handed on since this fetch began
            if isinstance(result, Skipped):
                stats.skip(result)
                continue
            try:
                relevant = on_medium(result)
            except Deferred as exc:
                stats.skip(Skipped(result.url, "deferred", str(exc)))
                continue
            except BaseException:
                work.discard(index + 1)
                raise
            self.record(result, content=not relevant)
            stats.media += 1
            stats.bytes += result.size


@dataclass
class _PageWork:
    task: PageTask
    outcome: PageOutcome
    media: list[FetchedMedium | Skipped]

    def discard(self, start: int = 0) -> None:
        """Delete the files of the media from `start` on: they are not handed on."""
        for medium in self.media[start:]:
            if isinstance(medium, FetchedMedium):
                medium.path.unlink(missing_ok=True)


class _Shared:
    """What a crawl's fetchers share with it: the frontier, taken in turn under `turn`, and
    the line of results to hand on (None: a fetcher has finished). The line is short: media
    waiting for `on_medium` wait on disk, so fetchers that run ahead of it stop and wait."""

    def __init__(self, frontier: HostFrontier, waiting: int) -> None:
        self.frontier = frontier
        self.turn = threading.Condition()
        self.stopped = False
        self.handed: queue.Queue[_PageWork | BaseException | None] = queue.Queue(maxsize=waiting)


def _decode(got: Fetched) -> str:
    charset = "utf-8"
    for param in got.headers.get("content-type", "").split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip():
            charset = value.strip().strip("\"'")
    assert got.body is not None  # a page comes as bytes
    try:
        return got.body.decode(charset, "replace")
    except LookupError:
        return got.body.decode("utf-8", "replace")
