"""Rows of a play report: strict parsing from JSON, NDJSON or CSV, one row at a time.

Every count and money value is a whole non-negative number (money in minor units): "12.5",
12.5, -3 or "1e3" are refused with the row number, never rounded. Every row names every column,
the quantities included (0 where there is none): a column the ledger does not know (a misspelt
`watch_minuts`) or one left out is refused, never read as zero. The parsers are generators
over the incoming text, so a report of millions of rows is never whole in memory.
"""

from __future__ import annotations

import csv
import difflib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import IO, Any, NoReturn, TypeVar

from ledger.currencies import CURRENCIES
from ledger.days import day_number
from ledger.errors import TooDeep
from ledger.json_limits import MAX_JSON_DEPTH, DepthScanner, check_depth
from ledger.territories import TERRITORIES

LEAF_TYPES = ("bytes32", "string", "uint32", "uint256", "uint256", "uint256", "uint256", "string")
COUNTS = ("plays", "valid_plays", "watch_minutes", "ad_revenue")
COLUMNS = ("work", "territory", "date", "plays", "valid_plays", "watch_minutes", "ad_revenue", "currency")
_COLUMNS = frozenset(COLUMNS)
MISSING = object()  # a column a row leaves out
K = TypeVar("K")
V = TypeVar("V")
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

    def leaf(self) -> tuple[Any, ...]:
        """The row as a Merkle leaf, in LEAF_TYPES order."""
        return (
            self.work_id,
            self.territory,
            self.day,
            self.plays,
            self.valid_plays,
            self.watch_minutes,
            self.ad_revenue,
            self.currency,
        )


def column_name(name: object) -> str:
    """A column's name as a problem names it: an absurdly long one is cut short."""
    text = str(name)
    return text if len(text) <= 64 else text[:61] + "..."


def unknown_column(name: object) -> str:
    """Why a column is refused, with the column it most likely means."""
    text = str(name)
    near = difflib.get_close_matches(text.strip().lower(), COLUMNS, n=1, cutoff=0.6) if len(text) <= 64 else []
    if near:
        return f"is not a column of a play report; did you mean {near[0]}?"
    return f"is not a column of a play report (they are {', '.join(COLUMNS)})"


def _missing(number: int, name: str) -> NoReturn:
    raise BadRow(number, name, "is missing; every row names every column (0 where there is none)")


def _whole(number: int, name: str, value: object) -> int:
    if type(value) is int:
        parsed = value
    elif value is MISSING:
        _missing(number, name)
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

    def __call__(self, number: int, raw: object) -> ReportRow:
        if not isinstance(raw, dict):
            raise BadRow(number, "row", "is not an object")
        if raw.keys() != _COLUMNS:
            for name in raw:
                if name not in _COLUMNS:
                    raise BadRow(number, column_name(name), unknown_column(name))
        get = raw.get
        work = self._work(number, get("work", MISSING))
        territory = self._territory(number, get("territory", MISSING))
        day = self._day(number, get("date", MISSING))
        currency = self._currency(number, get("currency", MISSING))
        plays = _whole(number, "plays", get("plays", MISSING))
        valid_plays = _whole(number, "valid_plays", get("valid_plays", MISSING))
        watch_minutes = _whole(number, "watch_minutes", get("watch_minutes", MISSING))
        ad_revenue = _whole(number, "ad_revenue", get("ad_revenue", MISSING))
        if valid_plays > plays:
            raise BadRow(number, "valid_plays", "exceeds plays")
        return ReportRow(work, territory, day, plays, valid_plays, watch_minutes, ad_revenue, currency)

    # One value checked alone (a BadRow then numbers no row): for readers that check a column's
    # distinct values once.
    def work(self, value: object) -> bytes:
        return self._work(0, value)

    def day(self, value: object) -> int:
        return self._day(0, value)

    def territory(self, value: object) -> str:
        return self._territory(0, value)

    def currency(self, value: object) -> str:
        return self._currency(0, value)

    def _territory(self, number: int, value: object) -> str:
        return self._code(number, "territory", value, _TERRITORIES, "an ISO 3166-1 alpha-2 code")

    def _currency(self, number: int, value: object) -> str:
        return self._code(number, "currency", value, CURRENCIES, "an ISO 4217 currency")

    def _remember(self, cache: dict[K, V], key: K, value: V) -> V:
        if len(cache) >= self.CACHE_LIMIT:
            cache.clear()
        cache[key] = value
        return value

    def _work(self, number: int, value: object) -> bytes:
        found = self._works.get(value) if type(value) is str else None
        if found is not None:
            return found
        if value is MISSING:
            _missing(number, "work")
        work = str(value).strip().lower().removeprefix("0x")
        if len(work) != 64 or not all(c in "0123456789abcdef" for c in work):
            raise BadRow(number, "work", "is not a work id (64 hex characters)")
        return self._remember(self._works, value, bytes.fromhex(work)) if type(value) is str else bytes.fromhex(work)

    def _day(self, number: int, value: object) -> int:
        found = self._days.get(value) if type(value) is str else None
        if found is not None:
            return found
        if value is MISSING:
            _missing(number, "date")
        try:
            day = day_number(date.fromisoformat(str(value)))
        except ValueError:
            raise BadRow(number, "date", "is not a YYYY-MM-DD date") from None
        return self._remember(self._days, value, day) if type(value) is str else day

    def _code(self, number: int, field: str, value: object, known: frozenset[str], what: str) -> str:
        key = (field, value) if type(value) is str else None
        found = self._codes.get(key) if key else None
        if found is not None:
            return found
        if value is MISSING:
            _missing(number, field)
        code = str(value).strip().upper()
        if code not in known:
            raise BadRow(number, field, f"{code!r} is not {what}")
        return self._remember(self._codes, key, code) if key else code


def parse_row(number: int, raw: dict[str, Any]) -> ReportRow:
    return RowParser()(number, raw)


def header_problems(names: Iterable[str]) -> list[tuple[str, str]]:
    """(field, problem) for each fault of a CSV header: a column the ledger does not know (with
    the one it most likely means), a column named twice, a column left out."""
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name or not name.strip():
            problems.append(("header", f"column {position} has no name"))
        elif name not in _COLUMNS:
            problems.append((column_name(name), unknown_column(name)))
        elif name in seen:
            problems.append((name, "is named twice"))
        seen.add(name)
    missing = [c for c in COLUMNS if c not in seen]
    if missing:
        problems.append(
            (
                "header",
                f"missing columns: {', '.join(sorted(missing))} "
                "(every column is needed; a quantity is 0 where there is none)",
            )
        )
    return problems


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


def csv_items(lines: Iterable[str]) -> Iterator[tuple[int, object]]:
    """(number, row as read) after the header is checked: exactly the report's columns, each once.
    A faulty header comes as BadRows numbered 0 and ends the items (no row can be read by it); a
    row with more or fewer values than the header comes as a BadRow in the row's place."""
    reader = csv.DictReader(lines, restval=MISSING)  # type: ignore[call-overload]  # typeshed wants a str restval
    number = 0
    try:
        problems = header_problems(reader.fieldnames or ())
        if problems:
            for field, problem in problems:
                yield 0, BadRow(0, field, problem)
            return
        last = reader.fieldnames[-1]
        for number, raw in enumerate(reader, start=1):
            if None in raw:
                yield number, BadRow(number, "row", f"has {len(raw[None])} more values than the header has columns")
            elif raw[last] is MISSING:
                yield number, BadRow(number, "row", "has fewer values than the header has columns")
            else:
                yield number, raw
    except csv.Error as exc:
        raise BadRow(number + 1, "row", f"is not valid CSV: {exc}") from None


def csv_rows(lines: Iterable[str]) -> Iterator[ReportRow]:
    parse = RowParser()
    for number, raw in csv_items(lines):
        if isinstance(raw, BadRow):
            raise raw
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

    def readinto(self, buffer: Any) -> int:
        data = self._head or self._rest.read(len(buffer))
        self._head = b""
        data = data[: len(buffer)]
        self.since_item += len(data)
        if self.since_item > MAX_ITEM_BYTES:
            raise _ItemTooLong()
        self._scanner.feed(data)
        buffer[: len(data)] = data
        return len(data)
