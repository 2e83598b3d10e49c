"""A job's counters on a real Redis: a message handled twice (retried after a crash or an
outage, or delivered again) adds its counts once, so a job's pages and media are exact."""

from __future__ import annotations

import pytest

from ledger.crawl.job_book import COUNTED, add_counts_once, job_key, read_job


@pytest.fixture
def client(redis_prefix):
    redis_client, job_id = redis_prefix
    messages: list[str] = []
    yield redis_client, job_id, messages
    redis_client.delete(job_key(job_id), *[f"{COUNTED}:{m}" for m in messages])


def test_a_message_counts_once_however_often_it_is_handled(client):
    redis_client, job_id, messages = client
    messages += [f"{job_id}-1", f"{job_id}-2"]
    redis_client.hset(job_key(job_id), mapping={"spec": "{}", "submitted_at": 1, "queued": 2})
    assert add_counts_once(redis_client, job_id, messages[0], {"pages": 1, "skipped:robots": 2, "done": 1})
    assert not add_counts_once(redis_client, job_id, messages[0], {"pages": 1, "skipped:robots": 2, "done": 1})  # the retry
    counts = read_job(redis_client, job_id)["counts"]
    assert (counts["pages"], counts["skipped:robots"], counts["done"], counts["finished"]) == (1, 2, 1, False)

    assert add_counts_once(redis_client, job_id, messages[1], {"pages": 1, "done": 1})
    counts = read_job(redis_client, job_id)["counts"]
    assert (counts["pages"], counts["done"], counts["finished"]) == (2, 2, True)
    assert 0 < redis_client.ttl(f"{COUNTED}:{messages[0]}") <= 8 * 24 * 3600  # the markers do not pile up for ever
