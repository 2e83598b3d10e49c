"""Writing many rows at once, the fastest way each database offers: COPY on PostgreSQL,
executemany on SQLite."""

from __future__ import annotations

from collections.abc import Sequence

import psycopg
from sqlalchemy.pool import PoolProxiedConnection


def insert_many(
    raw_connection: PoolProxiedConnection,
    dialect: str,
    table: str,
    columns: Sequence[str],
    rows: Sequence[tuple[object, ...]],
) -> None:
    """Insert `rows` (tuples in `columns` order) in the caller's transaction."""
    names = ", ".join(columns)
    cursor = raw_connection.cursor()
    try:
        if dialect == "postgresql":
            assert isinstance(cursor, psycopg.Cursor), "PostgreSQL is reached through psycopg 3"
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)
    finally:
        cursor.close()
