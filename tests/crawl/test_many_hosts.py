"""Many hosts crawled at once, each at its own pace: the crawl's capacity is the number of
hosts it keeps busy, never a faster pace at one host. The pace is checked where the crawl
keeps it (when its limiter lets a request go); the sites' own logs, whose arrival times move
with a loaded machine's scheduling, are checked to have seen nothing sooner than that allows.
Each site is a real HTTP server on an address of its own (127.0.1.k, loopback on Linux)."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from contextlib import ExitStack
from itertools import pairwise

import pytest

from ledger.crawl import Crawler, LocalHostLimiter, RedisHostLimiter
from ledger.crawl.frontier import HostFrontier, PageTask
from tests.helpers.crawl import with_
from tests.helpers.piracy_site import PiracySite, make_png

HOSTS = 8
PAGES = 3  # besides the index, on each host
INTERVAL = 0.4


@pytest.fixture
def sites():
    with ExitStack() as stack:
        running = [stack.enter_context(PiracySite(f"127.0.1.{k + 1}")) for k in range(HOSTS)]
        for k, site in enumerate(running):
            site.page("/", "".join(f'<a href="/p{i}.html">{i}</a>' for i in range(PAGES)))
            for i in range(PAGES):
                site.page(f"/p{i}.html", f'<img src="/i{i}.png">')
                site.publish(f"/i{i}.png", make_png(k * PAGES + i), "image/png")
        yield running


class TimingLimiter(LocalHostLimiter):
    """The crawl's own limiter, noting when it let each request to each host go."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: dict[str, list[float]] = defaultdict(list)
        self._noted = threading.Lock()

    def wait(self, host: str, interval: float) -> None:
        super().wait(host, interval)
        with self._noted:
            self.sent[host].append(time.monotonic())


def test_hosts_are_crawled_at_once_and_each_keeps_its_interval(sites, work_dir, config):
    requests_per_host = 1 + 1 + 2 * PAGES  # robots.txt, the index, each page and its image
    limiter = TimingLimiter()
    started = time.monotonic()
    polite = with_(config, host_interval=INTERVAL)
    with Crawler([s.url("/") for s in sites], work_dir, polite, limiter=limiter) as crawler:
        stats = crawler.run(lambda medium: medium.path.unlink(), hosts_at_once=HOSTS)
    assert (stats.pages, stats.media) == (HOSTS * (1 + PAGES), HOSTS * PAGES)
    assert sorted(limiter.sent) == sorted(s.authority for s in sites)
    for site in sites:
        sent = limiter.sent[site.authority]
        assert len(sent) == len(site.requests()) == requests_per_host, site.paths()
        assert min(b - a for a, b in pairwise(sent)) >= INTERVAL - 0.005  # never two requests closer
        arrived = sorted(r.time for r in site.requests())  # and the site saw no more than the limiter let go
        assert all(t >= started + k * INTERVAL - 0.005 for k, t in enumerate(arrived)), arrived
    # every host was being crawled while every other was: their windows all overlap (one host
    # after another, none would; how much faster that is, is scripts/bench-crawl's to measure)
    windows = [(sent[0], sent[-1]) for sent in limiter.sent.values()]
    assert max(first for first, _ in windows) < min(last for _, last in windows)


def test_the_frontier_gives_out_one_page_of_a_host_at_a_time_and_hosts_take_turns():
    frontier = HostFrontier()
    for url in ("http://a.test/1", "http://a.test/2", "http://b.test/1", "http://c.test/1"):
        frontier.add(PageTask(url, 0, None))
    first = [frontier.take() for _ in range(4)]
    assert [t.url if t else None for t in first] == ["http://a.test/1", "http://b.test/1", "http://c.test/1", None]
    frontier.done(first[1])
    assert frontier.take() is None  # b has nothing left; a's second page waits for its first
    frontier.done(first[0])
    assert frontier.take().url == "http://a.test/2"


def test_queued_messages_are_planned_one_slot_apart_per_host_after_its_limiter(redis_prefix):
    """A worker's thread takes a message when its host is due, rather than sleeping on it."""
    client, prefix = redis_prefix
    limiter = RedisHostLimiter(client, prefix=prefix + ":host:")
    plan = RedisHostLimiter(client, prefix=prefix + ":plan:")
    limiter.wait("a.example", 1.0)  # a request just sent: the host's next slot is a second away
    called, delays = [], []
    for _ in range(3):
        called.append(time.monotonic())
        delays.append(plan.reserve("a.example", 1.0, after=limiter))
    assert 0.75 < delays[0] <= 1.0, delays
    # each delay is from its own call's now: the slots they name are a second apart, however
    # far apart a loaded machine made the calls
    due = [c + d for c, d in zip(called, delays, strict=True)]
    assert all(abs(b - a - 1.0) < 0.2 for a, b in pairwise(due)), (called, delays)
    assert plan.reserve("b.example", 1.0, after=limiter) == 0.0  # another host: due at once
    assert client.pttl(prefix + ":plan:a.example") != -1  # the plan expires by itself (-2: it already has)
