"""Rows written from columns are the rows executemany or a row-by-row COPY would write."""

from __future__ import annotations

import numpy as np
import pytest

from ledger.bulk import insert_columns, insert_many
from ledger.db import make_engine, migrate

COLUMNS = ("report_pk", "work_pk", "territory", "day", "plays", "valid_plays", "watch_minutes", "ad_revenue", "held")


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    if request.param == "postgresql":
        url = request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+psycopg://")
    else:
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    engine = make_engine(url)
    migrate(engine)
    raw = engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute("CREATE TABLE rows_by_row AS SELECT * FROM play_row WHERE 1 = 0")
    cursor.execute("CREATE TABLE rows_by_column AS SELECT * FROM play_row WHERE 1 = 0")
    cursor.execute("CREATE TABLE odd_text (name VARCHAR(8), n BIGINT)")
    raw.commit()
    raw.close()
    yield engine
    engine.dispose()


def _rows(engine, table):
    raw = engine.raw_connection()
    cursor = raw.cursor()
    cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM {table} ORDER BY plays")
    found = [tuple(bool(v) if i == 8 else v for i, v in enumerate(row)) for row in cursor.fetchall()]
    raw.close()
    return found


def test_columns_are_written_as_the_same_rows(engine):
    n = 1_000
    plays = np.arange(n, dtype=np.int64) * 7 + 2**62
    tuples = [
        (3, i % 5 + 1, "CN" if i % 3 else "GB", 20_000 + i % 28, int(plays[i]), i, i * 30, 2**63 - 1 - i, i % 4 == 0)
        for i in range(n)
    ]
    columns = [np.array(c) if k != 2 else list(c) for k, c in enumerate(zip(*tuples, strict=True))]
    raw = engine.raw_connection()
    insert_many(raw, engine.dialect.name, "rows_by_row", COLUMNS, tuples)
    insert_columns(raw, engine.dialect.name, "rows_by_column", dict(zip(COLUMNS, columns, strict=True)))
    raw.commit()
    raw.close()
    assert _rows(engine, "rows_by_column") == _rows(engine, "rows_by_row") == tuples


def test_text_of_mixed_lengths_is_written_too(engine):
    raw = engine.raw_connection()
    insert_columns(raw, engine.dialect.name, "odd_text", {"name": ["a", "bcd", "é"], "n": np.array([1, 2, 3])})
    raw.commit()
    cursor = raw.cursor()
    cursor.execute("SELECT name, n FROM odd_text ORDER BY n")
    assert [tuple(r) for r in cursor.fetchall()] == [("a", 1), ("bcd", 2), ("é", 3)]
    raw.close()
