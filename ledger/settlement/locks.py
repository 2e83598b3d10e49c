"""One settlement-changing action per platform at a time: closing a period, accepting a
report. Without it two closes could carry the same adjustments, or a correction could slip
between a period's settlement and its commitment."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlmodel import Session, select

from ledger.models import Account

_locks: dict[int, threading.Lock] = {}
_guard = threading.Lock()


@contextmanager
def platform_lock(db: Session, platform_id: int) -> Iterator[None]:
    """Held until the block ends; on PostgreSQL the platform's row is also locked for the rest of
    `db`'s transaction, which serialises other service processes too."""
    with _guard:
        lock = _locks.setdefault(platform_id, threading.Lock())
    with lock:
        if db.get_bind().dialect.name == "postgresql":
            db.exec(select(Account.id).where(Account.id == platform_id).with_for_update()).first()
        yield
