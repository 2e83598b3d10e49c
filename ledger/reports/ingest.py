"""Receiving a play report: rows stream in, are checked, stored and summed; then the signed
summary is checked (or, for a custodial platform, signed here) and anchored on chain.

Nothing of a report counts until it is complete: its rows are stored under a report in
state `receiving`, and any failure (a bad row, a bad signature, a dropped connection)
deletes them. A report with bad rows is read to its end all the same, so that its refusal
lists every bad row (up to a cap, with their count); nothing of it is signed or anchored.
The same report sent again is recognised by (platform, report id) and its content; the same
id with other content is refused.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from eth_utils import keccak
from sqlalchemy import Engine, delete
from sqlalchemy.pool import PoolProxiedConnection
from sqlmodel import Session, col, select

from ledger.advisory import attempt
from ledger.bulk import insert_columns
from ledger.chain.errors import ChainUnavailable
from ledger.chain.hexes import ZERO32, from_0x, to_0x
from ledger.currencies import CURRENCIES
from ledger.days import day_date
from ledger.db import commit_or, must_get, session
from ledger.errors import Conflict, Forbidden, InvalidInput
from ledger.models import Account, ChainOp, PlayReport, PlayRowRecord, ReportStatus, Role, SettlementPeriod, Work
from ledger.reports import signing
from ledger.reports.blocks import Block, numbered, shared_hashing
from ledger.reports.coverage import Coverage
from ledger.reports.digest import ReportDigest
from ledger.reports.problems import Problems
from ledger.reports.rows import BadRow

if TYPE_CHECKING:
    from ledger.service import Ledger

log = logging.getLogger("reelledger.reports")

DAY = 86_400
MAX_PERIOD_DAYS = 366
ROW_COLUMNS = (
    "report_pk",
    "work_pk",
    "territory",
    "day",
    "plays",
    "valid_plays",
    "watch_minutes",
    "ad_revenue",
    "held",
)


@dataclass(frozen=True)
class ReportHeader:
    report_id: str
    first_day: int  # days since 1970-01-01
    end_day: int  # exclusive
    currency: str
    supersedes: str | None = None  # the platform's id of the report this one corrects


Source = Callable[["ReportHeader"], Iterator[Block]]  # a report's rows, in blocks


@dataclass(frozen=True)
class Ingested:
    report: PlayReport
    op: ChainOp | None
    created: bool  # False when this was a resend of a report already received


def summary_of(report: PlayReport, platform: Account, supersedes_hash: bytes = ZERO32) -> signing.ReportSummary:
    assert report.rows_root is not None  # a report is summed up once all its rows are read
    return signing.ReportSummary(
        platform=platform.address,
        report_id=from_0x(report.report_hash),
        period_start=report.first_day * DAY,
        period_end=report.end_day * DAY,
        currency=report.currency,
        row_count=report.row_count,
        plays=int(report.plays),
        valid_plays=int(report.valid_plays),
        watch_minutes=int(report.watch_minutes),
        ad_revenue=int(report.ad_revenue),
        rows_root=from_0x(report.rows_root),
        supersedes=supersedes_hash,
    )


RECEPTION_WAIT = 2.0
"""Seconds an upload waits for its report's reception lock: the sweep of interrupted uploads
(`discard_interrupted`) holds it for one read; another upload of the report holds it throughout."""


def ingest(
    ledger: Ledger,
    platform: Account,
    header: ReportHeader,
    *,
    source: Callable[[ReportHeader], Iterator[Block]],
    signature: bytes | None,
) -> Ingested:
    """Receive a report whose rows `source(header)` yields in blocks (see ledger.reports.blocks)."""
    if platform.role != Role.platform:
        raise Forbidden("only a platform account posts play reports")
    _check_header(ledger, header)
    with attempt(ledger.engine, reception_lock(platform.id, header.report_id), wait=RECEPTION_WAIT) as ours:
        if not ours:  # another replica receives it now
            raise Conflict("report_in_flight", f"report {header.report_id!r} is being received right now")
        return _ingest(ledger, platform, header, source, signature)


def reception_lock(platform_id: int, report_id: str) -> str:
    """The advisory lock a process holds while it receives the report: a report `receiving`
    whose lock is free was left by a process that stopped (see `discard_interrupted`)."""
    return f"report-reception:{platform_id}:{report_id}"


def _ingest(
    ledger: Ledger, platform: Account, header: ReportHeader, source: Source, signature: bytes | None
) -> Ingested:
    with session(ledger.engine) as db:
        existing = _report(db, platform.id, header.report_id)
        if existing is not None and existing.status != ReportStatus.receiving:
            return _resend(db, existing, header, source(header))
        superseded = _superseded(db, platform, header)
        period = _period(db, platform.id, header)
        if period is not None and superseded is None:
            raise Conflict(
                "period_committed",
                f"the period {_days(header)} is already committed; send a correction (supersedes) instead",
                period_id=period.period_id,
            )
        if existing is not None:  # another upload of it is arriving now (a stopped one is removed at start-up)
            raise Conflict(
                "report_in_flight",
                f"report {header.report_id!r} is being received right now; "
                "if that upload failed, send it again in a moment",
            )
        report = PlayReport(
            platform_id=platform.id,
            report_id=header.report_id,
            report_hash=to_0x(keccak(text=header.report_id)),
            currency=header.currency,
            first_day=header.first_day,
            end_day=header.end_day,
            supersedes_pk=superseded.id if superseded else None,
        )
        db.add(report)
        commit_or(db, Conflict("report_in_flight", f"report {header.report_id!r} is being received right now"))
    try:
        _receive(ledger, report, platform, source(header))
        summary = summary_of(report, platform, from_0x(superseded.report_hash) if superseded else ZERO32)
        signature = _signature(ledger, platform, summary, signature)
        accepted = _accept(ledger, report, platform, summary, signature, superseded)
    except BaseException:
        _discard(ledger, report.id)
        raise
    ledger.metrics.report_accepted(accepted.report.row_count)
    return accepted


def _check_header(ledger: Ledger, header: ReportHeader) -> None:
    if not 0 < len(header.report_id) <= 200 or not header.report_id.isprintable():
        raise InvalidInput("report_id", "a report id is 1 to 200 printable characters")
    if header.currency not in CURRENCIES:
        raise InvalidInput("currency", f"{header.currency!r} is not an ISO 4217 currency")
    if header.currency != ledger.settings.settlement_currency:
        raise InvalidInput(
            "currency", f"this ledger settles in {ledger.settings.settlement_currency}, not {header.currency}"
        )
    if not 0 <= header.first_day < header.end_day or header.end_day - header.first_day > MAX_PERIOD_DAYS:
        raise InvalidInput("period", f"a period is 1 to {MAX_PERIOD_DAYS} days, its end after its start")


def _days(header: ReportHeader) -> str:
    from datetime import timedelta

    first = day_date(header.first_day)
    return f"{first} to {first + timedelta(days=header.end_day - header.first_day - 1)}"


def _report(db: Session, platform_id: int, report_id: str) -> PlayReport | None:
    return db.exec(
        select(PlayReport).where(PlayReport.platform_id == platform_id, PlayReport.report_id == report_id)
    ).first()


def _period(db: Session, platform_id: int, header: ReportHeader | PlayReport) -> SettlementPeriod | None:
    return db.exec(
        select(SettlementPeriod).where(
            SettlementPeriod.platform_id == platform_id,
            SettlementPeriod.currency == header.currency,
            SettlementPeriod.first_day == header.first_day,
            SettlementPeriod.end_day == header.end_day,
        )
    ).first()


def _superseded(db: Session, platform: Account, header: ReportHeader) -> PlayReport | None:
    if header.supersedes is None:
        return None
    old = _report(db, platform.id, header.supersedes)
    if old is None or old.status == ReportStatus.receiving:
        raise InvalidInput("supersedes", f"there is no report {header.supersedes!r} to correct")
    if (
        old.status == ReportStatus.superseded
        or db.exec(
            select(PlayReport.id).where(PlayReport.supersedes_pk == old.id, PlayReport.status != ReportStatus.receiving)
        ).first()
    ):
        raise Conflict(
            "already_corrected", f"report {header.supersedes!r} was already corrected; correct the latest one"
        )
    if (old.currency, old.first_day, old.end_day) != (header.currency, header.first_day, header.end_day):
        raise InvalidInput("supersedes", "a correction covers the same period and currency as the report it corrects")
    return old


def _resend(db: Session, existing: PlayReport, header: ReportHeader, blocks: Iterator[Block]) -> Ingested:
    """The report is known: the same content is a harmless resend, other content a conflict."""
    digest = ReportDigest(header.currency, header.first_day, header.end_day)
    root = None
    for block in blocks:
        if block.bad:
            break
        digest.merge(block.digest)
    else:
        try:
            root = to_0x(digest.root())
        except BadRow:
            root = None
    same = (
        root == existing.rows_root
        and digest.row_count == existing.row_count
        and (header.currency, header.first_day, header.end_day)
        == (existing.currency, existing.first_day, existing.end_day)
    )
    if not same:
        raise Conflict(
            "report_id_reused",
            f"report {existing.report_id!r} was received before with other content",
            report_id=existing.report_id,
        )
    return Ingested(existing, db.get(ChainOp, existing.op_id) if existing.op_id else None, created=False)


def _receive(ledger: Ledger, report: PlayReport, platform: Account, blocks: Iterator[Block]) -> None:
    """Store and sum every row, block by block; the totals and root land on `report`."""
    engine = ledger.engine
    with session(engine) as db:
        works = {from_0x(w): pk for pk, w in db.exec(select(Work.id, Work.work_id)).all()}
        coverage = Coverage.load(db, platform.id)
    digest = ReportDigest(report.currency, report.first_day, report.end_day)
    dialect = engine.dialect.name
    raw = engine.raw_connection()
    held = 0
    problems = Problems()
    try:
        for (rows, work_pk), block_digest in numbered(blocks, works, problems):
            digest.merge(block_digest)
            if problems:  # the report is refused: read on only to name the rest of its problems
                continue
            unlicensed = coverage.held(rows, work_pk)
            held += int(unlicensed.sum())
            columns = (
                np.full(len(rows), report.id, dtype=np.int64),
                work_pk,
                rows.territory_codes(),
                rows.day,
                rows.plays,
                rows.valid_plays,
                rows.watch_minutes,
                rows.ad_revenue,
                unlicensed,
            )
            _unflushed(raw, dialect)
            insert_columns(raw, dialect, "play_row", dict(zip(ROW_COLUMNS, columns, strict=True)))
            raw.commit()
        if not problems:
            try:
                root = digest.root(shared_hashing(ledger.parse_pool))
            except BadRow as exc:
                problems.add(0, exc.field, exc.problem)
        if problems:
            raise problems.refusal()
    finally:
        raw.close()
    report.row_count, report.held_rows = digest.row_count, held
    report.plays, report.valid_plays = digest.plays, digest.valid_plays
    report.watch_minutes, report.ad_revenue = digest.watch_minutes, digest.ad_revenue
    report.rows_root = to_0x(root)


def _unflushed(raw: PoolProxiedConnection, dialect: str) -> None:
    """Let PostgreSQL commit this transaction of a receiving report's rows without waiting for its
    log to reach the disk: if the server stops first, the report is discarded at start-up
    anyway, and the report's acceptance, a later commit that waits, flushes them with it."""
    if dialect == "postgresql":
        cursor = raw.cursor()
        try:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
        finally:
            cursor.close()


def _signature(ledger: Ledger, platform: Account, summary: signing.ReportSummary, signature: bytes | None) -> bytes:
    chain = ledger.chain
    where = (chain.chain_id, chain.addresses["SettlementRegistry"])
    if signature is None:
        if not platform.custodial:
            raise InvalidInput(
                "signature",
                "sign the report's EIP-712 summary with the platform's key and send it as X-Report-Signature",
            )
        return signing.sign(summary, ledger.keys.account(platform.address).key, *where)
    try:
        signing.check(summary, signature, *where)
    except signing.BadSignature as exc:
        raise InvalidInput("signature", str(exc)) from None
    return signature


def _accept(
    ledger: Ledger,
    received: PlayReport,
    platform: Account,
    summary: signing.ReportSummary,
    signature: bytes,
    superseded: PlayReport | None,
) -> Ingested:
    from ledger.settlement import corrections
    from ledger.settlement.locks import platform_lock

    chain = ledger.chain
    with session(ledger.engine) as db, platform_lock(db, platform.id):
        if superseded is None and _period(db, platform.id, received) is not None:
            raise Conflict(
                "period_committed",
                "the period was closed while this report was arriving; "
                "send it as a correction (supersedes) of one of its reports",
            )
        if superseded is not None and (
            must_get(db, PlayReport, superseded.id).status == ReportStatus.superseded
            or db.exec(
                select(PlayReport.id).where(
                    PlayReport.supersedes_pk == superseded.id, PlayReport.status == ReportStatus.accepted
                )
            ).first()
        ):
            raise Conflict(
                "already_corrected", f"report {superseded.report_id!r} was corrected meanwhile; correct the latest one"
            )
        report = must_get(db, PlayReport, received.id)
        for name in ("row_count", "held_rows", "plays", "valid_plays", "watch_minutes", "ad_revenue", "rows_root"):
            setattr(report, name, getattr(received, name))
        report.signature = to_0x(signature)
        report.digest = to_0x(signing.signable_hash(summary, chain.chain_id, chain.addresses["SettlementRegistry"]))
        report.status = ReportStatus.accepted
        if superseded is not None and corrections.price(db, report) == 0 and report.correction_inputs is None:
            old = must_get(db, PlayReport, superseded.id)  # its period is not committed: replaced outright
            old.status = ReportStatus.superseded
            db.add(old)
        call = chain.settlement.anchor_report(summary, signature)
        op = chain.outbox.record(
            db, f"anchor-report:{chain.chain_id}:{platform.address}:{report.report_hash}", chain.signer, call
        )
        report.op_id = op.id
        db.add(report)
        db.commit()
        db.refresh(report)
    try:
        chain.outbox.send(op.id)
        op = ledger.settle(op.id)
    except ChainUnavailable:
        log.warning("report %s is stored; its anchoring waits for the chain node", report.report_id)
        op = chain.outbox.get(op.id)
    return Ingested(report, op, created=True)


def _discard(ledger: Ledger, report_pk: int) -> None:
    """Remove an incomplete report and whatever of its rows arrived."""
    with session(ledger.engine) as db:
        report = db.get(PlayReport, report_pk)
        if report is None or report.status != ReportStatus.receiving:
            return
        db.exec(delete(PlayRowRecord).where(col(PlayRowRecord.report_pk) == report_pk))
        db.delete(report)
        db.commit()


def discard_interrupted(engine: Engine) -> int:
    """Remove reports whose upload a stopped process left half-received: at start-up, and on
    PostgreSQL every few seconds in one replica, leaving alone those another replica is still
    receiving (it holds their reception lock). Returns how many were removed."""
    with session(engine) as db:
        receiving = db.exec(
            select(PlayReport.id, PlayReport.platform_id, PlayReport.report_id).where(
                PlayReport.status == ReportStatus.receiving
            )
        ).all()
    removed = 0
    for report_pk, platform_id, report_id in receiving:
        with attempt(engine, reception_lock(platform_id, report_id)) as stopped, session(engine) as db:
            report = db.get(PlayReport, report_pk)  # read under the lock: accepted meanwhile, it stays
            if not stopped or report is None or report.status != ReportStatus.receiving:
                continue
            db.exec(delete(PlayRowRecord).where(col(PlayRowRecord.report_pk) == report_pk))
            db.exec(delete(PlayReport).where(col(PlayReport.id) == report_pk))
            db.commit()
            removed += 1
    return removed
