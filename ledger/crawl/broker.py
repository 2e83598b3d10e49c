"""Dramatiq's Redis broker, made to give back what a lost connection strands.

A Redis fetch moves message ids into this worker's ack set before the answer comes back. When
the connection drops, Dramatiq throws its consumer away and starts a new one; ids whose fetch
answer was lost, ids prefetched into the old consumer's cache and ids waiting in the thread's
delay queue are then in the ack set but in nobody's hands. Dramatiq gives them back only when
this worker's heartbeat stops, that is, when the worker is gone: a live worker would sit on
them for ever. So each consumer that follows a lost connection first sweeps its ack set and
requeues every id the process does not hold.

The sweep runs in the consumer's own thread before its first fetch: that thread is the only
one that fetches for its queue, so no fetch can be adding ids while the sweep looks."""

from __future__ import annotations

import threading
import time

import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.errors import BrokerConnectionError, ConnectionClosed


class _Holdings:
    """The ack-set ids this process holds, per queue: handed to worker threads (or to the delay
    queue, marked so) and not yet acknowledged."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[str, dict[str, bool]] = {}
        self._connection_lost: set[str] = set()

    def hold(self, queue: str, redis_id: str, delayed: bool) -> None:
        with self._lock:
            self._held.setdefault(queue, {})[redis_id] = delayed

    def release(self, queue: str, redis_id: str) -> None:
        with self._lock:
            self._held.get(queue, {}).pop(redis_id, None)

    def held(self, queue: str) -> set[str]:
        with self._lock:
            return set(self._held.get(queue, {}))

    def lost_connection(self, queue: str) -> None:
        with self._lock:
            self._connection_lost.add(queue)

    def take_lost_connection(self, queue: str) -> bool:
        """Whether the last consumer of `queue` lost its connection. If so, the consumer thread
        has also emptied its delay queue, so the delayed ids it held are no longer held."""
        with self._lock:
            if queue not in self._connection_lost:
                return False
            self._connection_lost.discard(queue)
            held = self._held.get(queue, {})
            for redis_id in [i for i, delayed in held.items() if delayed]:
                del held[redis_id]
            return True


class _SweepingConsumer(_RedisConsumer):
    def __init__(self, broker: SweepingRedisBroker, queue_name, prefetch, timeout):
        super().__init__(broker, queue_name, prefetch, timeout)
        self._sweep_due = broker.holdings.take_lost_connection(queue_name)

    def _lost(self, error: ConnectionClosed) -> ConnectionClosed:
        self.broker.holdings.lost_connection(self.queue_name)
        return error

    def __next__(self):
        try:
            if self._sweep_due:
                self._sweep()
            proxy = super().__next__()
        except ConnectionClosed as error:
            raise self._lost(error) from None
        if proxy is not None:
            self.broker.holdings.hold(self.queue_name, proxy.options["redis_message_id"], "eta" in proxy.options)
        return proxy

    def _sweep(self) -> None:
        try:
            taken = {i.decode() for i in self.broker.client.smembers(self.broker.acks_key(self.queue_name))}
        except redis.ConnectionError as error:
            raise ConnectionClosed(error) from None
        stranded = sorted(taken - self.broker.holdings.held(self.queue_name))
        if stranded:
            self.logger.warning(
                "Requeueing %d message(s) stranded by a lost connection on %r.", len(stranded), self.queue_name
            )
            try:
                self.broker.do_requeue(self.queue_name, *stranded)
            except redis.ConnectionError as error:
                raise ConnectionClosed(error) from None
        self._sweep_due = False

    def ack(self, message):
        self._settle(super().ack, message)

    def nack(self, message):
        self._settle(super().nack, message)

    def _settle(self, settle, message) -> None:
        """Acknowledge or reject; the id stays held until Redis has it (Dramatiq retries)."""
        try:
            settle(message)
        except ConnectionClosed as error:
            raise self._lost(error) from None
        self.broker.holdings.release(self.queue_name, message.options["redis_message_id"])

    def requeue(self, messages):
        super().requeue(messages)
        for message in messages:
            self.broker.holdings.release(self.queue_name, message.options["redis_message_id"])


class SweepingRedisBroker(RedisBroker):
    """RedisBroker whose consumers requeue what a lost connection stranded in this worker's ack
    set, and whose enqueue waits out a Redis outage of up to `outage_s` seconds."""

    def __init__(self, outage_s: float = 300.0, **parameters) -> None:
        super().__init__(**parameters)
        self.holdings = _Holdings()
        self.outage_s = outage_s

    def enqueue(self, message, *, delay=None):
        """Dramatiq's Retries middleware sends a failed message's next try from a hook whose
        errors are only logged, after which the message is acknowledged: an enqueue refused
        there by a Redis outage would lose the message, and its job would never finish. So
        every enqueue waits for Redis instead. Should Redis have taken a message whose answer
        was lost, it is enqueued twice; every message here is safe to handle twice."""
        deadline = time.monotonic() + self.outage_s
        pause = 0.1
        while True:
            try:
                return super().enqueue(message, delay=delay)
            except (redis.ConnectionError, redis.TimeoutError, BrokerConnectionError):
                if time.monotonic() > deadline:
                    raise
                time.sleep(pause)
                pause = min(2.0, pause * 2)

    @property
    def consumer_class(self):
        return _SweepingConsumer

    def acks_key(self, queue_name: str) -> str:
        """The ack set dispatch.lua keeps for this worker and queue."""
        return f"{self.namespace}:__acks__.{self.broker_id}.{queue_name}"
