"""The platform's side of a report: sum and root its rows and sign the summary, locally,
before sending. Used by the CLI and by anyone who holds their own key."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from eth_utils import keccak

from ledger.chain.hexes import ZERO32, to_0x
from ledger.reports import signing
from ledger.reports.blocks import item_blocks, items_of, numbered
from ledger.reports.digest import ReportDigest
from ledger.reports.problems import Problems
from ledger.reports.rows import BadRow, ReportRow, ndjson_rows

DAY = 86_400
CONTENT_TYPES = {
    "ndjson": "application/x-ndjson",
    "jsonl": "application/x-ndjson",
    "csv": "text/csv",
    "json": "application/json",
}


def rows_of_text(text: str) -> Iterator[ReportRow]:
    return ndjson_rows(io.StringIO(text))


class _AnyWork(dict[bytes, int]):
    """Works as a platform sees them locally: any work id may be registered (the service checks)."""

    def get(self, key: bytes, default: object = None) -> int:  # every key is there
        return 0


def check_file(path: Path, kind: str, *, first_day: int, end_day: int, currency: str) -> tuple[ReportDigest, Problems]:
    """A file's rows summed, and every problem found in them (all of them counted, the first listed)."""
    digest = ReportDigest(currency, first_day, end_day)
    problems = Problems()
    with path.open("rb") as stream:
        blocks = item_blocks(items_of(CONTENT_TYPES[kind], stream), currency, first_day, end_day)
        for _, part in numbered(blocks, _AnyWork(), problems):
            digest.merge(part)
    if not problems:
        try:
            digest.root()
        except BadRow as exc:
            problems.add(0, exc.field, exc.problem)
    return digest, problems


def summarise(
    rows: Iterator[ReportRow],
    *,
    platform: str,
    report_id: str,
    first_day: int,
    end_day: int,
    currency: str,
    supersedes: str | None = None,
) -> signing.ReportSummary:
    digest = ReportDigest(currency, first_day, end_day)
    for row in rows:
        digest.add(row)
    return summary_of_digest(digest, platform=platform, report_id=report_id, supersedes=supersedes)


def summary_of_digest(
    digest: ReportDigest, *, platform: str, report_id: str, supersedes: str | None = None
) -> signing.ReportSummary:
    first_day, end_day, currency = digest.first_day, digest.end_day, digest.currency
    return signing.ReportSummary(
        platform=platform,
        report_id=keccak(text=report_id),
        period_start=first_day * DAY,
        period_end=end_day * DAY,
        currency=currency,
        row_count=digest.row_count,
        plays=digest.plays,
        valid_plays=digest.valid_plays,
        watch_minutes=digest.watch_minutes,
        ad_revenue=digest.ad_revenue,
        rows_root=digest.root(),
        supersedes=keccak(text=supersedes) if supersedes else ZERO32,
    )


def sign_summary(summary: signing.ReportSummary, private_key: bytes | str, domain: dict[str, Any]) -> str:
    """Hex signature for the X-Report-Signature header; `domain` is GET /reports/signing-domain's."""
    return to_0x(signing.sign(summary, private_key, domain["chainId"], domain["verifyingContract"]))
