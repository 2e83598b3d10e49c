"""Revenue splits: each change is a new immutable version on chain, set by the work's owner."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, time

from eth_utils import is_address, to_checksum_address
from sqlmodel import Session, col, select

from ledger.accounts import authorise_service
from ledger.chain.hexes import from_0x
from ledger.chain.registries import TOTAL_BPS, SplitVersion
from ledger.db import commit_or, must_get, session
from ledger.errors import Forbidden, InvalidInput
from ledger.idempotency import check_same, earlier_request, key_in_use, request_digest
from ledger.limits import HORIZON_REASON, horizon_day
from ledger.models import Account, ChainOp, OpStatus, Role, SplitRecord
from ledger.op_views import OpView
from ledger.service import Ledger
from ledger.works import get_work

MAX_PAYEES = 64


@dataclass(frozen=True)
class SplitView(OpView):
    record: SplitRecord
    op: ChainOp


def set_split(
    ledger: Ledger,
    account: Account,
    work_id: str,
    payees: list[tuple[str, int]],
    *,
    effective_from: int = 0,
    idempotency_key: str | None = None,
) -> SplitView:
    """Add a split version; shares are basis points that must sum to exactly 10,000. An
    `effective_from` of 0 means from the start for the work's first version (it also splits what
    the work earned before) and when mined for a later one; once confirmed, the record holds the
    start the chain recorded."""
    work = get_work(ledger, account, work_id).work
    if work.owner_id != account.id:
        raise Forbidden("only the work's owner sets its split")
    _check(payees)
    horizon = int(datetime.combine(horizon_day(), time(), UTC).timestamp())
    if not 0 <= effective_from <= horizon:
        raise InvalidInput(
            "effective_from",
            "a split version starts at 0 (from the start for a work's first version, when mined for a later one) "
            f"or by Unix second {horizon} at the latest; {HORIZON_REASON}",
        )
    authorise_service(ledger, account)
    addresses = [to_checksum_address(a) for a, _ in payees]
    shares = [bps for _, bps in payees]
    chain = ledger.chain
    digest = request_digest(
        "split",
        work_id=work.work_id,
        payees=[[a, b] for a, b in zip(addresses, shares, strict=True)],
        effective_from=effective_from,
    )
    with session(ledger.engine) as db:
        if idempotency_key:
            again = earlier_request(db, SplitRecord, idempotency_key, setter_id=account.id)
            if again is not None:
                check_same(again, idempotency_key, digest, "split")
                return _view(ledger, db, again)
        call = ledger.registries.set_split_call(
            work_id=from_0x(work.work_id), payees=addresses, bps=shares, effective_from=effective_from
        )
        op = chain.outbox.record(db, f"split:{account.id}:{idempotency_key or uuid.uuid4().hex}", chain.signer, call)
        record = SplitRecord(
            work_pk=work.id,
            setter_id=account.id,
            payees=[{"address": a, "bps": b} for a, b in zip(addresses, shares, strict=True)],
            effective_from=effective_from,
            idempotency_key=idempotency_key,
            request_digest=digest,
            op_id=op.id,
        )
        db.add(record)
        commit_or(db, key_in_use(idempotency_key))
    ledger.finish_write(op.id, SplitRecord, record.id)
    with session(ledger.engine) as db:
        return _view(ledger, db, must_get(db, SplitRecord, record.id))


def _view(ledger: Ledger, db: Session, row: SplitRecord) -> SplitView:
    """The split as answered, with what the chain recorded once it has confirmed it (a retry of a
    request first answered 202 included)."""
    op = must_get(db, ChainOp, row.op_id)
    if op.status == OpStatus.confirmed and row.version is None:
        _record_confirmed(ledger, row, op)
        db.add(row)
        db.commit()
        db.refresh(row)
    return SplitView(row, op)


def _check(payees: list[tuple[str, int]]) -> None:
    """The contract's rules, checked first so that a client hears the reason without a chain round trip."""
    if not 0 < len(payees) <= MAX_PAYEES:
        raise InvalidInput("payees", f"a split has 1 to {MAX_PAYEES} payees")
    seen = set()
    for address, bps in payees:
        if not is_address(address) or int(address, 16) == 0:
            raise InvalidInput("payees", f"{address!r} is not a payee address")
        if to_checksum_address(address) in seen:
            raise InvalidInput("payees", f"{address} appears twice")
        seen.add(to_checksum_address(address))
        if not isinstance(bps, int) or isinstance(bps, bool) or not 0 < bps <= TOTAL_BPS:
            raise InvalidInput("payees", f"a share is a whole number of basis points from 1 to {TOTAL_BPS}")
    total = sum(bps for _, bps in payees)
    if total != TOTAL_BPS:
        raise InvalidInput("payees", f"shares sum to {total} basis points, not {TOTAL_BPS}")


def _record_confirmed(ledger: Ledger, row: SplitRecord, op: ChainOp) -> None:
    """Copy what the chain recorded for a confirmed split into its row: the version number and the
    start as the chain stored it, which differs from the one asked for when that was 0 ("from the
    start" for a work's first version, when mined for a later one). Both are set together: a row
    with a version has the chain's start, and only such rows are settled."""
    recorded = ledger.registries.split_version_set(op)
    row.version = recorded.version
    row.effective_from = recorded.effective_from


def record_versions(ledger: Ledger) -> int:
    """Record the version number and start of every split confirmed after its request stopped
    waiting (answered 202, or its process stopped): settlement counts only versions it knows. The
    reconciler runs this on every pass. Returns how many were recorded."""
    with session(ledger.engine) as db:
        waiting = db.exec(
            select(SplitRecord)
            .join(ChainOp, col(ChainOp.id) == col(SplitRecord.op_id))
            .where(col(SplitRecord.version).is_(None), ChainOp.status == OpStatus.confirmed)
        ).all()
        for row in waiting:
            _record_confirmed(ledger, row, must_get(db, ChainOp, row.op_id))
            db.add(row)
        db.commit()
    return len(waiting)


def split_versions(ledger: Ledger, account: Account, work_id: str) -> list[SplitVersion]:
    """Every version on chain, oldest first, read from the chain itself. A crawler reads a work's
    registration to name what it found, not who is paid from it."""
    work = get_work(ledger, account, work_id).work
    if account.role == Role.crawler:
        return []
    return ledger.registries.split_versions(from_0x(work.work_id))
