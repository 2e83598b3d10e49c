"""PostgreSQL advisory locks, the one coordination point between service replicas.

Several service processes may share one PostgreSQL database. What must happen in one of them
at a time is named (a background loop, a report being received, the first start's deployment)
and guarded by a session-level advisory lock on a connection of its own, outside the pool: a
pooled connection would go back to the pool still holding its locks. PostgreSQL releases a
session's locks when the session ends, so a process that dies, even by SIGKILL (the kernel
closes its socket), leaves nothing held; the keepalives below make a vanished host's session
end within seconds too.

On SQLite there is one process and nothing to coordinate: every lock is granted at once.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine

log = logging.getLogger("reelledger.advisory")

NAMESPACE = 0x52454C44  # the first of the two int4 keys: every lock of ours ('RELD')
RETRY_INTERVAL = 0.05  # seconds between tries while `attempt` waits


def lock_key(name: str) -> int:
    """The second int4 key of the lock named `name`, the same in every process. Two names
    sharing a key (one chance in 2^32) only make them wait for each other."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big", signed=True)


def shared(engine: Engine) -> bool:
    """Whether other processes may use this database (PostgreSQL), so that locks mean something."""
    return engine.dialect.name == "postgresql"


class AdvisoryLocks:
    """Locks held by one connection of their own; `close()` releases whatever it still holds."""

    def __init__(self, engine: Engine, purpose: str) -> None:
        self._conn: Connection | None = None
        if shared(engine):
            conn = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            conn.detach()  # out of the pool: closing it ends the session and every lock with it
            conn.exec_driver_sql(f"SET application_name = 'reelledger {purpose} pid {os.getpid()}'")
            conn.exec_driver_sql("SET tcp_keepalives_idle = 5")  # the server notices a vanished host
            conn.exec_driver_sql("SET tcp_keepalives_interval = 2")
            self._conn = conn

    def try_lock(self, name: str) -> bool:
        """Take the lock if nobody holds it; True if this connection holds it now."""
        if self._conn is None:
            return True
        taken = self._conn.exec_driver_sql(
            "SELECT pg_try_advisory_lock(%s, %s)", (NAMESPACE, lock_key(name))
        ).scalar_one()
        return bool(taken)

    def lock(self, name: str) -> None:
        """Wait for the lock."""
        if self._conn is not None:
            self._conn.exec_driver_sql("SELECT pg_advisory_lock(%s, %s)", (NAMESPACE, lock_key(name)))

    def unlock(self, name: str) -> None:
        if self._conn is not None:
            self._conn.exec_driver_sql("SELECT pg_advisory_unlock(%s, %s)", (NAMESPACE, lock_key(name)))

    def ping(self) -> None:
        """Raise if the session, and so every lock it held, is gone."""
        if self._conn is not None:
            self._conn.exec_driver_sql("SELECT 1")

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # the connection is gone already: so are its locks
                log.debug("advisory lock connection already closed", exc_info=True)
            self._conn = None


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[None]:
    """Run the block in one process at a time (the others wait): a first start's deployment."""
    locks = AdvisoryLocks(engine, name)
    try:
        locks.lock(name)
        yield
    finally:
        locks.close()


@contextmanager
def attempt(engine: Engine, name: str, *, wait: float = 0.0) -> Iterator[bool]:
    """Hold the lock for the block if nobody else does, or if whoever does lets go within
    `wait` seconds (a sweep that only looks); yields whether it was taken."""
    locks = AdvisoryLocks(engine, name)
    try:
        deadline = time.monotonic() + wait
        taken = locks.try_lock(name)
        while not taken and time.monotonic() < deadline:
            time.sleep(RETRY_INTERVAL)
            taken = locks.try_lock(name)
        yield taken
    finally:
        locks.close()
