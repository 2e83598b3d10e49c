"""robots.txt obeyed, and one host never hears from us more often than the interval allows."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

from ledger.crawl import Crawler, LocalHostLimiter, RedisHostLimiter
from tests.helpers.crawl import REDIS_URL, with_
from tests.helpers.piracy_site import MP4_HEAD


def _site_with_private_links(site):
    site.page(
        "/", '<a href="/private/secret.html">s</a> <a href="/open.html">o</a> <video src="/private/film.mp4"></video>'
    )
    site.page("/open.html", '<a href="/private/other.html">x</a>')
    site.page("/private/secret.html", "<p>hidden</p>")
    site.publish("/private/film.mp4", MP4_HEAD, "video/mp4")


def test_robots_disallowed_paths_are_never_requested(site, work_dir, config):
    _site_with_private_links(site)
    with Crawler([site.url("/")], work_dir, config) as crawler:
        stats = crawler.run(lambda medium: None)
    assert not [p for p in site.paths() if p.startswith("/private/")]
    assert site.paths()[0] == "/robots.txt" and site.paths().count("/robots.txt") == 1
    assert stats.skipped["robots"] == 3  # two pages and a film, each reported once
    assert stats.pages == 2


def test_a_missing_robots_txt_allows_everything(site, work_dir, config):
    _site_with_private_links(site)
    site.robots_txt = None
    with Crawler([site.url("/")], work_dir, config) as crawler:
        stats = crawler.run(lambda medium: medium.path.unlink())
    assert "/private/secret.html" in site.paths() and stats.media == 1


def test_a_failing_robots_txt_disallows_everything(site, work_dir, config):
    _site_with_private_links(site)
    site.robots_status = 503
    with Crawler([site.url("/")], work_dir, config) as crawler:
        stats = crawler.run(lambda medium: None)
    assert site.paths() == ["/robots.txt"]
    assert stats.skipped["robots_unreachable"] == 1 and stats.pages == 0  # a reason worth another try later


def test_a_robots_txt_the_site_could_not_give_is_asked_for_again_soon(site, work_dir, config, monkeypatch):
    from ledger.crawl import robots

    monkeypatch.setattr(robots, "UNREACHABLE_TTL", 0.2)
    site.page("/", "<p>home</p>")
    site.robots_status = 503
    with Crawler([site.url("/")], work_dir, config) as crawler:
        assert crawler.fetch_medium(site.url("/")).reason == "robots_unreachable"
        site.robots_status = 200
        time.sleep(0.3)
        assert crawler.robots.allows(site.url("/"))  # not held to the failure for a day
    assert site.paths().count("/robots.txt") == 2


def test_waiting_for_our_own_turn_does_not_use_up_the_sites_deadline(site, work_dir, config):
    """A limiter that keeps us waiting (a busy host, our own Redis riding out an outage) must
    not turn into a robots.txt the site "could not give"."""

    class Patient(LocalHostLimiter):
        def wait(self, host: str, interval: float) -> None:
            time.sleep(4)

    _site_with_private_links(site)
    with Crawler([site.url("/")], work_dir, with_(config, resource_deadline=3), limiter=Patient()) as crawler:
        assert crawler.robots.rules(site.url("/")).status == "200"


def spaced(times: list[float], started: float, interval: float) -> None:
    """Sorted times that a limiter let through, from a start: the k-th no sooner than k
    intervals after it. That is the limiter's promise; a gap between two neighbours is not,
    as a loaded machine can wake one waiter late and the next on time. And spread out, not
    let through together after a wait (the first would have to wake half the run late)."""
    assert all(t >= started + k * interval - 0.005 for k, t in enumerate(times)), [round(t - started, 3) for t in times]
    assert times[-1] - times[0] >= (len(times) - 1) * interval / 2, [round(t - started, 3) for t in times]


class RecordingLimiter(LocalHostLimiter):
    """Notes the interval each request was made to keep: where the crawl's promise is made."""

    def __init__(self) -> None:
        super().__init__()
        self.intervals: list[float] = []

    def wait(self, host: str, interval: float) -> None:
        self.intervals.append(interval)
        super().wait(host, interval)


def test_a_crawl_delay_longer_than_ours_is_honoured(site, work_dir, config):
    """The site's delay for our group (0.3 s), not the other groups' 5 s nor our default, is
    what each request after robots.txt waits for. That is checked at the limiter, where the
    crawl makes its promise (the limiter's own spacing has tests of its own): arrival times
    at the site move with a loaded machine's scheduling and the network, so there they are
    only checked to be spread out and never 5 s apart."""
    site.robots_txt = "User-agent: *\nCrawl-delay: 5\n\nUser-agent: ReelLedgerBot\nCrawl-delay: 0.3\nDisallow:\n"
    site.page("/", "".join(f'<a href="/p{i}.html">{i}</a>' for i in range(3)))
    for i in range(3):
        site.page(f"/p{i}.html", "<p>page</p>")
    limiter = RecordingLimiter()
    with Crawler([site.url("/")], work_dir, config, limiter=limiter) as crawler:
        crawler.run(lambda medium: None)
    times = sorted(r.time for r in site.requests() if r.path != "/robots.txt")  # the delay is known once it is read
    assert len(times) == 4
    assert limiter.intervals[-4:] == [0.3] * 4, limiter.intervals
    assert times[-1] - times[0] >= 3 * 0.3 / 2, [round(t - times[0], 3) for t in times]
    assert max(b - a for a, b in zip(times, times[1:], strict=False)) < 3.0  # our group's delay, not the others' 5 s


def test_a_crawl_delay_beyond_what_the_crawl_waits_skips_the_site(site, work_dir, config):
    """Honouring an hour between requests would hold a worker for hours per page: the site is
    skipped, with the reason, and asked for nothing but its robots.txt."""
    site.robots_txt = "User-agent: *\nCrawl-delay: 3600\n"
    site.page("/", '<a href="/p.html">p</a>')
    with Crawler([site.url("/")], work_dir, with_(config, max_crawl_delay=30)) as crawler:
        stats = crawler.run(lambda medium: None)
    assert stats.pages == 0 and stats.skipped.get("crawl_delay") == 1
    assert site.paths() == ["/robots.txt"]


def test_requests_to_one_host_are_spaced_by_the_interval(site, work_dir, config):
    site.page("/", "".join(f'<a href="/p{i}.html">{i}</a> <img src="/i{i}.png">' for i in range(4)))
    for i in range(4):
        site.page(f"/p{i}.html", "<p>page</p>")
        site.publish(f"/i{i}.png", b"\x89PNG\r\n\x1a\n" + bytes([i]) * 20, "image/png")
    started = time.monotonic()
    with Crawler([site.url("/")], work_dir, with_(config, host_interval=0.15)) as crawler:
        stats = crawler.run(lambda medium: None)
    times = sorted(r.time for r in site.requests())
    assert stats.media == 4 and len(times) == 10
    spaced(times, started, 0.15)


def test_the_local_limiter_spaces_threads(config):
    limiter, stamps, lock = LocalHostLimiter(), [], threading.Lock()

    def worker():
        for _ in range(4):
            limiter.wait("h.example", 0.1)
            with lock:
                stamps.append(time.monotonic())

    started = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stamps) == 12
    spaced(sorted(stamps), started, 0.1)


WORKER = """
import sys, time, redis
from ledger.crawl.limits import RedisHostLimiter
limiter = RedisHostLimiter(redis.Redis.from_url(sys.argv[1]), prefix=sys.argv[2])
for _ in range(5):
    limiter.wait("pirate.example", 0.1)
    print(time.time(), flush=True)
"""


def test_the_redis_limiter_spaces_separate_processes(redis_prefix):
    client, prefix = redis_prefix
    started = time.time()  # the slots are Redis's clock, on this machine
    workers = [
        subprocess.Popen([sys.executable, "-c", WORKER, REDIS_URL, prefix + ":"], stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    stamps = sorted(float(line) for w in workers for line in w.communicate(timeout=30)[0].split())
    assert all(w.returncode == 0 for w in workers)
    assert len(stamps) == 10
    spaced(stamps, started, 0.1)
    assert client.pttl(prefix + ":pirate.example") != -1  # the gate expires by itself (-2: it already has)


def test_the_redis_limiter_keeps_hosts_apart(redis_prefix):
    client, prefix = redis_prefix
    limiter = RedisHostLimiter(client, prefix=prefix + ":")
    started = time.monotonic()
    for host in ("a.example", "b.example", "c.example"):
        limiter.wait(host, 5.0)  # each host's first request is free
    assert time.monotonic() - started < 4.0  # not the 5 s a second request to one of them would wait
