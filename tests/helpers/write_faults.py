"""Real driver errors raised on the engine at the Nth INSERT/UPDATE/DELETE or COMMIT of a write,
once per step of the write, and what must then hold: the write's rows and its transactions on
chain agree, and a retry with the same Idempotency-Key writes it exactly once."""

from __future__ import annotations

import threading
import time
from collections import Counter
from contextlib import contextmanager

import pytest
from sqlalchemy import event, func
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlmodel import select

from ledger.chain.gas import TOP_UP_LABEL
from ledger.db import session
from ledger.errors import LedgerError, Unavailable
from ledger.models import ChainOp

WRITES = ("INSERT", "UPDATE", "DELETE")
FAULT_TALLY: Counter = Counter()  # (kind, database, outcome) -> faults injected, for the closing figures


@pytest.fixture(scope="module", autouse=True)
def fault_figures():
    """The faults injected, by kind, database, failed statement and outcome (shown with -s)."""
    yield
    for (kind, database, statement, outcome), count in sorted(FAULT_TALLY.items()):
        print(f"faults: {kind:12} {database:10} {statement:7} {outcome:16} {count}")


class Faults:
    """Counts, or fails, the database writes (INSERT/UPDATE/DELETE statements and COMMITs) made
    by the calling thread; the reconciler's thread is never touched."""

    def __init__(self, engine) -> None:
        self.engine = engine
        self.fail_at: int | None = None
        self.steps: list[str] = []
        self.fired: str | None = None
        self.thread = threading.get_ident()
        self.also = None

    def _step(self, what: str) -> None:
        ours = threading.get_ident() == self.thread or (self.also is not None and self.also())
        if not ours or self.fired:
            return
        self.steps.append(what)
        if len(self.steps) == self.fail_at:
            self.fired = what
            raise OperationalError(what, {}, self.engine.dialect.loaded_dbapi.OperationalError("injected fault"))

    def _statement(self, conn, cursor, statement, parameters, context, executemany):
        words = statement.lstrip().split(None, 3)
        if words and words[0].upper() in WRITES:
            table = words[2] if words[0].upper() != "UPDATE" else words[1]
            self._step(f"{words[0].upper()} {table.strip(chr(34))}")

    def _commit(self, conn):
        self._step("COMMIT")

    @contextmanager
    def watching(self, fail_at: int | None = None, also=None):
        """`also`: a test of the current thread for other threads whose writes count too."""
        self.fail_at, self.steps, self.fired, self.also = fail_at, [], None, also
        self.thread = threading.get_ident()
        event.listen(self.engine, "before_cursor_execute", self._statement)
        event.listen(self.engine, "commit", self._commit)
        try:
            yield self
        finally:
            event.remove(self.engine, "before_cursor_execute", self._statement)
            event.remove(self.engine, "commit", self._commit)


def settle(ledger, timeout: float = 60.0) -> None:
    """Until the reconciler has finished everything in the outbox."""
    deadline = time.monotonic() + timeout
    while ledger.chain.outbox.unfinished():
        assert time.monotonic() < deadline, "the outbox did not settle"
        time.sleep(0.1)


def events(ledger, contract: str, name: str) -> int:
    return len(ledger.chain.contract(contract).events[name]().get_logs(from_block=0))


def rows(ledger, model, **where) -> int:
    with session(ledger.engine) as db:
        query = select(func.count()).select_from(model)
        for column, value in where.items():
            query = query.where(getattr(model, column) == value)
        return db.exec(query).one()


def signer_writes(ledger) -> int:
    """The signer's transactions on chain, less the gas top-ups it sent to the accounts it signs
    for (a studio's first write tops the studio up before its operator approval)."""
    with session(ledger.engine) as db:
        top_ups = db.exec(
            select(func.count())
            .select_from(ChainOp)
            .where(ChainOp.sender == ledger.chain.signer, ChainOp.label == TOP_UP_LABEL, ChainOp.nonce.is_not(None))
        ).one()
    return ledger.chain.w3.eth.get_transaction_count(ledger.chain.signer) - top_ups


def database_of(ledger) -> str:
    return ledger.engine.url.get_backend_name()


def fault_every_step(
    ledger, kind: str, attempt, stored, on_chain, most: int = 40, also=None, one_send_each: bool = True
) -> list[str]:
    """Run `attempt(key)` once per step of it with that step failing (the 1st write, the 2nd,
    ... until an attempt gets through all its steps untouched), each under a new key. After
    each fault the outbox settles, and the write's rows and its transactions on chain must
    agree (none of either, or one of each), and the signer sent one transaction per row (unless
    `one_send_each` is off: a write that later sends others, like a period's finalisation); then
    a retry with the same key writes it exactly once. Returns the steps that failed, in order."""
    faults = Faults(ledger.engine)
    fired = []
    for n in range(1, most + 1):
        key = f"{kind}-fault-{n}"
        chain_before, nonce_before = on_chain(), signer_writes(ledger)
        with faults.watching(fail_at=n, also=also):
            try:
                attempt(key)
                outcome = "answered"
            except (DBAPIError, LedgerError):
                assert faults.fired, "the write failed without a fault"
                outcome = "refused"
        step = faults.fired
        settle(ledger)
        kept = stored(key)
        assert kept in (0, 1), (n, step, kept)
        assert on_chain() - chain_before == kept, f"fault at step {n} ({step}): {kept} rows, chain disagrees"
        sent = signer_writes(ledger) - nonce_before
        assert sent == kept or not one_send_each, (
            f"fault at step {n} ({step}): {sent} transactions sent for {kept} rows"
        )
        if step is None:  # every step of this write ran: all of them have been failed once
            assert outcome == "answered" and kept == 1
            break
        fired.append(step)
        if outcome == "answered":
            assert kept == 1, f"fault at step {n} ({step}) was answered as a success without a row"
        FAULT_TALLY[(kind, database_of(ledger), step.split()[0], "kept, sent once" if kept else "nothing written")] += 1
        attempt(key)  # the client's retry with the same Idempotency-Key
        settle(ledger)
        assert stored(key) == 1 and on_chain() - chain_before == 1, f"retry after a fault at step {n} ({step})"
    else:
        pytest.fail(f"{kind}: still failing after {most} steps")
    return fired


def a_request_thread() -> bool:
    """The service's request handlers (FastAPI runs sync routes and dependencies in AnyIO's
    worker threads): only a request's own writes are steps, never a background thread's, so a
    loaded machine's timing cannot add steps."""
    return threading.current_thread().name.startswith("AnyIO worker thread")


def answered(response):
    """A write's answer as the fault harness expects it: a 503 is a clean refusal."""
    assert response.status_code in (201, 202, 503), response.text
    if response.status_code == 503:
        assert response.json()["error"]["code"] == "database_unavailable"
        raise Unavailable("503")
    return response
