"""The crawl on a Redis task queue (Dramatiq), for when one machine is not enough.

A job is its seeds and its crawl settings, kept in Redis under its id. Two kinds of message
carry it: `crawl_page` (fetch a page, send a message for each page and medium it leads to)
and `examine_medium` (download one medium, match it, report it). Workers share claims,
validators, content hashes and per-host politeness in Redis, so two workers never take the
same URL and a host hears from all of them together no more often than the limit. Each
message is sent for its host's turn (a delayed message; the turns are planned in Redis, one
interval apart per host), so that a worker's threads take messages of hosts that are due and
keep many hosts busy at once, instead of all sleeping on the one site whose pages were queued
together.

A worker killed mid-message loses nothing: the message was not acknowledged, so Redis gives it
to another worker once the dead one's heartbeat is missed; a retry re-claims what its own
first attempt claimed, and a medium counts as seen only after the service has it (the service
makes one case of the same leak however often it is reported), and a message's counts (pages,
media, skips) are added to its job once, as it ends, however often it is handled. A failing
message (the service or a site down) is retried with exponential back-off. With Redis down,
workers wait and reconnect, then requeue whatever the lost connection left marked as theirs
but never reached them, and every enqueue, a failed message's next try included, waits for
Redis to be back (`ledger.crawl.broker`); run Redis with `appendonly yes` so that a restart
keeps the queue.
Rescans and link re-checks are delayed messages that schedule their own next run.

Settings from the environment: REELLEDGER_REDIS_URL (redis://127.0.0.1:6379/0), the service's
REELLEDGER_URL and a crawler's REELLEDGER_API_KEY, REELLEDGER_CRAWL_WORK_DIR for downloads,
REELLEDGER_QUEUE_HEARTBEAT_MS (60000: after how long a silent worker's messages go to others),
REELLEDGER_QUEUE_MAINTENANCE_CHANCE (20000 per million queue calls look for dead workers' messages).
"""

from __future__ import annotations

import faulthandler
import json
import logging
import os
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any

import dramatiq
import redis
from dramatiq.middleware import CurrentMessage, Middleware, Retries

from ledger.crawl.broker import SweepingRedisBroker
from ledger.crawl.config import CrawlConfig
from ledger.crawl.crawler import Crawler
from ledger.crawl.fetch import Skipped
from ledger.crawl.job_book import PREFIX, add_counts_once, counts_of, job_key, record_job
from ledger.crawl.limits import RedisHostLimiter
from ledger.crawl.robots import Robots
from ledger.crawl.state import RedisCrawlState
from ledger.crawl.transport import make_client
from ledger.crawl.urls import authority
from ledger.queue_worker import WorkerLogs, send_options

log = logging.getLogger("reelledger.crawl")
# httpx logs each request at INFO, and a worker makes hundreds a second: a job's counters say it
logging.getLogger("httpx").setLevel(logging.WARNING)

PAGES_QUEUE = "reelledger-crawl-pages"
MEDIA_QUEUE = "reelledger-crawl-media"
RETRIES: dict[str, Any] = {"max_retries": 12, "min_backoff": 1_000, "max_backoff": 600_000}
# Dramatiq's default is 10 minutes, and its time limit still runs while Retries enqueues a failed
# message's next try, which waits out a Redis outage (up to REELLEDGER_QUEUE_OUTAGE_S, and our own
# bookkeeping as long again): a page's message gets an hour, as a medium's does.
PAGE_TIME_LIMIT = 3_600_000
MESSAGE_TTL = 7 * 24 * 3600
TRANSIENT = {
    "timeout",
    "error",
    "robots_unreachable",
    "dns_unresolved",
}  # worth another try: the site, its DNS or our Redis was slow, a connection broke
TRANSIENT_TRIES = 4  # a resource that keeps failing so is given up after this many tries


class TryAgain(Exception):
    """A page or medium failed in a way that may pass (a timeout, a 5xx): the message is retried."""


def _transient(skipped: Skipped) -> bool:
    return (
        skipped.reason in TRANSIENT
        or skipped.reason in ("http_429",)
        or (skipped.reason.startswith("http_5") and skipped.reason[5:].isdigit())
    )


def _give_up_after_tries(skipped: Skipped) -> None:
    """Raise TryAgain for a transient failure, unless this message has had its tries."""
    message = CurrentMessage.get_current_message()
    tries = (message.options.get("retries", 0) if message is not None else TRANSIENT_TRIES) + 1
    if _transient(skipped) and tries < TRANSIENT_TRIES:
        raise TryAgain(f"{skipped.url}: {skipped.reason} ({skipped.detail}); try {tries} of {TRANSIENT_TRIES}")


def redis_url() -> str:
    return os.environ.get("REELLEDGER_REDIS_URL", "redis://127.0.0.1:6379/0")


def redis_client(patient: bool = True, url: str | None = None) -> redis.Redis:
    """A client for our own bookkeeping that rides out a short Redis outage: each command is
    retried with back-off for about REELLEDGER_QUEUE_OUTAGE_S seconds (default 300), so a job
    waits instead of failing. The broker's client is not patient (`patient=False`): a fetch
    retried after its answer was lost would strand the messages the first one took, so
    Dramatiq's consumer restarts on a connection error instead."""
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    patience = float(os.environ.get("REELLEDGER_QUEUE_OUTAGE_S", "300"))
    retries = max(1, int(patience / 2)) if patient else 0  # attempts at most 2 s apart once capped
    return redis.Redis.from_url(
        url or redis_url(),
        retry=Retry(ExponentialBackoff(cap=2.0, base=0.05), retries),
        retry_on_error=[redis.ConnectionError, redis.TimeoutError] if patient else [],
        socket_connect_timeout=5,
        socket_timeout=15,  # no command here blocks: a read this long is a connection to a server that went away
        socket_keepalive=True,
        health_check_interval=10,
    )


def make_broker(url: str | None = None) -> SweepingRedisBroker:
    """The queue's broker, at `url` (REELLEDGER_REDIS_URL by default); the media jobs' too."""
    broker = SweepingRedisBroker(
        outage_s=float(os.environ.get("REELLEDGER_QUEUE_OUTAGE_S", "300")),
        client=redis_client(patient=False, url=url),
        namespace=f"{PREFIX}:queue",
        heartbeat_timeout=int(os.environ.get("REELLEDGER_QUEUE_HEARTBEAT_MS", "60000")),
        maintenance_chance=int(os.environ.get("REELLEDGER_QUEUE_MAINTENANCE_CHANCE", "20000")),
    )
    broker.add_middleware(WorkerLogs(), before=type(broker.middleware[0]))  # first: see WorkerLogs
    broker.add_middleware(CurrentMessage())
    # before Retries in the list: "after" hooks run last-added first, and a message only counts as
    # failed once Retries has given up on it
    broker.add_middleware(_CountFailures(), before=Retries)
    return broker


class _CountFailures(Middleware):
    """A message that ran out of retries counts as settled (failed), so a job can finish."""

    def after_process_message(self, broker, message, *, result=None, exception=None):
        if exception is not None and message.failed:
            self.after_skip_message(broker, message)

    def after_skip_message(self, broker, message):
        if message.actor_name in ("crawl_page", "examine_medium"):
            add_counts_once(_redis, message.args[0], message.message_id, {"failed": 1})


faulthandler.register(signal.SIGUSR1, file=sys.stderr, all_threads=True)  # `kill -USR1` shows where a worker is

broker = make_broker()
dramatiq.set_broker(broker)
_redis = redis_client()
_local = threading.local()
_limiter = RedisHostLimiter(_redis)  # politeness: every worker's requests to a host, spaced
_plan = RedisHostLimiter(_redis, prefix=f"{PREFIX}:plan:")  # when each host's queued messages are due
_robots_of: dict[tuple[str, str], Robots] = {}
_robots_lock = threading.Lock()
ROBOTS_KEPT = 8  # jobs whose robots.txt rules a worker process keeps at hand
MIN_DELAY = 0.05  # seconds: a message due sooner is sent at once


def _spec(job_id: str) -> dict:
    raw = _redis.hget(job_key(job_id), "spec")
    if raw is None:
        raise LookupError(f"no crawl job {job_id}")
    return json.loads(raw)


def _config(spec: dict) -> CrawlConfig:
    fields = dict(spec["config"])
    for name in ("extra_hosts", "private_hosts"):
        fields[name] = frozenset(fields.get(name) or ())
    return CrawlConfig(**fields)


def _work_dir(job_id: str) -> Path:
    root = Path(os.environ.get("REELLEDGER_CRAWL_WORK_DIR") or Path(tempfile.gettempdir()) / "reelledger-crawl")
    return root / job_id


_CLAIM = """
if redis.call('sismember', KEYS[2], ARGV[1]) == 1 then return 1 end
if redis.call('sadd', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('sadd', KEYS[2], ARGV[1])
redis.call('expire', KEYS[2], ARGV[2])
redis.call('expire', KEYS[1], ARGV[3])
return 1
"""


_claim_script = _redis.register_script(_CLAIM)


class _MessageClaims:
    """The job's shared state, seen from one message: what an earlier attempt of this same
    message claimed is still its to take, so a retry after a crash loses no link. The claim
    and its note under the message are one atomic step (a Lua script)."""

    def __init__(self, base: RedisCrawlState, message_id: str) -> None:
        self.base = base
        self.key = f"{PREFIX}:claims-of:{message_id}"

    def claim(self, url: str) -> bool:
        keys = [self.base._claims, self.key]
        return bool(_claim_script(keys=keys, args=[url, MESSAGE_TTL, self.base._ttl]))

    def __getattr__(self, name):
        return getattr(self.base, name)


def _robots(job_id: str, spec: dict, config: CrawlConfig) -> Robots:
    """The job's robots.txt rules in this process, shared by its threads: each origin's
    robots.txt is fetched once per worker process, not once per thread."""
    key = (job_id, json.dumps(spec["config"], sort_keys=True))
    with _robots_lock:
        robots = _robots_of.pop(key, None)
        if robots is None:
            robots = Robots(make_client(config), config, _limiter)
        _robots_of[key] = robots  # the most recently used last
        while len(_robots_of) > ROBOTS_KEPT:
            _robots_of.pop(next(iter(_robots_of)))  # its client holds no connection open: none to close
        return robots


def _planned(url: str, interval: float) -> float:
    """Seconds from now until a message for `url` should be handled: the host's turn in the
    plan (one slot per interval, not before the limiter's next free one). A worker thread that
    took a message early would hold it, asleep, while other hosts wait: with a whole site's
    pages on the queue at once, every thread would be waiting on that one site."""
    return _plan.reserve(authority(url), interval, after=_limiter)


def _crawler(job_id: str, spec: dict) -> Crawler:
    """This thread's crawler for the job (its HTTP client kept from one message to the next;
    robots.txt rules shared by the process's threads), looking at the job's shared state
    through the current message."""
    crawlers = getattr(_local, "crawlers", None)
    if crawlers is None:
        crawlers = _local.crawlers = {}
    key = (job_id, spec["crawl_id"])
    crawler = crawlers.get(key)
    if crawler is None:
        for old in crawlers.values():  # one job at a time per thread is the common case
            old.close()
        crawlers.clear()
        config = _config(spec)
        crawler = crawlers[key] = Crawler(
            spec["seeds"], _work_dir(job_id), config, limiter=_limiter, robots=_robots(job_id, spec, config)
        )
    state = RedisCrawlState(_redis, f"{PREFIX}:state:{spec['namespace']}", crawl_id=spec["crawl_id"])
    message = CurrentMessage.get_current_message()
    crawler.state = _MessageClaims(state, message.message_id) if message is not None else state
    return crawler


def _service():
    from ledger.crawl.reporting import ServiceClient

    client = getattr(_local, "service", None)
    if client is None:
        key = os.environ.get("REELLEDGER_API_KEY")
        if not key:
            raise RuntimeError("REELLEDGER_API_KEY (a crawler account's key) is not set for this worker")
        client = _local.service = ServiceClient(os.environ.get("REELLEDGER_URL", "http://127.0.0.1:8000"), key)
    return client


def _settle(job_id: str, counts: dict[str, int]) -> None:
    """A message's outcome counted as it ends, once however often the message is handled: a
    retry after a crash or an outage counts its pages and skips again only if this never ran."""
    message = CurrentMessage.get_current_message()
    add_counts_once(_redis, job_id, message.message_id if message else uuid.uuid4().hex, {**counts, "done": 1})


def _send(job_id: str, actor, *args, delay: float = 0.0) -> None:
    """Count, then enqueue; both wait out a short Redis outage (the broker's enqueue too).

    The count is made once for the new message's id, not as a bare HINCRBY: a Redis told to stop
    carries out the commands it has read and exits before it answers them, and the patient client
    sends a command whose answer it lost again, so a bare increment counted the message twice, and
    its job, one message short of its `queued`, never finished."""
    message = actor.message_with_options(args=(job_id, *args), **send_options())  # the crawl request's id, passed on
    add_counts_once(_redis, job_id, f"queued:{message.message_id}", {"queued": 1})
    actor.broker.enqueue(message, delay=int(delay * 1000) if delay >= MIN_DELAY else None)


# ------------------------------------------------------------------- actors


@dramatiq.actor(queue_name=PAGES_QUEUE, time_limit=PAGE_TIME_LIMIT, job_arg=0, **RETRIES)
def crawl_page(job_id: str, url: str, depth: int, referrer: str | None = None) -> None:
    spec = _spec(job_id)
    crawler = _crawler(job_id, spec)
    outcome = crawler.crawl_page(url, depth)
    if outcome.final_url is None and outcome.skipped:  # the page itself failed
        _give_up_after_tries(outcome.skipped[0])
    counts = Counter(f"skipped:{skipped.reason}" for skipped in outcome.skipped)
    if outcome.final_url is not None and not outcome.is_medium:
        counts["pages"] = 1
    for page, page_depth in outcome.pages:
        delay = _planned(page, crawler.robots.known_interval(page) or crawler.config.host_interval)
        _send(job_id, crawl_page, page, page_depth, outcome.final_url, delay=delay)
    page_url = referrer if outcome.is_medium else outcome.final_url
    for medium in outcome.media:
        delay = _planned(medium, crawler.robots.known_interval(medium) or crawler.config.host_interval)
        _send(job_id, examine_medium, medium, page_url, delay=delay)
    _settle(job_id, counts)


@dramatiq.actor(queue_name=MEDIA_QUEUE, time_limit=3_600_000, job_arg=0, **RETRIES)
def examine_medium(job_id: str, url: str, page_url: str | None) -> None:
    from ledger.crawl.reporting import ServiceRefused, examine

    spec = _spec(job_id)
    crawler = _crawler(job_id, spec)
    medium = crawler.fetch_medium(url, page_url, record=False)
    if isinstance(medium, Skipped):
        _give_up_after_tries(medium)
        _settle(job_id, {f"skipped:{medium.reason}": 1})
        return
    try:
        result = examine(_service(), medium, spec.get("screenshots", True), crawler.config.private_hosts)
    except ServiceRefused as exc:
        if exc.bad_key:  # retried with back-off: nothing is remembered until a right key reports it
            raise
        log.warning("the service refused %s: %s", url, exc)
        result = None
    finally:  # a busy or absent service raises on: the message is retried, the medium fetched again
        medium.path.unlink(missing_ok=True)
    # only now: a crash before this fetches the medium again; a leak's bytes stay reportable elsewhere
    crawler.record(medium, content=not (result is not None and result.matched))
    counts = {"media": 1, "bytes": medium.size}
    if result is not None and result.matched:
        counts.update(matched=1, cases=int(result.created))
    _settle(job_id, counts)


def _next_link_once(send_next) -> None:
    """A chain of delayed messages (rescans, re-checks) sends its next link once per message. A
    message can be on the queue twice (Redis took an enqueue whose answer was lost, and the send
    was tried again; both copies carry one message id): each copy sending a next link would fork
    the chain for good, and every later lost answer double it again."""
    message = CurrentMessage.get_current_message()
    if message is None:
        send_next()
        return
    key = f"{PREFIX}:next-sent:{message.message_id}"
    if not _redis.set(key, "1", nx=True, ex=MESSAGE_TTL):
        return  # the other copy sent it
    try:
        send_next()
    except BaseException:
        _redis.delete(key)  # not sent: a retry of this message may send it
        raise


@dramatiq.actor(queue_name=PAGES_QUEUE, time_limit=PAGE_TIME_LIMIT, job_arg=0, **RETRIES)
def rescan(job_id: str) -> None:
    """Crawl the job's seeds again (a new crawl: claims start afresh, validators and content
    hashes stay, so unchanged media are not fetched again), then schedule the next rescan."""
    spec = _spec(job_id)
    message = CurrentMessage.get_current_message()
    spec["crawl_id"] = message.message_id if message else uuid.uuid4().hex
    _redis.hset(job_key(job_id), "spec", json.dumps(spec))
    _start(job_id, spec)
    add_counts_once(_redis, job_id, f"rescan:{spec['crawl_id']}", {"rescans": 1})  # once, however often retried
    if spec.get("rescan_every"):
        _next_link_once(lambda: rescan.send_with_options(args=(job_id,), delay=int(spec["rescan_every"] * 1000)))


RECHECKS_KEY = f"{PREFIX}:rechecks"


@dramatiq.actor(queue_name=PAGES_QUEUE, time_limit=6 * 3_600_000, **RETRIES)
def recheck(every: float | None = None, config: dict | None = None) -> None:
    """Re-check the links of the crawler's open cases (politely, the per-host limit shared with
    every worker); with `every`, again after that long. One chain of re-checks runs at a time."""
    from ledger.crawl.recheck import recheck_pass

    crawl_config = _config({"config": config}) if config else CrawlConfig()
    with tempfile.TemporaryDirectory(prefix="reelledger-recheck-") as tmp:
        recheck_pass(_service(), crawl_config, tmp, limiter=_limiter)
    if every:
        _redis.set(RECHECKS_KEY, "1", ex=int(every * 3) + 60)
        _next_link_once(lambda: recheck.send_with_options(args=(every, config), delay=int(every * 1000)))


def start_rechecks(every: float, config: CrawlConfig) -> bool:
    """Start re-checking every `every` seconds, unless a chain of re-checks is already running."""
    if not _redis.set(RECHECKS_KEY, "1", nx=True, ex=int(every * 3) + 60):
        return False
    recheck.send(every, _config_fields(config))
    return True


# ------------------------------------------------------------------- submit


def _start(job_id: str, spec: dict) -> int:
    """Claim the seeds and send a message for each (a retried rescan re-claims its own)."""
    state = RedisCrawlState(_redis, f"{PREFIX}:state:{spec['namespace']}", crawl_id=spec["crawl_id"])
    message = CurrentMessage.get_current_message()
    claims: RedisCrawlState | _MessageClaims = state
    if message is not None:
        claims = _MessageClaims(state, message.message_id)
    config = _config(spec)
    with Crawler(spec["seeds"], _work_dir(job_id), config, state=claims, limiter=_limiter) as crawler:
        seeds = crawler.seed_pages()
    for url, depth in seeds:
        _send(job_id, crawl_page, url, depth, None, delay=_planned(url, config.host_interval))
    return len(seeds)


def _config_fields(config: CrawlConfig) -> dict:
    fields = asdict(config)
    fields["extra_hosts"] = sorted(config.extra_hosts)
    fields["private_hosts"] = sorted(config.private_hosts)
    return fields


def submit(
    seeds: list[str],
    config: CrawlConfig,
    *,
    screenshots: bool = True,
    rescan_every: float | None = None,
    namespace: str = "default",
    submitter: str | None = None,
) -> str:
    """Start a crawl job on the queue; returns its id. `submitter` is the crawler account's
    address, under which the service lists the job."""
    job_id = uuid.uuid4().hex[:12]
    fields = _config_fields(config)
    spec = {
        "seeds": seeds,
        "config": fields,
        "screenshots": screenshots,
        "rescan_every": rescan_every,
        "namespace": namespace,
        "crawl_id": job_id,
    }
    record_job(_redis, job_id, spec, time.time(), submitter)
    _start(job_id, spec)
    if rescan_every:
        rescan.send_with_options(args=(job_id,), delay=int(rescan_every * 1000))
    return job_id


def status(job_id: str) -> dict:
    """The job's counters: pages, media, bytes, matched, cases, queued, done, skipped:<reason>."""
    raw = _redis.hgetall(job_key(job_id))
    if not raw:
        raise LookupError(f"no crawl job {job_id}")
    return counts_of(raw)
