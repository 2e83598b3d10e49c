"""A play report checked row by row without keeping anything, so that a platform sees every bad
row at once (ingesting stops at the first). Same parser, same rules as `ingest`."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import IO, Iterator

from sqlmodel import select

from ledger.db import session
from ledger.models import Work
from ledger.reports.rows import BadRow, RowParser, csv_items, json_items, ndjson_items

MAX_PROBLEMS = 200


@dataclass
class RowCheck:
    rows: int = 0
    problems: list[dict] = field(default_factory=list)
    truncated: bool = False

    def add(self, number: int, column: str, problem: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append({"row": number, "field": column, "problem": problem})
        else:
            self.truncated = True


def _raw_rows(kind: str, stream: IO[bytes]) -> Iterator[tuple[int, object]]:
    """(row number, the row as read) pairs; a row that cannot be read at all is a BadRow."""
    if kind == "text/csv":
        yield from csv_items(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
    elif kind == "application/json":
        yield from json_items(stream)
    else:
        yield from ndjson_items(io.TextIOWrapper(stream, encoding="utf-8"))


def check_rows(engine, kind: str, stream: IO[bytes]) -> RowCheck:
    result = RowCheck()
    parse = RowParser()
    seen: dict[bytes, list[int]] = {}
    try:
        for number, raw in _raw_rows(kind, stream):
            result.rows = number
            try:
                if isinstance(raw, BadRow):
                    raise raw
                row = parse(number, raw)
            except BadRow as bad:
                result.add(bad.number, bad.field, bad.problem)
                continue
            seen.setdefault(row.work_id, []).append(number)
    except BadRow as bad:
        result.add(bad.number, bad.field, bad.problem)
    except UnicodeDecodeError as exc:
        result.add(result.rows + 1, "row", f"cannot be read: {exc}")
    if seen:
        with session(engine) as db:
            known = {bytes.fromhex(w[2:]) for w in db.exec(select(Work.work_id)).all()}
        for work_id, numbers in seen.items():
            if work_id not in known:
                for number in numbers:
                    result.add(number, "work", f"0x{work_id.hex()} is not a registered work")
    result.problems.sort(key=lambda p: p["row"])
    return result
