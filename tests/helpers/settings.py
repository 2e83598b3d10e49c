"""Settings for a ledger of a test's own: a free loopback port for its node, a temporary data
directory and database, a fresh master key."""

from __future__ import annotations

import base64
import secrets
import socket
import uuid
from contextlib import contextmanager

import psycopg

from ledger.config import Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def temporary_database(admin_dsn: str):
    """A fresh PostgreSQL database for one test or module, dropped afterwards; yields its URL."""
    name = f"reelledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_dsn.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def make_settings(data_dir, database_url: str | None = None, **overrides) -> Settings:
    values = {
        "data_dir": data_dir,
        "database_url": database_url,
        "anvil_port": free_port(),
        "master_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "reconcile_interval": 0.2,
        "media_poll": 0.2,
    }
    values.update(overrides)
    return Settings(**values)
