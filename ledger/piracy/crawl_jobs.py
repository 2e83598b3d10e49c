"""Who may follow which queued crawl job: read from the crawl queue's Redis, filed under the
crawler account that submitted it."""

from __future__ import annotations

from functools import cache

import redis

from ledger.crawl.job_book import list_jobs, read_job
from ledger.errors import Forbidden, NotFound, Unavailable
from ledger.models import Account, Role


@cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)


def jobs_for(redis_url: str, account: Account, job_id: str | None = None) -> list[dict]:
    """The jobs an account may follow: a crawler its own, auditors and admins everyone's."""
    if account.role not in (Role.crawler, Role.auditor, Role.admin):
        raise Forbidden("crawl jobs are for crawler accounts, auditors and admins")
    mine = account.address if account.role == Role.crawler else None
    try:
        client = _client(redis_url)
        if job_id is None:
            return list_jobs(client, mine)
        job = read_job(client, job_id)
    except redis.RedisError:
        raise Unavailable("the crawl queue's Redis does not answer") from None
    if job is None or (mine and job["submitter"] != mine.lower()):
        raise NotFound("crawl job", job_id)
    return [job]
