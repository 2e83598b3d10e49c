"""What the two steps of a job need and how a step reports back, shared by both kinds of job."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from ledger.keys import load_master_key
from ledger.media_jobs import records

PROGRESS_EVERY = 1.0  # seconds between progress writes (each renews the lease)
Report = Callable[[float, float | None], None]


class LeaseLost(Exception):
    """Another runner took the step over (this one was thought dead): stop, leave it to them."""


class Interrupted(Exception):
    """The process is stopping; the step is taken up again (here or elsewhere) later."""


class JobRefused(Exception):
    """The job cannot be done (the file is not media that can be marked, the registration is
    refused): it fails with this code and message, and is not tried again."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class MediaContext:
    """What the media step sees: the database, the data directory and, for marking, the master
    key (read at first use: hashing never needs it)."""

    engine: Engine
    data_dir: Path
    configured_master_key: str | None
    lease_s: float
    stopping: Callable[[], bool] = lambda: False
    _master_key: bytes | None = field(default=None, repr=False)

    @property
    def master_key(self) -> bytes:
        if self._master_key is None:
            self._master_key = load_master_key(self.data_dir, self.configured_master_key)
        return self._master_key


def reporter(ctx: MediaContext, job_id: int, holder: str) -> Report:
    """A progress callback that writes at most every PROGRESS_EVERY seconds, renewing the lease,
    and stops the step when the lease was lost or the process is stopping."""
    last = [0.0]

    def report(done: float, total: float | None) -> None:
        if ctx.stopping():
            raise Interrupted()
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            if not records.progress(ctx.engine, job_id, holder, done, total, ctx.lease_s):
                raise LeaseLost()

    return report
