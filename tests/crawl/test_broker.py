"""The queue's broker gives back what a lost Redis connection strands in a live worker's ack set
(messages fetched, or prefetched, but never handed to a worker thread), without waiting for the
worker's heartbeat to stop. Real redis-server, stopped and started under the consumer."""

from __future__ import annotations

import threading
import time

import dramatiq
import pytest
import redis
from dramatiq.errors import ConnectionClosed

from ledger.crawl.broker import SweepingRedisBroker
from tests.helpers.crawl import RedisServer

QUEUE = "sweep"


@pytest.fixture
def server(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


@pytest.fixture
def broker(server):
    client = redis.Redis.from_url(server.url, socket_connect_timeout=2, socket_timeout=5)
    broker = SweepingRedisBroker(
        client=client, namespace="sweep-test", heartbeat_timeout=3_600_000, maintenance_chance=0
    )
    broker.declare_queue(QUEUE)
    yield broker
    broker.close()


def enqueue(broker, count: int) -> list[str]:
    ids = []
    for n in range(count):
        message = dramatiq.Message(queue_name=QUEUE, actor_name="noop", args=(n,), kwargs={}, options={})
        ids.append(broker.enqueue(message).options["redis_message_id"])
    return ids


def taken(broker) -> set[str]:
    return {i.decode() for i in broker.client.smembers(broker.acks_key(QUEUE))}


def test_messages_stranded_by_a_lost_connection_come_back_to_the_same_worker(broker, server):
    ids = enqueue(broker, 3)
    first = broker.consume(QUEUE, prefetch=3, timeout=100)
    handed = next(first)  # one handed to a worker thread, two still in the consumer's cache
    assert taken(broker) == set(ids)

    server.stop()
    with pytest.raises(ConnectionClosed):
        first.ack(handed)  # the connection is gone: the consumer is thrown away, as Dramatiq does
    server.start()

    second = broker.consume(QUEUE, prefetch=3, timeout=100)
    again = [next(second) for _ in range(2)]
    assert {m.options["redis_message_id"] for m in again} == set(ids) - {handed.options["redis_message_id"]}
    for message in [handed, *again]:
        second.ack(message)
    assert taken(broker) == set()
    assert broker.client.llen(f"sweep-test:{QUEUE}") == 0


def test_without_a_lost_connection_a_new_consumer_takes_nothing_back(broker):
    ids = enqueue(broker, 2)
    first = broker.consume(QUEUE, prefetch=2, timeout=100)
    handed = [next(first) for _ in range(2)]
    second = broker.consume(QUEUE, prefetch=2, timeout=100)
    assert next(second) is None  # nothing requeued: both messages are still being worked on
    assert taken(broker) == set(ids)
    for message in handed:
        second.ack(message)
    assert taken(broker) == set()


def test_an_enqueue_during_an_outage_waits_for_redis(broker, server):
    """Dramatiq's Retries sends a failed message's next try from a hook whose errors it only
    logs, then acknowledges the message: an enqueue that gave up during an outage would lose
    the message, and its job would never finish."""
    server.stop()
    done: list[list[str]] = []
    sender = threading.Thread(target=lambda: done.append(enqueue(broker, 1)))
    sender.start()
    time.sleep(1.0)
    assert sender.is_alive() and not done  # waiting, not failed
    server.start()
    sender.join(30)
    assert done, "the enqueue did not finish once Redis was back"
    consumer = broker.consume(QUEUE, prefetch=1, timeout=100)
    deadline = time.monotonic() + 10
    while (message := next(consumer)) is None:
        assert time.monotonic() < deadline
    assert message.options["redis_message_id"] == done[0][0]


def test_an_outage_longer_than_the_queue_waits_is_an_error(broker, server):
    broker.outage_s = 0.5
    server.stop()
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        enqueue(broker, 1)
    assert time.monotonic() - started < 10
