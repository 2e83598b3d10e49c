"""The database: one engine per URL, schema kept by Alembic migrations."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, TextClause, event
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, create_engine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
MIGRATION_LOCK = 0x52454C44_00000001  # the advisory lock of a schema migration


def make_engine(url: str) -> Engine:
    """An engine; SQLite gets WAL and a busy timeout so the reconciler thread and requests coexist."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: object) -> None:  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        @event.listens_for(engine, "savepoint")
        def _begin_before_savepoint(conn: Connection, _name: object) -> None:
            # Python's sqlite3 opens a transaction only before an INSERT/UPDATE/DELETE, so a
            # SAVEPOINT issued first would start one of its own, and its RELEASE would commit
            # at once whatever it holds (an outbox op) even if the caller's transaction then
            # fails. Open the transaction first; IMMEDIATE, as a savepoint means a write.
            dbapi_conn = conn.connection.dbapi_connection
            if isinstance(dbapi_conn, sqlite3.Connection) and not dbapi_conn.in_transaction:
                dbapi_conn.execute("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration; safe to run on every start, and by replicas
    starting together on one PostgreSQL database: one migrates while the others wait."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # released with this transaction (PostgreSQL's DDL is transactional)
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class _Session(Session):
    def commit(self) -> None:
        """Commit; if that fails, roll back before anything else runs on the connection.

        SQLAlchemy leaves a transaction whose COMMIT failed open on its connection until a
        rollback, and closing the session does not roll it back: the connection would go back
        to the pool still holding the failed write (on SQLite with its write lock), and the
        next user's commit would store it after the caller was told it failed."""
        try:
            super().commit()
        except BaseException:
            self.rollback()
            raise


M = TypeVar("M", bound=SQLModel)


def must_get(db: Session, model: type[M], pk: object) -> M:
    """The row `pk` of `model`, which the caller knows exists (its id was read from another row
    or just written): its absence is a broken invariant, never a request's error."""
    row = db.get(model, pk)
    if row is None:
        raise RuntimeError(f"{model.__name__} {pk!r} is missing")
    return row


def text_rows(db: Session, query: TextClause, params: Mapping[str, object]) -> Sequence[Any]:
    """The rows (tuples) of a hand-written SQL query; sqlmodel types `exec` for select() only, and
    such a query's columns are known only to its text."""
    rows: Sequence[Any] = db.exec(query, params=params).all()  # type: ignore[call-overload]  # text() runs all the same
    return rows


def session(engine: Engine) -> Session:
    return _Session(engine, expire_on_commit=False)


def commit_or(db: Session, conflict: Exception, *, flush_only: bool = False) -> None:
    """Commit (or only flush, to learn new rows' ids), or roll back and raise `conflict` if a
    unique constraint says another request won."""
    try:
        db.flush() if flush_only else db.commit()
    except IntegrityError as exc:
        db.rollback()
        raise conflict from exc
