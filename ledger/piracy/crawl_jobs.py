"""Who may follow which queued crawl job: read from the crawl queue's Redis, filed under the
crawler account that submitted it."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

import redis

from ledger.crawl.job_book import list_jobs, read_job
from ledger.errors import Forbidden, NotFound, Unavailable
from ledger.models import Account, Role


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


@dataclass(frozen=True)
class CrawlJob:
    """A queued crawl job and its counters (pages, media, bytes, matched, cases, queued, done,
    failed, skipped:<reason>, and finished once every queued task settled)."""

    job_id: str
    submitted_at: float  # unix seconds
    submitter: str | None
    seeds: tuple[str, ...]
    rescan_every: float | None
    counts: dict[str, int | bool]

    @classmethod
    def of(cls, job: dict[str, Any]) -> CrawlJob:
        """From the job book's record (`job_book.read_job`)."""
        return cls(
            job_id=job["job_id"],
            submitted_at=job["submitted_at"],
            submitter=job["submitter"],
            seeds=tuple(job["seeds"]),
            rescan_every=job["rescan_every"],
            counts=job["counts"],
        )


def jobs_for(redis_url: str, account: Account, job_id: str | None = None) -> list[CrawlJob]:
    """The jobs an account may follow: a crawler its own, auditors and admins everyone's."""
    if account.role not in (Role.crawler, Role.auditor, Role.admin):
        raise Forbidden("crawl jobs are for crawler accounts, auditors and admins")
    mine = account.address if account.role == Role.crawler else None
    try:
        client = _client(redis_url)
        if job_id is None:
            return [CrawlJob.of(job) for job in list_jobs(client, mine)]
        job = read_job(client, job_id)
    except redis.RedisError:
        raise Unavailable("the crawl queue's Redis does not answer") from None
    if job is None or (mine and job["submitter"] != mine.lower()):
        raise NotFound("crawl job", job_id)
    return [CrawlJob.of(job)]
