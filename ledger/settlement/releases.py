"""Held rows settled once a licence covers them.

A row no licence covered when its report arrived is held: kept and listed, not settled. When
a platform closes a period, the rows of that period's own reports are checked again against
the licences in force (a licence granted before the close covers them then), and the held
rows of its committed periods that a licence now covers are released: each source period is
settled again with them (and every row released from it before), compared with its own
settlement, and the difference per (payee, work), less what earlier releases from it carried,
becomes adjustments of the period being closed, as a correction's would. Each row is released
once (`released_row` is keyed by the row); what priced a release is stored with it and named
in the closing period's inputs, so an auditor re-derives the same adjustments.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict

from sqlalchemy import bindparam, text, update
from sqlmodel import Session, col, select

from ledger.db import must_get, text_rows
from ledger.models import Account, Adjustment, HeldRelease, PlayReport, PlayRowRecord, ReleasedRow, SettlementPeriod
from ledger.reports.coverage import Coverage
from ledger.settlement.computation import choose_new_works, stored_inputs
from ledger.settlement.corrections import carry, change_of
from ledger.settlement.engine import SettlementError

log = logging.getLogger("reelledger.settlement")

HELD_IN_COMMITTED = text(
    "SELECT r.id, r.work_pk, r.territory, r.day, rep.period_pk, w.work_id FROM play_row r "
    "JOIN play_report rep ON rep.id = r.report_pk JOIN work w ON w.id = r.work_pk "
    "LEFT JOIN released_row rr ON rr.row_pk = r.id "
    "WHERE rep.platform_id = :platform AND rep.currency = :currency AND rep.status = 'accepted' "
    "AND rep.period_pk IS NOT NULL AND r.held AND rr.row_pk IS NULL "
    "AND NOT EXISTS (SELECT 1 FROM play_report c WHERE c.supersedes_pk = rep.id AND c.status <> 'receiving') "
    "ORDER BY r.id"
)


def cover_open_rows(db: Session, platform_id: int, report_pks: list[int]) -> int:
    """Held rows of reports about to be settled that a licence covers now are settled with
    them (the period is not committed yet, so nothing else needs to change). Returns how many."""
    if not report_pks:
        return 0
    coverage = Coverage.load(db, platform_id)
    query = text(
        "SELECT id, report_pk, work_pk, territory, day FROM play_row WHERE held AND report_pk IN :reports"
    ).bindparams(bindparam("reports", expanding=True))
    held = text_rows(db, query, {"reports": report_pks})
    covered = [(pk, report) for pk, report, work, territory, day in held if coverage.covers(work, territory, day)]
    per_report: dict[int, int] = defaultdict(int)
    for start in range(0, len(covered), 5000):
        chunk = [pk for pk, _ in covered[start : start + 5000]]
        db.exec(update(PlayRowRecord).where(col(PlayRowRecord.id).in_(chunk)).values(held=False))
    for _, report in covered:
        per_report[report] += 1
    for report_pk, count in per_report.items():
        report = must_get(db, PlayReport, report_pk)
        report.held_rows -= count
        db.add(report)
    return len(covered)


def release_held(db: Session, platform: Account, currency: str) -> list[HeldRelease]:
    """Release the platform's held rows of committed periods in `currency` that a licence now
    covers, inside the caller's transaction (which holds the platform's lock)."""
    coverage = Coverage.load(db, platform.id)
    by_period: dict[int, list[tuple[int, str]]] = defaultdict(list)
    found = text_rows(db, HELD_IN_COMMITTED, {"platform": platform.id, "currency": currency})
    for row_pk, work_pk, territory, day, period_pk, work_id in found:
        if coverage.covers(work_pk, territory, day):
            by_period[period_pk].append((row_pk, work_id))
    releases = []
    for period_pk, rows in sorted(by_period.items()):
        release = _release(db, must_get(db, SettlementPeriod, period_pk), rows)
        if release is not None:
            releases.append(release)
    return releases


def released_before(
    db: Session, source_pk: int, without_report: int | None = None
) -> tuple[list[HeldRelease], list[int]]:
    """The releases from a source period so far, oldest first, and every row they released
    (but those of report `without_report`, which a correction replaces)."""
    earlier = list(
        db.exec(
            select(HeldRelease).where(HeldRelease.source_period_pk == source_pk).order_by(col(HeldRelease.id))
        ).all()
    )
    rows = rows_of(db, [r.id for r in earlier])
    if without_report is not None and rows:
        dropped = set(
            db.exec(
                select(PlayRowRecord.id).where(
                    PlayRowRecord.report_pk == without_report, col(PlayRowRecord.id).in_(rows)
                )
            ).all()
        )
        rows = [pk for pk in rows if pk not in dropped]
    return earlier, rows


def rows_of(db: Session, release_pks: list[int]) -> list[int]:
    if not release_pks:
        return []
    return sorted(db.exec(select(ReleasedRow.row_pk).where(col(ReleasedRow.release_pk).in_(release_pks))).all())


def _release(db: Session, source: SettlementPeriod, rows: list[tuple[int, str]]) -> HeldRelease | None:
    earlier, before = released_before(db, source.id)
    start = earlier[-1].inputs if earlier else {**source.inputs, "adjustments": []}
    inputs = stored_inputs(json.loads(json.dumps(start)))
    inputs.pop("held_releases", None)  # what the source period carried in is not what it settled
    inputs["released_rows"] = sorted(before + [pk for pk, _ in rows])
    choose_new_works(db, source, inputs)
    kept = [pk for pk, work_id in rows if work_id not in inputs["unsettled"]]
    if not kept:
        return None  # no rule or split for them yet: they wait, listed as held
    inputs["released_rows"] = sorted(before + kept)
    inputs["unsettled"] = {w: why for w, why in inputs["unsettled"].items() if w in start["unsettled"]}
    carried = _carried(db, [r.id for r in earlier])
    try:
        changes = change_of(db, source, inputs, carried)
    except SettlementError as exc:
        log.warning("held rows of period %s wait: it cannot be settled with them (%s)", source.period_id, exc)
        return None
    release = HeldRelease(
        platform_id=source.platform_id,
        currency=source.currency,
        source_period_pk=source.id,
        row_count=len(kept),
        inputs=dict(inputs),
    )
    db.add(release)
    db.flush()
    db.add_all([ReleasedRow(row_pk=pk, release_pk=release.id) for pk in kept])
    carry(db, source, changes, release_pk=release.id)
    db.flush()  # a row released by another close fails here, on its key, before anything is committed
    return release


def _carried(db: Session, release_pks: list[int]) -> list[Adjustment]:
    if not release_pks:
        return []
    return list(db.exec(select(Adjustment).where(col(Adjustment.release_pk).in_(release_pks))).all())


def check_release(db: Session, period: SettlementPeriod, entry: dict[str, object]) -> list[str]:
    """A release a period's inputs name: it went into this period, released the rows named,
    held rows of its source period's reports, and its adjustments follow from its inputs."""
    pk = int(str(entry["pk"]))
    release = db.get(HeldRelease, pk)
    if release is None or release.applied_period_pk != period.id:
        return [f"held release {pk} is not one this period carried"]
    named = sorted(int(r) for r in entry["rows"])  # type: ignore[attr-defined]  # a JSON list of ids
    if named != rows_of(db, [pk]):
        return [f"held release {pk} names other rows than it released"]
    source = must_get(db, SettlementPeriod, release.source_period_pk)
    if entry["source_period_id"] != source.period_id:
        return [f"held release {pk} names another source period than its own"]
    earlier = [r for r in released_before(db, source.id)[0] if r.id < pk]
    inputs = stored_inputs(release.inputs)
    if (
        sorted(r["pk"] for r in inputs["reports"]) != sorted(r["pk"] for r in source.inputs["reports"])
        or any(inputs["rules"].get(w) != v for w, v in source.inputs["rules"].items())
        or any(inputs["splits"].get(w) != v for w, v in source.inputs["splits"].items())
        or (inputs["pools"], inputs["advances"]) != (source.inputs["pools"], source.inputs["advances"])
        or inputs.get("released_rows") != sorted(rows_of(db, [r.id for r in earlier]) + named)
    ):
        return [f"held release {pk} was priced from other inputs than its period's"]
    if _held_in(db, named, [r["pk"] for r in source.inputs["reports"]]) != len(named):
        return [f"held release {pk} names rows that were not held in its period's reports"]
    try:
        expected = change_of(db, source, inputs, _carried(db, [r.id for r in earlier]))
    except ValueError as exc:
        return [f"held release {pk} cannot be recomputed: {exc}"]
    own = _carried(db, [pk])
    if not {a.id for a in own} <= {int(a["pk"]) for a in period.inputs.get("adjustments", [])}:
        return [f"the period does not carry every adjustment of held release {pk}"]
    recorded = {(a.payee, a.work_id): int(a.amount) for a in own}
    if expected != recorded:
        return [f"the adjustments of held release {pk} do not follow from it"]
    return []


def _held_in(db: Session, rows: list[int], report_pks: list[int]) -> int:
    query = text("SELECT count(*) FROM play_row WHERE held AND id IN :rows AND report_pk IN :reports").bindparams(
        bindparam("rows", expanding=True), bindparam("reports", expanding=True)
    )
    count = 0
    for start in range(0, len(rows), 5000):
        count += int(text_rows(db, query, {"rows": rows[start : start + 5000], "reports": report_pks})[0][0])
    return count
