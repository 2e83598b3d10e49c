"""A report's rows in blocks, each parsed, checked and hashed into its own digest.

Parsing and hashing cost far more than storing a row, so NDJSON (one row per line, so it
splits anywhere between lines) is cut into blocks that worker processes parse and hash on the
other cores while this process stores the rows of the blocks before. CSV and JSON go through
the same block protocol in this process.

A block holds the good rows as columns (see ledger.reports.columns) with the digest of exactly
those rows, and the problems of the bad ones, numbered within the block: reading goes on past
a bad row, so that one answer lists them all. A worker reads an NDJSON block the typed way
(ledger.reports.typed_block) and, when that does not take it whole, row by row.
"""

from __future__ import annotations

import io
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import IO, Any, BinaryIO, NamedTuple

import numpy as np

from ledger.chain.hexes import to_0x
from ledger.merkle import hash_pairs
from ledger.reports.columns import Ints, Rows
from ledger.reports.digest import ReportDigest
from ledger.reports.problems import MAX_LISTED, Problems, clip
from ledger.reports.rows import BadRow, ReportRow, RowParser, csv_items, json_items, ndjson_items
from ledger.reports.typed_block import typed_block

BLOCK_BYTES = 1 << 20
IN_FLIGHT = 4
ROWS_PER_BLOCK = 20_000
MAX_LINE_BYTES = 16 << 20
SHARED_PAIRS = 1 << 14  # a Merkle level smaller than this is hashed here: sending it costs about as much


class Block(NamedTuple):
    rows: Rows
    digest: ReportDigest  # of exactly `rows`
    read: int  # rows read, good and bad
    problems: list[tuple[int, str, str]]  # (number within the block, or 0 for the report, field, problem): the first
    bad: int  # how many problems the block has in all
    numbers: list[int] | None = None  # the numbers within the block of `rows`, when some rows were bad


def worker_pool(workers: int) -> Executor:
    """Processes started fresh (not forked from a threaded server)."""
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def shared_hashing(pool: Callable[[], Executor]) -> Callable[[bytes], bytes]:
    """A Merkle level's hashing (see ledger.merkle.packed_root) shared with a worker of `pool`
    when the level is large: the worker hashes the second half of the pairs while this process
    hashes the first."""

    def hash_level(pairs: bytes) -> bytes:
        if len(pairs) < SHARED_PAIRS * 64:
            return hash_pairs(pairs)
        cut = len(pairs) // 128 * 64
        later = pool().submit(hash_pairs, pairs[cut:])
        return hash_pairs(pairs[:cut]) + later.result()

    return hash_level


def _as_tuple(row: ReportRow) -> tuple[Any, ...]:
    return (row.work_id, row.territory, row.day, row.plays, row.valid_plays, row.watch_minutes, row.ad_revenue)


def items_of(kind: str, stream: IO[bytes]) -> Iterator[tuple[int, object]]:
    """(row number, the row as read) of a body of this content type; a row that cannot be read is
    a BadRow in its place, a body that cannot be read further raises one."""
    if kind == "text/csv":
        return csv_items(io.TextIOWrapper(stream, encoding="utf-8-sig", newline=""))
    if kind == "application/json":
        return json_items(stream)
    return ndjson_items(io.TextIOWrapper(stream, encoding="utf-8-sig"))


def item_blocks(
    items: Iterator[tuple[int, object]],
    currency: str,
    first_day: int,
    end_day: int,
    size: int = ROWS_PER_BLOCK,
) -> Iterator[Block]:
    """Blocks of up to `size` rows read from `items` (numbered from the top of the report)."""
    parse = RowParser()
    before = 0  # rows in earlier blocks
    done = False
    while not done:
        digest = ReportDigest(currency, first_day, end_day)
        rows: list[tuple[Any, ...]] = []
        numbers: list[int] = []
        problems: list[tuple[int, str, str]] = []
        bad = read = 0

        def problem(number: int, exc: BadRow) -> None:  # called only within this block's pass, so `problems` is its own
            nonlocal bad
            bad += 1
            if len(problems) < MAX_LISTED:  # noqa: B023
                problems.append((number, clip(exc.field), clip(exc.problem)))  # noqa: B023

        while read < size:
            try:
                item = next(items, None)
            except BadRow as exc:  # nothing further can be read
                problem(exc.number - before if exc.number > 0 else 0, exc)
                done = True
                break
            except UnicodeDecodeError:
                problem(read + 1, BadRow(0, "body", "the rows are not UTF-8 text"))
                done = True
                break
            if item is None:
                done = True
                break
            number, raw = item
            if number <= 0:  # about the whole report (a CSV header)
                assert isinstance(raw, BadRow)  # only a faulty header is numbered 0
                problem(0, raw)
                continue
            read = number - before
            try:
                if isinstance(raw, BadRow):
                    raise raw
                row = parse(number, raw)
                digest.add(row)
            except BadRow as exc:
                problem(read, exc)
                continue
            rows.append(_as_tuple(row))
            numbers.append(read)
        if read or bad:
            yield Block(Rows.of_tuples(rows), digest, read, problems, bad, numbers if bad else None)
        before += read


def parse_ndjson_block(data: bytes, currency: str, first_day: int, end_day: int) -> Block:
    """Runs in a worker process: all of `data`'s lines as one block."""
    digest = ReportDigest(currency, first_day, end_day)
    rows = typed_block(data, _PARSER, digest)
    if rows is not None:
        return Block(rows, digest, len(rows), [], 0)
    lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
    for block in item_blocks(ndjson_items(lines), currency, first_day, end_day, size=1 << 62):
        return block
    return Block(Rows.of_tuples([]), digest, 0, [], 0)


_PARSER = RowParser()  # a worker's: its checked values serve every block it reads


def ndjson_blocks(stream: BinaryIO, pool: Executor, currency: str, first_day: int, end_day: int) -> Iterator[Block]:
    """Blocks of whole lines handed to `pool`, their results yielded in order."""
    pending: deque[Future[Block]] = deque()
    carry, first = b"", True
    try:
        while chunk := stream.read(BLOCK_BYTES):
            if first:
                chunk, first = chunk.removeprefix(b"\xef\xbb\xbf"), False
            data = carry + chunk
            cut = data.rfind(b"\n")
            if cut < 0:
                if len(data) > MAX_LINE_BYTES:
                    while pending:
                        yield pending.popleft().result()
                    yield Block(
                        Rows.of_tuples([]),
                        ReportDigest(currency, first_day, end_day),
                        0,
                        [(1, "row", "a line is longer than 16 MiB")],
                        1,
                    )
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


class Keyed(NamedTuple):
    rows: Rows
    work_pk: Ints  # each row's work, as its key in the database


def numbered(
    blocks: Iterator[Block], works: dict[bytes, int], problems: Problems
) -> Iterator[tuple[Keyed, ReportDigest]]:
    """Each block's good rows with their works' keys, and the block's digest; every problem (a row
    that does not parse, a work not registered here) goes to `problems`, numbered from the top
    of the report."""
    for block in blocks:
        offset = problems.rows
        found = [(offset + n if n > 0 else 0, f, p) for n, f, p in block.problems]
        rows = block.rows
        keys = np.array([works.get(work, -1) for work in rows.works], dtype=np.int64)
        work_pk = keys[rows.work]
        unknown = work_pk < 0
        if unknown.any():
            numbers = block.numbers or range(1, len(rows) + 1)
            for i in np.flatnonzero(unknown).tolist():
                work = rows.works[rows.work[i]]
                found.append((offset + numbers[i], "work", f"{to_0x(work)} is not a registered work"))
            rows, work_pk = rows.take(~unknown), work_pk[~unknown]
        found.sort(key=lambda p: p[0])
        problems.take(found, block.bad + int(unknown.sum()))
        problems.rows += block.read
        yield Keyed(rows, work_pk), block.digest
