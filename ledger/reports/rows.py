"""Rows of a play report: strict parsing from JSON, NDJSON or CSV, one row at a time.

Every count and money value is a whole non-negative number (money in minor units): "12.5",
12.5, -3 or "1e3" are refused with the row number, never rounded. The parsers are generators
over the incoming text, so a report of millions of rows is never whole in memory.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import IO, Iterable, Iterator

from ledger.currencies import CURRENCIES
from ledger.territories import TERRITORIES

LEAF_TYPES = ("bytes32", "string", "uint32", "uint256", "uint256", "uint256", "uint256", "string")
COUNTS = ("plays", "valid_plays", "watch_minutes", "ad_revenue")
EPOCH = date(1970, 1, 1)
_TERRITORIES = frozenset(TERRITORIES)


class BadRow(ValueError):
    def __init__(self, number: int, field: str, problem: str) -> None:
        super().__init__(f"row {number}: {field}: {problem}")
        self.number, self.field, self.problem = number, field, problem


@dataclass(frozen=True)
class ReportRow:
    work_id: bytes
    territory: str
    day: int  # days since 1970-01-01
    plays: int
    valid_plays: int
    watch_minutes: int
    ad_revenue: int  # minor units
    currency: str

    def leaf(self) -> tuple:
        """The row as a Merkle leaf, in LEAF_TYPES order."""
        return (self.work_id, self.territory, self.day, self.plays, self.valid_plays,
                self.watch_minutes, self.ad_revenue, self.currency)


def _whole(number: int, name: str, value) -> int:
    if isinstance(value, bool):
        raise BadRow(number, name, "is not a number")
    if isinstance(value, int):
        parsed = value
    elif isinstance(value, str) and value.strip().isdigit():
        parsed = int(value.strip())
    else:  # floats, Decimals from a JSON parser, "12.5", "1e3", "-1"
        raise BadRow(number, name, f"{value!r} is not a whole non-negative number")
    if parsed < 0:
        raise BadRow(number, name, "is negative")
    if parsed >= 2**255:
        raise BadRow(number, name, "is out of range")
    return parsed


def parse_row(number: int, raw: dict) -> ReportRow:
    if not isinstance(raw, dict):
        raise BadRow(number, "row", "is not an object")
    work = str(raw.get("work", "")).strip().lower().removeprefix("0x")
    if len(work) != 64 or any(c not in "0123456789abcdef" for c in work):
        raise BadRow(number, "work", "is not a work id (64 hex characters)")
    territory = str(raw.get("territory", "")).strip().upper()
    if territory not in _TERRITORIES:
        raise BadRow(number, "territory", f"{territory!r} is not an ISO 3166-1 alpha-2 code")
    try:
        day = (date.fromisoformat(str(raw.get("date", ""))) - EPOCH).days
    except ValueError:
        raise BadRow(number, "date", "is not a YYYY-MM-DD date") from None
    currency = str(raw.get("currency", "")).strip().upper()
    if currency not in CURRENCIES:
        raise BadRow(number, "currency", f"{currency!r} is not an ISO 4217 currency")
    counts = {name: _whole(number, name, raw.get(name, 0)) for name in COUNTS}
    if counts["valid_plays"] > counts["plays"]:
        raise BadRow(number, "valid_plays", "exceeds plays")
    return ReportRow(bytes.fromhex(work), territory, day, currency=currency, **counts)


def ndjson_rows(lines: Iterable[str]) -> Iterator[ReportRow]:
    import json
    from decimal import Decimal

    for number, line in enumerate((line for line in lines if line.strip()), start=1):
        try:
            raw = json.loads(line, parse_float=Decimal)  # a fraction then fails as not whole
        except json.JSONDecodeError:
            raise BadRow(number, "row", "is not valid JSON") from None
        yield parse_row(number, raw)


def csv_rows(lines: Iterable[str]) -> Iterator[ReportRow]:
    reader = csv.DictReader(lines)
    missing = {"work", "territory", "date", "currency"} - set(reader.fieldnames or ())
    if missing:
        raise BadRow(0, "header", f"missing columns: {', '.join(sorted(missing))}")
    for number, raw in enumerate(reader, start=1):
        yield parse_row(number, raw)


def json_rows(stream: IO[bytes]) -> Iterator[ReportRow]:
    """Rows of `{"rows": [...]}` or of a bare array, parsed incrementally."""
    import ijson

    head = stream.read(1)
    while head and head.isspace():
        head = stream.read(1)
    prefix = "item" if head == b"[" else "rows.item"
    body = io.BufferedReader(_Prepend(head, stream))
    try:
        for number, raw in enumerate(ijson.items(body, prefix, use_float=False), start=1):
            yield parse_row(number, raw)
    except ijson.JSONError:
        raise BadRow(0, "body", "is not valid JSON") from None


class _Prepend(io.RawIOBase):
    """A stream with some already-read bytes put back in front of it."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self._head, self._rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._head or self._rest.read(len(buffer))
        self._head = b""
        data = data[: len(buffer)]
        buffer[: len(data)] = data
        return len(data)
