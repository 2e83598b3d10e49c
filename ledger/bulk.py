"""Writing many rows at once, the fastest way each database offers: COPY on PostgreSQL,
executemany on SQLite."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import psycopg
from sqlalchemy.pool import PoolProxiedConnection

# PostgreSQL's binary COPY: a signature, flags and header extension length; each row's field
# count, then each field's length and value in the column type's own big-endian form; -1 to end.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_BINARY = {"integer": ">i4", "bigint": ">i8", "smallint": ">i2", "boolean": "?"}
_column_types: dict[str, dict[str, str]] = {}


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


def insert_columns(
    raw_connection: PoolProxiedConnection, dialect: str, table: str, columns: Mapping[str, Sequence[Any] | np.ndarray]
) -> None:
    """Insert rows given as columns (numpy arrays, or lists of strings) in the caller's
    transaction: on PostgreSQL as one binary COPY laid out by numpy, on SQLite by executemany."""
    values = list(columns.values())
    if dialect == "postgresql":
        cursor = raw_connection.cursor()
        try:
            assert isinstance(cursor, psycopg.Cursor), "PostgreSQL is reached through psycopg 3"
            records = _binary_records(_types(cursor, table), columns)
            if records is not None:
                with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
                    copy.write(_COPY_HEADER + records + _COPY_TRAILER)
                return
        finally:
            cursor.close()
    lists = [v.tolist() if isinstance(v, np.ndarray) else v for v in values]
    insert_many(raw_connection, dialect, table, tuple(columns), list(zip(*lists, strict=True)))


def _types(cursor: psycopg.Cursor[Any], table: str) -> dict[str, str]:
    if table not in _column_types:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = %s AND table_schema = current_schema()",
            (table,),
        )
        found: dict[str, str] = dict(cursor.fetchall())
        if not found:
            return found
        _column_types[table] = found
    return _column_types[table]


def _binary_records(types: Mapping[str, str], columns: Mapping[str, Sequence[Any] | np.ndarray]) -> bytes | None:
    """The rows in binary COPY form, or None when a column is of a type laid out here only as
    fixed-width values (text of one length in all rows, integers, booleans)."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    cells: dict[str, Any] = {}
    widths: dict[str, int] = {}
    for name, column in columns.items():
        kind = types.get(name)
        if kind in _BINARY:
            fields.append((name, _BINARY[kind]))
            cells[name] = column
            widths[name] = np.dtype(_BINARY[kind]).itemsize
        elif kind in ("character varying", "text"):
            lengths = {len(str(v).encode()) for v in dict.fromkeys(column)}
            if len(lengths) != 1 or 0 in lengths:
                return None
            width = lengths.pop()
            try:
                cells[name] = np.array(column, dtype=f"S{width}")
            except UnicodeEncodeError:  # numpy writes ASCII only
                return None
            fields.append((name, f"S{width}"))
            widths[name] = width
        else:
            return None
        fields.insert(-1, (f"{name}_length", ">i4"))
    records = np.zeros(len(next(iter(columns.values()))), dtype=np.dtype(fields))
    records["count"] = len(columns)
    for name, column in cells.items():
        records[f"{name}_length"] = widths[name]
        records[name] = column
    return records.tobytes()
