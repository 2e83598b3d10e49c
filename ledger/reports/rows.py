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
from ledger.errors import TooDeep
from ledger.limits import MAX_JSON_DEPTH, DepthScanner, check_depth
from ledger.territories import TERRITORIES

LEAF_TYPES = ("bytes32", "string", "uint32", "uint256", "uint256", "uint256", "uint256", "string")
COUNTS = ("plays", "valid_plays", "watch_minutes", "ad_revenue")
EPOCH = date(1970, 1, 1)
_TERRITORIES = frozenset(TERRITORIES)
TOO_DEEP = f"is JSON nested deeper than {MAX_JSON_DEPTH} levels (a row is an object of numbers and strings)"
MAX_ITEM_BYTES = 16 << 20  # a JSON report's row (or any one value in it), as an NDJSON line (blocks.MAX_LINE_BYTES)


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
    if type(value) is int:
        parsed = value
    elif isinstance(value, bool):
        raise BadRow(number, name, "is not a number")
    elif isinstance(value, int):
        parsed = int(value)
    elif isinstance(value, str) and value.strip().isascii() and value.strip().isdecimal():
        if len(value.strip().lstrip("0")) > 19:
            raise BadRow(number, name, "is out of range")
        parsed = int(value.strip())
    else:  # floats, Decimals from a JSON parser, "12.5", "1e3", "-1"
        raise BadRow(number, name, f"{value!r} is not a whole non-negative number")
    if parsed < 0:
        raise BadRow(number, name, "is negative")
    if parsed >= 2**63:  # stored as a 64-bit integer
        raise BadRow(number, name, "is out of range")
    return parsed


class RowParser:
    """Checks rows one by one. Work ids, dates and codes repeat across a report's rows, so each
    distinct text is checked once and remembered (up to a bound)."""

    CACHE_LIMIT = 200_000

    def __init__(self) -> None:
        self._works: dict[str, bytes] = {}
        self._days: dict[str, int] = {}
        self._codes: dict[tuple[str, str], str] = {}

    def __call__(self, number: int, raw: dict) -> ReportRow:
        if not isinstance(raw, dict):
            raise BadRow(number, "row", "is not an object")
        get = raw.get
        work = self._work(number, get("work", ""))
        territory = self._code(number, "territory", get("territory", ""), _TERRITORIES, "an ISO 3166-1 alpha-2 code")
        day = self._day(number, get("date", ""))
        currency = self._code(number, "currency", get("currency", ""), CURRENCIES, "an ISO 4217 currency")
        plays = _whole(number, "plays", get("plays", 0))
        valid_plays = _whole(number, "valid_plays", get("valid_plays", 0))
        watch_minutes = _whole(number, "watch_minutes", get("watch_minutes", 0))
        ad_revenue = _whole(number, "ad_revenue", get("ad_revenue", 0))
        if valid_plays > plays:
            raise BadRow(number, "valid_plays", "exceeds plays")
        return ReportRow(work, territory, day, plays, valid_plays, watch_minutes, ad_revenue, currency)

    def _remember(self, cache: dict, key, value):
        if len(cache) >= self.CACHE_LIMIT:
            cache.clear()
        cache[key] = value
        return value

    def _work(self, number: int, value) -> bytes:
        found = self._works.get(value) if type(value) is str else None
        if found is not None:
            return found
        work = str(value).strip().lower().removeprefix("0x")
        if len(work) != 64 or not all(c in "0123456789abcdef" for c in work):
            raise BadRow(number, "work", "is not a work id (64 hex characters)")
        return self._remember(self._works, value, bytes.fromhex(work)) if type(value) is str else bytes.fromhex(work)

    def _day(self, number: int, value) -> int:
        found = self._days.get(value) if type(value) is str else None
        if found is not None:
            return found
        try:
            day = (date.fromisoformat(str(value)) - EPOCH).days
        except ValueError:
            raise BadRow(number, "date", "is not a YYYY-MM-DD date") from None
        return self._remember(self._days, value, day) if type(value) is str else day

    def _code(self, number: int, field: str, value, known: frozenset, what: str) -> str:
        key = (field, value) if type(value) is str else None
        found = self._codes.get(key) if key else None
        if found is not None:
            return found
        code = str(value).strip().upper()
        if code not in known:
            raise BadRow(number, field, f"{code!r} is not {what}")
        return self._remember(self._codes, key, code) if key else code


def parse_row(number: int, raw: dict) -> ReportRow:
    return RowParser()(number, raw)


REQUIRED_COLUMNS = frozenset({"work", "territory", "date", "currency"})


def ndjson_items(lines: Iterable[str]) -> Iterator[tuple[int, object]]:
    """(number, item) per non-blank line. A line that is not JSON comes as a BadRow in the item's
    place, so that a checker can go on past it and an ingest can stop at it."""
    import json
    from decimal import Decimal

    decode = json.JSONDecoder(parse_float=Decimal).decode  # a fraction then fails as not whole
    number = 0
    for line in lines:
        if not line.strip():
            continue
        number += 1
        try:
            check_depth(line, "row")  # before the decoder, which recurses a level per bracket
            yield number, decode(line)
        except TooDeep:
            yield number, BadRow(number, "row", TOO_DEEP)
        except ValueError:  # not JSON, or a number too long for Python to read
            yield number, BadRow(number, "row", "is not valid JSON (or holds a number far out of range)")


def ndjson_rows(lines: Iterable[str]) -> Iterator[ReportRow]:
    parse = RowParser()
    for number, raw in ndjson_items(lines):
        if isinstance(raw, BadRow):
            raise raw
        yield parse(number, raw)


def csv_items(lines: Iterable[str]) -> Iterator[tuple[int, dict]]:
    """(number, row as read) after the header is checked for the columns every row needs."""
    reader = csv.DictReader(lines)
    number = 0
    try:
        missing = REQUIRED_COLUMNS - set(reader.fieldnames or ())
        if missing:
            raise BadRow(0, "header", f"missing columns: {', '.join(sorted(missing))}")
        for number, raw in enumerate(reader, start=1):
            yield number, raw
    except csv.Error as exc:
        raise BadRow(number + 1, "row", f"is not valid CSV: {exc}") from None


def csv_rows(lines: Iterable[str]) -> Iterator[ReportRow]:
    parse = RowParser()
    for number, raw in csv_items(lines):
        yield parse(number, raw)


def json_items(stream: IO[bytes]) -> Iterator[tuple[int, object]]:
    """(number, item) of `{"rows": [...]}` or of a bare array, read incrementally; refused
    (BadRow 0) once it nests past MAX_JSON_DEPTH, before the parser reads that far: ijson keeps
    the path to every value it is inside, so its memory grows with the square of the depth."""
    import ijson

    head = stream.read(1)
    while head and head.isspace():
        head = stream.read(1)
    prefix = "item" if head == b"[" else "rows.item"
    reader = _Prepend(head, stream, DepthScanner(field="body"))
    number = 0
    try:
        # use_float=True: the C parser then refuses absurdly long integers cleanly (with floats off,
        # it crashes on them), and a fraction arrives as a float, which is refused as not whole.
        for number, item in enumerate(ijson.items(io.BufferedReader(reader), prefix, use_float=True), start=1):
            reader.since_item = 0
            yield number, item
    except ijson.JSONError:
        raise BadRow(0, "body", "is not valid JSON") from None
    except TooDeep:
        raise BadRow(0, "body", TOO_DEEP) from None
    except _ItemTooLong:  # the parser holds a string or a row whole until it ends
        raise BadRow(number + 1, "row", f"is longer than {MAX_ITEM_BYTES >> 20} MiB") from None


def json_rows(stream: IO[bytes]) -> Iterator[ReportRow]:
    """Rows of `{"rows": [...]}` or of a bare array, parsed incrementally."""
    parse = RowParser()
    for number, raw in json_items(stream):
        yield parse(number, raw)


class _ItemTooLong(Exception):
    pass


class _Prepend(io.RawIOBase):
    """A stream with some already-read bytes put back in front of it, each byte shown to
    `scanner` before it is passed on, and no more than MAX_ITEM_BYTES since the last item."""

    def __init__(self, head: bytes, rest: IO[bytes], scanner: DepthScanner) -> None:
        self._head, self._rest, self._scanner = head, rest, scanner
        self.since_item = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._head or self._rest.read(len(buffer))
        self._head = b""
        data = data[: len(buffer)]
        self.since_item += len(data)
        if self.since_item > MAX_ITEM_BYTES:
            raise _ItemTooLong()
        self._scanner.feed(data)
        buffer[: len(data)] = data
        return len(data)
