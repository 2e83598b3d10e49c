"""What an operator watches, in Prometheus's terms: one registry per ledger (never the process-wide
default, so that several ledgers in one process, as in the tests, keep their own counts).

Counted as it happens, in this process:
    reelledger_chain_errors_total{kind}    errors the chain layer classified (ledger.chain.errors.ERROR_KINDS)
    reelledger_report_rows_total           play-report rows accepted (held rows included)
    reelledger_reports_total               play reports accepted
    reelledger_http_*                      requests by route template (api.observe)
Read at scrape time, so that every replica shows the shared state and nothing drifts:
    reelledger_outbox_ops{status}          chain writes not yet final (queued, pending)
    reelledger_outbox_oldest_age_seconds   how long the oldest of them has waited
    reelledger_media_jobs{state}           media jobs (hashing masters, marking copies) queued, running
    reelledger_database_up                 whether the database answered the scrape
    reelledger_jobs{queue,state}           messages on each watched Dramatiq queue: queued, running
                                           (taken by a worker), delayed (retries, rescans), dead
    reelledger_crawl_{pages,media,matches,cases}_total
                                           what the crawl workers did, all jobs together
    reelledger_queue_up                    whether the queue's Redis answered the scrape
A scrape costs one grouped query on the outbox's indexed status column and one Redis pipeline;
a database or Redis that does not answer shows as its `_up` gauge at 0, never as a failed scrape.

More work of the service's own shows up in either of two ways:

    ledger.metrics.watch_queue("reelledger-media")     # a Dramatiq queue on the crawl's Redis
    ledger.metrics.register(collector)                 # anything with collect() -> Iterable[Metric]

and a counter or gauge of one's own is made on `ledger.metrics.registry`
(`Gauge("reelledger_media_jobs", "...", ["state"], registry=ledger.metrics.registry)`).
Labels take values from short fixed sets only (states, kinds, route templates): never ids,
addresses or URLs, so a series count stays bounded and no tenant's data is shown.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import redis
from prometheus_client import CollectorRegistry, Counter, ProcessCollector, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, func
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import col, select

from ledger.chain.errors import ERROR_KINDS
from ledger.crawl.job_book import PREFIX, crawl_totals
from ledger.db import session
from ledger.errors import Unauthenticated
from ledger.media_jobs.records import active_counts
from ledger.models import ChainOp, OpStatus

if TYPE_CHECKING:
    from ledger.chain.client import Chain

log = logging.getLogger("reelledger.metrics")

MEDIA_TYPE = CONTENT_TYPE_PLAIN_0_0_4.removesuffix("; charset=utf-8")  # text/plain; version=0.0.4
# The crawl's Dramatiq queues (ledger.crawl.jobs, which is not imported here: it starts a broker).
CRAWL_NAMESPACE = f"{PREFIX}:queue"
CRAWL_QUEUES = ("reelledger-crawl-pages", "reelledger-crawl-media")
UNFINISHED = (OpStatus.queued, OpStatus.pending)
CRAWL_COUNTS = {"pages": "pages fetched", "media": "media examined", "matched": "matches", "cases": "cases opened"}


class Metrics:
    def __init__(self, redis_url: str | None = None) -> None:
        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.chain_errors = Counter(
            "reelledger_chain_errors",
            "Errors of chain writes, by the kind the chain layer gave them.",
            ["kind"],
            registry=self.registry,
        )
        for kind in ERROR_KINDS:
            self.chain_errors.labels(kind)  # each kind shown from the start, at 0
        self.report_rows = Counter(
            "reelledger_report_rows", "Play-report rows accepted (held rows included).", registry=self.registry
        )
        self.reports = Counter("reelledger_reports", "Play reports accepted.", registry=self.registry)
        self._outbox: OutboxCollector | None = None
        self._queues: QueueCollector | None = None
        if redis_url:
            self._queues = QueueCollector(redis_url, [(CRAWL_NAMESPACE, q) for q in CRAWL_QUEUES])
            self.register(self._queues)

    def register(self, collector: Collector) -> None:
        """Read `collector` at every scrape (its collect() yields prometheus_client Metric families)."""
        self.registry.register(collector)

    def watch_queue(self, queue: str, namespace: str = CRAWL_NAMESPACE) -> None:
        """Show a Dramatiq queue on the crawl's Redis in `reelledger_jobs`."""
        if self._queues is None:
            raise RuntimeError("no Redis to watch queues on (the ledger was made without a redis_url)")
        self._queues.queues.append((namespace, queue))

    def watch_chain(self, chain: Chain) -> None:
        """Count the outbox's errors and read its depth at each scrape (once the chain has started)."""
        chain.outbox.on_error = self.chain_error
        if self._outbox is None:
            self._outbox = OutboxCollector(chain.engine, chain.chain_id)
            self.register(self._outbox)
        self._outbox.chain_id = chain.chain_id

    def chain_error(self, kind: str) -> None:
        self.chain_errors.labels(kind if kind in ERROR_KINDS else "other").inc()

    def report_accepted(self, rows: int) -> None:
        self.reports.inc()
        self.report_rows.inc(rows)

    def render(self) -> bytes:
        """The text exposition format, version 0.0.4 (MEDIA_TYPE)."""
        return generate_latest(self.registry)


def check_token(expected: str | None, given: str | None) -> None:
    """Refuse a scrape without the configured metrics token; with none configured, let it through."""
    if expected is None:
        return
    digest = hashlib.sha256((given or "").encode()).digest()
    if not given or not hmac.compare_digest(digest, hashlib.sha256(expected.encode()).digest()):
        raise Unauthenticated("the metrics token is required (Authorization: Bearer <REELLEDGER_METRICS_TOKEN>)")


class OutboxCollector:
    """Chain writes not yet final and the age of the oldest, and the media jobs not finished,
    asked of the database at each scrape."""

    def __init__(self, engine: Engine, chain_id: int) -> None:
        self.engine = engine
        self.chain_id = chain_id

    def collect(self) -> Iterator[Metric]:
        try:
            with session(self.engine) as db:
                rows = db.exec(
                    select(ChainOp.status, func.count(), func.min(ChainOp.created_at))
                    .where(ChainOp.chain_id == self.chain_id, col(ChainOp.status).in_(UNFINISHED))
                    .group_by(ChainOp.status)
                ).all()
            media = active_counts(self.engine)
        except SQLAlchemyError as exc:
            log.warning("metrics: the database did not answer (%s)", type(exc).__name__)
            yield _up("reelledger_database_up", "the database", False)
            return
        yield _up("reelledger_database_up", "the database", True)
        depth = GaugeMetricFamily(
            "reelledger_outbox_ops",
            "Chain writes not yet final: queued (not signed yet) or pending (sent).",
            labels=["status"],
        )
        counts = {OpStatus(status): count for status, count, _ in rows}
        for status in UNFINISHED:
            depth.add_metric([status.value], counts.get(status, 0))
        yield depth
        oldest = min((_as_utc(first) for _, _, first in rows if first is not None), default=None)
        age = (datetime.now(UTC) - oldest).total_seconds() if oldest else 0.0
        yield GaugeMetricFamily(
            "reelledger_outbox_oldest_age_seconds",
            "Seconds since the oldest chain write not yet final was recorded (0 when there is none).",
            value=max(age, 0.0),
        )
        jobs = GaugeMetricFamily(
            "reelledger_media_jobs",
            "Media jobs (hashing a master, marking a copy) queued or running, on the queue or inside the service.",
            labels=["state"],
        )
        for state, count in media.items():
            jobs.add_metric([state], count)
        yield jobs


def _up(name: str, what: str, answered: bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, f"Whether {what} answered this scrape.", value=1 if answered else 0)


def _as_utc(moment: datetime) -> datetime:
    """Stored times are UTC; SQLite gives them back without a zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class QueueCollector:
    """Messages on Dramatiq's Redis queues and the crawl's totals, read in one pipeline per scrape.

    Dramatiq keeps a queue's waiting ids in the list `<ns>:<queue>`, every message not yet acknowledged
    in the hash `<ns>:<queue>.msgs` (so taken = hash - list), delayed ones in `<ns>:<queue>.DQ.msgs`
    and dead-lettered ones in the sorted set `<ns>:<queue>.XQ`."""

    def __init__(self, redis_url: str, queues: list[tuple[str, str]], timeout: float = 1.0) -> None:
        self.queues = queues
        self._client = redis.Redis.from_url(redis_url, socket_connect_timeout=timeout, socket_timeout=timeout)

    def collect(self) -> Iterator[Metric]:
        started = time.monotonic()
        try:
            pipe = self._client.pipeline(transaction=False)
            for namespace, queue in self.queues:
                name = f"{namespace}:{queue}"
                pipe.llen(name)
                pipe.hlen(f"{name}.msgs")
                pipe.hlen(f"{name}.DQ.msgs")
                pipe.zcard(f"{name}.XQ")
            sizes = pipe.execute()
            totals = crawl_totals(self._client)
        except redis.RedisError as exc:
            log.debug("metrics: the queue's Redis did not answer in %.1f s (%s)", time.monotonic() - started, exc)
            yield _up("reelledger_queue_up", "the queue's Redis", False)
            return
        yield _up("reelledger_queue_up", "the queue's Redis", True)
        jobs = GaugeMetricFamily(
            "reelledger_jobs",
            "Messages on a job queue: queued, running (taken by a worker), delayed (a retry's or a rescan's wait), "
            "dead (out of retries).",
            labels=["queue", "state"],
        )
        for i, (_, queue) in enumerate(self.queues):
            queued, unacked, delayed, dead = sizes[4 * i : 4 * i + 4]
            for state, value in (
                ("queued", queued),
                ("running", max(unacked - queued, 0)),
                ("delayed", delayed),
                ("dead", dead),
            ):
                jobs.add_metric([queue, state], value)
        yield jobs
        yield from _crawl_counters(totals)


def _crawl_counters(totals: dict[str, int]) -> Iterable[Metric]:
    names = {"matched": "matches"}
    for count, what in CRAWL_COUNTS.items():
        yield CounterMetricFamily(
            f"reelledger_crawl_{names.get(count, count)}",
            f"Crawl {what} by the queue's workers, all jobs together.",
            value=totals.get(count, 0),
        )
