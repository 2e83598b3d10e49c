"""A report's rows in blocks, each parsed, checked and hashed into its own digest.

Parsing and hashing cost far more than storing a row, so NDJSON (one row per line, so it
splits anywhere between lines) is cut into blocks that worker processes parse and hash on the
other cores while this process stores the rows of the blocks before. CSV and JSON go through
the same block protocol in this process.

A block is (rows, digest, error): the rows as tuples (work id, territory, day, plays, valid
plays, watch minutes, ad revenue), the digest of exactly those rows, and a BadRow's (number
within the block, field, problem) when the block stopped at a bad row.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import BinaryIO, Iterator

from ledger.reports.digest import ReportDigest
from ledger.reports.rows import BadRow, ReportRow, ndjson_rows

BLOCK_BYTES = 1 << 20
IN_FLIGHT = 4
ROWS_PER_BLOCK = 20_000
MAX_LINE_BYTES = 16 << 20

Block = tuple[list[tuple], ReportDigest, tuple | None]


def worker_pool(workers: int) -> Executor:
    """Processes started fresh (not forked from a threaded server)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def _as_tuple(row: ReportRow) -> tuple:
    return (row.work_id, row.territory, row.day, row.plays, row.valid_plays, row.watch_minutes, row.ad_revenue)


def parse_ndjson_block(data: bytes, currency: str, first_day: int, end_day: int) -> Block:
    """Runs in a worker process."""
    digest = ReportDigest(currency, first_day, end_day)
    rows: list[tuple] = []
    try:
        for row in ndjson_rows(data.decode("utf-8").splitlines()):
            digest.add(row)
            rows.append(_as_tuple(row))
    except BadRow as exc:
        return rows, digest, (exc.number, exc.field, exc.problem)
    except UnicodeDecodeError:
        return rows, digest, (len(rows) + 1, "body", "the rows are not UTF-8 text")
    return rows, digest, None


def ndjson_blocks(stream: BinaryIO, pool: Executor, currency: str, first_day: int, end_day: int) -> Iterator[Block]:
    """Blocks of whole lines handed to `pool`, their results yielded in order."""
    pending: deque = deque()
    carry, first = b"", True
    try:
        while chunk := stream.read(BLOCK_BYTES):
            if first:
                chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False
            data = carry + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                if len(data) > MAX_LINE_BYTES:
                    yield [], ReportDigest(currency, first_day, end_day), (1, "row", "a line is longer than 16 MiB")
                    return
                carry = data
                continue
            carry = data[cut + 1 :]
            pending.append(pool.submit(parse_ndjson_block, data[: cut + 1], currency, first_day, end_day))
            while len(pending) >= IN_FLIGHT:
                yield pending.popleft().result()
        if carry.strip():
            pending.append(pool.submit(parse_ndjson_block, carry, currency, first_day, end_day))
        while pending:
            yield pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


def row_blocks(rows: Iterator[ReportRow], currency: str, first_day: int, end_day: int) -> Iterator[Block]:
    """Blocks of rows parsed in this process (CSV, JSON)."""
    before = 0  # rows in earlier blocks: the parsers number rows from the start of the report
    while True:
        digest = ReportDigest(currency, first_day, end_day)
        block: list[tuple] = []
        while len(block) < ROWS_PER_BLOCK:
            try:
                row = next(rows, None)
            except BadRow as exc:
                yield block, digest, (exc.number - before if exc.number > 0 else exc.number, exc.field, exc.problem)
                return
            if row is None:
                break
            try:
                digest.add(row)
            except BadRow as exc:
                yield block, digest, (exc.number, exc.field, exc.problem)
                return
            block.append(_as_tuple(row))
        if not block:
            return
        before += len(block)
        yield block, digest, None
