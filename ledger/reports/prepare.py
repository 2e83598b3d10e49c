"""The platform's side of a report: sum and root its rows and sign the summary, locally,
before sending. Used by the CLI and by anyone who holds their own key."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

from eth_utils import keccak

from ledger.reports import signing
from ledger.reports.digest import ReportDigest
from ledger.reports.rows import ReportRow, csv_rows, json_rows, ndjson_rows

DAY = 86_400
ZERO32 = b"\0" * 32
CONTENT_TYPES = {"ndjson": "application/x-ndjson", "jsonl": "application/x-ndjson", "csv": "text/csv",
                 "json": "application/json"}


def rows_of_file(path: Path, kind: str) -> Iterator[ReportRow]:
    if kind == "json":
        with path.open("rb") as stream:
            yield from json_rows(stream)
        return
    with path.open("r", encoding="utf-8-sig", newline="") as text:
        yield from (csv_rows(text) if kind == "csv" else ndjson_rows(text))


def rows_of_text(text: str) -> Iterator[ReportRow]:
    return ndjson_rows(io.StringIO(text))


def summarise(
    rows: Iterator[ReportRow], *, platform: str, report_id: str, first_day: int, end_day: int, currency: str,
    supersedes: str | None = None,
) -> signing.ReportSummary:
    digest = ReportDigest(currency, first_day, end_day)
    for row in rows:
        digest.add(row)
    return signing.ReportSummary(
        platform=platform, report_id=keccak(text=report_id), period_start=first_day * DAY, period_end=end_day * DAY,
        currency=currency, row_count=digest.row_count, plays=digest.plays, valid_plays=digest.valid_plays,
        watch_minutes=digest.watch_minutes, ad_revenue=digest.ad_revenue, rows_root=digest.root(),
        supersedes=keccak(text=supersedes) if supersedes else ZERO32,
    )


def sign_summary(summary: signing.ReportSummary, private_key, domain: dict) -> str:
    """Hex signature for the X-Report-Signature header; `domain` is GET /reports/signing-domain's."""
    return "0x" + signing.sign(summary, private_key, domain["chainId"], domain["verifyingContract"]).hex()
