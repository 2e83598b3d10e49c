"""Writing many rows at once, the fastest way each database offers: COPY on PostgreSQL,
executemany on SQLite."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def insert_many(raw_connection, dialect: str, table: str, columns: Sequence[str], rows: Iterable[tuple]) -> None:
    """Insert `rows` (tuples in `columns` order) in the caller's transaction."""
    names = ", ".join(columns)
    cursor = raw_connection.cursor()
    try:
        if dialect == "postgresql":
            with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(columns))})", rows)
    finally:
        cursor.close()
