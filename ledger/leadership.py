"""Each background loop runs in exactly one replica at a time; another takes over when it dies.

A loop (the outbox reconciler with period finalisation, notice delivery, the sweep of
interrupted uploads, jobs for copies whose job was never written) is led by whichever replica
holds its advisory lock (ledger/advisory.py). Every replica runs every loop's thread; one that
does not lead the loop only waits. A watcher thread tries, every `poll` seconds, to take the
locks of the loops it does not lead, and checks that its connection still holds the ones it
does: if that connection is lost, it stops leading at once (PostgreSQL has released the locks
with the session) and tries again. So when a leader dies, another replica leads its loops
within `poll` seconds, plus one loop interval.

A pass may overlap with one in a replica that has just lost its lock without knowing yet (a
network partition, noticed on its next check): every pass must be safe to repeat, as the
outbox's compare-and-set, its idempotency keys and the notices' delivery states make them.

On SQLite (one process) this process leads every loop from the start.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import Engine

from ledger.advisory import AdvisoryLocks, shared

log = logging.getLogger("reelledger.leadership")

POLL = 1.0


class Leadership:
    def __init__(self, engine: Engine, poll: float = POLL) -> None:
        self.engine = engine
        self.poll = poll
        self.shared = shared(engine)
        self._wanted: set[str] = set()
        self._held: set[str] = set()
        self._guard = threading.Lock()
        self._stop = threading.Event()  # the loops'
        self._done = threading.Event()  # the watcher's, once the loops have stopped
        self._threads: list[threading.Thread] = []
        self._watcher: threading.Thread | None = None

    def leads(self, name: str) -> bool:
        """Whether this process leads the loop `name` now (as of the watcher's last check)."""
        if not self.shared:
            return True
        with self._guard:
            return name in self._held

    @property
    def leading(self) -> tuple[str, ...]:
        """The loops this process leads, for /health."""
        with self._guard:
            names = self._wanted if not self.shared else self._held
            return tuple(sorted(names))

    def loop(self, name: str, every: float, run: Callable[[], object]) -> None:
        """Run `run` every `every` seconds while this process leads `name`. `run` handles its own
        failures; anything it lets through is logged and the loop goes on."""
        with self._guard:
            self._wanted.add(name)
        self._ensure_watcher()
        thread = threading.Thread(target=self._run, args=(name, every, run), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self, name: str, every: float, run: Callable[[], object]) -> None:
        while not self._stop.wait(every):
            if not self.leads(name):
                continue
            try:
                run()
            except Exception:
                log.exception("a pass of %s failed", name)

    def _ensure_watcher(self) -> None:
        if self.shared and self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="leadership", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        locks: AdvisoryLocks | None = None
        while True:
            try:
                if locks is None:
                    locks = AdvisoryLocks(self.engine, "leader")
                locks.ping()
                with self._guard:
                    free = sorted(self._wanted - self._held)
                for name in free:
                    if locks.try_lock(name):
                        with self._guard:
                            self._held.add(name)
                        log.info("this replica now leads %s", name)
            except Exception as exc:  # the session is gone, and every lock with it
                self._lose(f"{type(exc).__name__}: {exc}")
                if locks is not None:
                    locks.close()
                locks = None
            if self._done.wait(self.poll):
                break
        with self._guard:
            self._held.clear()
        if locks is not None:
            locks.close()  # the others take over at their next try

    def _lose(self, why: str) -> None:
        with self._guard:
            lost, self._held = self._held, set()
        if lost:
            log.warning("this replica no longer leads %s: %s", ", ".join(sorted(lost)), why)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop every loop (a pass in progress finishes), then give up the locks."""
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)
        self._done.set()
        if self._watcher is not None:
            self._watcher.join(timeout)
        self._threads.clear()
        self._watcher = None
