"""Pricing a correction of a committed period.

A committed period is never rewritten. A correction (a report that supersedes one of its
reports, or supersedes an earlier correction of it) is priced by settling the period again
with the correction in place of the committed report, and comparing with the period's own
settlement: each difference per (payee, work), less what earlier corrections of the same
report already carried, becomes an adjustment of the platform's next closed period. The
inputs used are stored on the correction, so an auditor re-derives the same adjustments.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence

from sqlmodel import Session, col, select

from ledger.db import must_get
from ledger.errors import InvalidInput
from ledger.models import Adjustment, PlayReport, ReportStatus, SettlementPeriod
from ledger.settlement.computation import SettlementInputs, compute, corrected_inputs, differences, stored_inputs
from ledger.settlement.engine import SettlementError


def committed_original(db: Session, report: PlayReport) -> tuple[PlayReport | None, list[PlayReport]]:
    """The committed report a correction chain starts from, and the earlier corrections in between."""
    between = []
    current = db.get(PlayReport, report.supersedes_pk) if report.supersedes_pk else None
    while current is not None and current.period_pk is None:
        between.append(current)
        current = db.get(PlayReport, current.supersedes_pk) if current.supersedes_pk else None
    return current, between


def effect(
    db: Session, period: SettlementPeriod, inputs: SettlementInputs, earlier: list[PlayReport]
) -> dict[tuple[str, str], int]:
    """What settling `period` from `inputs` changes, less what `earlier` corrections and the
    releases of held rows the inputs name already carried."""
    carried = (
        list(db.exec(select(Adjustment).where(col(Adjustment.correction_pk).in_([r.id for r in earlier]))).all())
        if earlier
        else []
    )
    releases = inputs.get("carried_releases", [])
    if releases:
        carried += db.exec(select(Adjustment).where(col(Adjustment.release_pk).in_(releases))).all()
    return change_of(db, period, inputs, carried)


def change_of(
    db: Session, period: SettlementPeriod, inputs: SettlementInputs, carried: Sequence[Adjustment]
) -> dict[tuple[str, str], int]:
    """What settling committed `period` from `inputs` instead changes per (payee, work), less
    the adjustments already `carried` for the same change."""
    base = compute(db, stored_inputs({**json.loads(json.dumps(period.inputs)), "adjustments": []})).lines
    changes = defaultdict(int, differences(base, compute(db, inputs).lines))
    for adjustment in carried:
        changes[(adjustment.payee, adjustment.work_id)] -= int(adjustment.amount)
    return {key: amount for key, amount in changes.items() if amount}


def price(db: Session, correction: PlayReport) -> int:
    """Record the adjustments of a correction inside the caller's transaction; returns how many.
    A correction of a period not yet committed needs none: it replaces the report at closing."""
    original, earlier = committed_original(db, correction)
    if original is None:
        return 0
    from ledger.settlement.releases import released_before

    period = must_get(db, SettlementPeriod, original.period_pk)
    releases, released = released_before(db, period.id, without_report=original.id)
    inputs = corrected_inputs(db, period, original, correction, released)
    if releases:  # what they carried is in the corrected period's state already
        inputs["carried_releases"] = [r.id for r in releases]
    correction.correction_inputs = dict(inputs)
    db.add(correction)
    for previous in earlier:
        previous.status = ReportStatus.superseded
        db.add(previous)
    try:
        changes = effect(db, period, inputs, earlier)
    except SettlementError as exc:
        raise InvalidInput("supersedes", f"the corrected period cannot be settled: {exc}") from None
    carry(db, period, changes, correction_pk=correction.id)
    return len(changes)


def carry(
    db: Session,
    period: SettlementPeriod,
    changes: dict[tuple[str, str], int],
    *,
    correction_pk: int | None = None,
    release_pk: int | None = None,
) -> None:
    """Record `changes` to committed `period` as adjustments of the platform's next period."""
    for (payee, work_id), amount in sorted(changes.items()):
        db.add(
            Adjustment(
                platform_id=period.platform_id,
                currency=period.currency,
                source_period_pk=period.id,
                correction_pk=correction_pk,
                release_pk=release_pk,
                payee=payee,
                work_id=work_id,
                amount=amount,
            )
        )
