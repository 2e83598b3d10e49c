"""A play report checked row by row without keeping anything, so that a platform sees every bad
row at once. Same readers, same rules, same problems as `ingest` (which refuses a report with
the same list)."""

from __future__ import annotations

from typing import IO

from sqlalchemy import Engine
from sqlmodel import select

from ledger.chain.hexes import from_0x
from ledger.db import session
from ledger.models import Work
from ledger.reports.blocks import item_blocks, items_of, numbered
from ledger.reports.problems import MAX_LISTED, Problems

MAX_PROBLEMS = MAX_LISTED
ANY_DAY = (0, 1 << 31)  # a check is not told the report's period: any day is in it


def check_rows(engine: Engine, kind: str, stream: IO[bytes], currency: str) -> Problems:
    """Every problem of a report in `currency` (the ledger's): its rows are read block by block
    and nothing of a block is kept past it."""
    with session(engine) as db:
        works = {from_0x(w): pk for pk, w in db.exec(select(Work.id, Work.work_id)).all()}
    result = Problems()
    for _ in numbered(item_blocks(items_of(kind, stream), currency, *ANY_DAY), works, result):
        pass
    return result
