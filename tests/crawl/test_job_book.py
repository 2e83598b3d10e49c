"""A job's counters on a real Redis: a message handled twice (retried after a crash or an
outage, or delivered again) adds its counts once, and one that ran out of tries settles as
failed, so that the job can finish."""

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
    assert not add_counts_once(
        redis_client, job_id, messages[0], {"pages": 1, "skipped:robots": 2, "done": 1}
    )  # the retry
    counts = read_job(redis_client, job_id)["counts"]
    assert (counts["pages"], counts["skipped:robots"], counts["done"], counts["finished"]) == (1, 2, 1, False)

    assert add_counts_once(redis_client, job_id, messages[1], {"pages": 1, "done": 1})
    counts = read_job(redis_client, job_id)["counts"]
    assert (counts["pages"], counts["done"], counts["finished"]) == (2, 2, True)
    assert 0 < redis_client.ttl(f"{COUNTED}:{messages[0]}") <= 8 * 24 * 3600  # the markers do not pile up for ever


# A worker's broker, told that a crawl_page message failed its last allowed try.
LAST_TRY_FAILED = """
import sys
from dramatiq import Message
from dramatiq.broker import MessageProxy
from ledger.crawl import jobs

job_id, message_id = sys.argv[1:]
message = MessageProxy(Message(queue_name=jobs.PAGES_QUEUE, actor_name="crawl_page", args=(job_id, "http://x/", 0),
                               kwargs={}, options={"retries": jobs.RETRIES["max_retries"]}, message_id=message_id))
jobs.broker.emit_after("process_message", message, exception=RuntimeError("the site is down for good"))
print(message.failed)
"""


def test_a_message_that_ran_out_of_tries_settles_its_job_as_failed(client):
    """Otherwise a job with one dead link would never show finished."""
    import os
    import subprocess
    import sys

    from tests.helpers.crawl import REDIS_URL

    redis_client, job_id, messages = client
    messages.append(f"{job_id}-dead")
    redis_client.hset(job_key(job_id), mapping={"spec": "{}", "submitted_at": 1, "queued": 1})
    done = subprocess.run(
        [sys.executable, "-c", LAST_TRY_FAILED, job_id, messages[0]],
        capture_output=True,
        text=True,
        env=dict(os.environ, REELLEDGER_REDIS_URL=REDIS_URL),
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.strip() == "True", done.stderr
    counts = read_job(redis_client, job_id)["counts"]
    assert counts["failed"] == 1 and counts["finished"]


def test_a_chain_sends_its_next_link_once_per_message(redis_prefix, monkeypatch):
    """A rescan or re-check message on the queue twice (an enqueue whose answer was lost, sent
    again) must not fork its chain: one copy sends the next link, the other does not; and a link
    that could not be sent is left for the message's retry to send."""
    from types import SimpleNamespace

    from ledger.crawl import jobs

    client, prefix = redis_prefix
    monkeypatch.setattr(jobs, "_redis", client)
    message = SimpleNamespace(message_id=f"{prefix}-rescan")
    monkeypatch.setattr(jobs.CurrentMessage, "get_current_message", staticmethod(lambda: message))
    sent: list[str] = []

    def redis_down():
        raise ConnectionError("Redis went away")

    try:
        with pytest.raises(ConnectionError):
            jobs._next_link_once(redis_down)
        jobs._next_link_once(lambda: sent.append("the retry"))
        jobs._next_link_once(lambda: sent.append("the twin copy"))
        assert sent == ["the retry"]
    finally:
        client.delete(f"{jobs.PREFIX}:next-sent:{message.message_id}")


class _AnswerLost:
    """Makes a client's connection lose the answer to the first command (or pipeline) that names
    `key`, after Redis carried it out: what a Redis told to stop does to the commands it has read
    but not answered yet. The client then sends it again, as the patient client does."""

    key: bytes | None = None

    @classmethod
    def connection_class(cls):
        import redis

        class Connection(redis.Connection):
            def send_packed_command(self, command, check_health=True):
                super().send_packed_command(command, check_health)
                packed = command if isinstance(command, (bytes, bytearray)) else b"".join(bytes(c) for c in command)
                if cls.key is None or cls.key not in packed:
                    return
                cls.key = None
                super().send_packed_command(self.pack_command("PING"), False)  # answered once all above ran
                while True:
                    try:
                        if self.read_response() in (b"PONG", "PONG"):
                            break
                    except redis.ResponseError:
                        pass
                self.disconnect()
                raise redis.ConnectionError("Redis stopped before it answered (injected)")

        return Connection


def test_a_message_sent_as_redis_stops_is_counted_once(redis_prefix, monkeypatch):
    """Redis stopped (SIGTERM) carries out what it has read, then exits without answering; the
    worker's client, which waits out an outage, sends the command again. The job's `queued` must
    still go up by one for the one message sent, or the job never finishes."""
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.retry import Retry

    from ledger.crawl import jobs
    from tests.helpers.crawl import REDIS_URL

    client, job_id = redis_prefix
    patience = {"retry": Retry(ExponentialBackoff(cap=0.5, base=0.05), 5), "retry_on_error": [redis.ConnectionError]}
    pool = redis.ConnectionPool.from_url(REDIS_URL, connection_class=_AnswerLost.connection_class(), **patience)
    lossy = redis.Redis(connection_pool=pool, **patience)
    monkeypatch.setattr(jobs, "_redis", lossy)
    sent = []
    monkeypatch.setattr(jobs.broker, "enqueue", lambda message, *, delay=None: sent.append(message) or message)
    client.hset(job_key(job_id), mapping={"spec": "{}", "submitted_at": 1})
    _AnswerLost.key = job_key(job_id).encode()
    try:
        jobs._send(job_id, jobs.crawl_page, "http://x/", 1, None)
        assert _AnswerLost.key is None, "no answer was lost"
        assert len(sent) == 1
        assert read_job(client, job_id)["counts"]["queued"] == 1
        # and the message's one settling finishes the job
        assert add_counts_once(client, job_id, sent[0].message_id, {"done": 1})
        assert read_job(client, job_id)["counts"]["finished"]
    finally:
        _AnswerLost.key = None
        lossy.close()
        client.delete(*[f"{COUNTED}:{m}" for m in (f"queued:{sent[0].message_id}", sent[0].message_id)] if sent else [])
