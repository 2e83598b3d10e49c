"""A job's counters on a real Redis: a message handled twice (retried after a crash or an
outage, or delivered again) adds its counts once, so a job's pages and media are exact."""

from __future__ import annotations

import uuid

import pytest
import redis

from ledger.crawl.job_book import COUNTED, add_counts_once, job_key, read_job
from tests.crawl.conftest import REDIS_URL


@pytest.fixture
def client():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip(f"no Redis at {REDIS_URL}")
    job_id, messages = uuid.uuid4().hex, []
    yield client, job_id, messages
    client.delete(job_key(job_id), *[f"{COUNTED}:{m}" for m in messages])
    client.close()


def test_a_message_counts_once_however_often_it_is_handled(client):
    redis_client, job_id, messages = client
    messages += ["page-1", "page-2"]
    redis_client.hset(job_key(job_id), mapping={"spec": "{}", "submitted_at": 1, "queued": 2})
    assert add_counts_once(redis_client, job_id, "page-1", {"pages": 1, "skipped:robots": 2, "done": 1})
    assert not add_counts_once(redis_client, job_id, "page-1", {"pages": 1, "skipped:robots": 2, "done": 1})  # the retry
    counts = read_job(redis_client, job_id)["counts"]
    assert (counts["pages"], counts["skipped:robots"], counts["done"], counts["finished"]) == (1, 2, 1, False)

    assert add_counts_once(redis_client, job_id, "page-2", {"pages": 1, "done": 1})
    counts = read_job(redis_client, job_id)["counts"]
    assert (counts["pages"], counts["done"], counts["finished"]) == (2, 2, True)
    assert 0 < redis_client.ttl(f"{COUNTED}:page-1") <= 8 * 24 * 3600  # the markers do not pile up for ever
