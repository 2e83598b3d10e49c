"""Recomputing a committed period from what is stored, and checking it against the chain.

The auditor trusts neither the stored lines nor the stored root: every report's rows must
still give the row root the platform signed (and the chain anchored), every rule version
must still hash to what the period recorded, and the recomputed lines must give the root
and inputs hash the contract holds. A derivative's lines are recomputed from the edges and
terms the period recorded, and those must still be the edges the chain registered, with the
terms the chain holds for the licences they were registered under.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from sqlmodel import Session

from ledger.chain.hexes import ZERO32, from_0x, to_0x
from ledger.chain.registries import DerivativeEdge, DerivativeReader, DerivativeTerms
from ledger.chain.settlement import SettlementGateway
from ledger.db import must_get, session, text_rows
from ledger.models import Account, HeldRelease, PlayReport, SettlementPeriod
from ledger.reports.digest import ReportDigest
from ledger.reports.ingest import summary_of
from ledger.reports.rows import BadRow, ReportRow
from ledger.settlement.computation import EdgeInput, compute, inputs_hash, stored_inputs
from ledger.settlement.periods import find_period

ROWS = text(
    "SELECT w.work_id, r.territory, r.day, r.plays, r.valid_plays, r.watch_minutes, r.ad_revenue "
    "FROM play_row r JOIN work w ON w.id = r.work_pk WHERE r.report_pk = :pk"
)


@dataclass
class AuditResult:
    period_id: str
    recomputed_root: str | None
    stored_root: str
    chain_root: str | None
    recomputed_inputs_hash: str
    chain_inputs_hash: str | None
    total: int  # minor units of `currency`
    currency: str
    line_count: int
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def audit_period(
    engine: Engine, registry: SettlementGateway, derivatives: DerivativeReader, period_id: str
) -> AuditResult:
    """Recompute `period_id` from the database behind `engine` and compare it with `registry`
    (a SettlementRegistry whose code the caller has checked), and the terms of the derivative
    edges it settled through with those `derivatives` reads from the chain."""
    with session(engine) as db:
        period = find_period(db, period_id)
        problems = []
        for entry in period.inputs["reports"]:
            report = must_get(db, PlayReport, entry["pk"])
            problem = _check_report(db, registry, report, entry)
            if problem:
                problems.append(problem)
        problems += _check_adjustments(db, registry, period)
        problems += _check_releases(db, registry, period)
        problems += check_upstream_terms(db, derivatives, period)
        try:
            computed = compute(db, stored_inputs(period.inputs))
        except ValueError as exc:
            problems.append(str(exc))
            computed = None
    on_chain = registry.period(period.period_id)
    chain_root = on_chain.root if on_chain.committed else None
    chain_inputs = on_chain.inputs_hash if on_chain.committed else None
    recomputed_inputs = inputs_hash(stored_inputs(period.inputs))
    root = computed.root if computed else None
    if root != period.root:
        problems.append(f"the recomputed root {root} differs from the stored root {period.root}")
    if chain_root is None:
        problems.append("the chain holds no root for this period (not committed yet?)")
    elif root != chain_root:
        problems.append(f"the recomputed root {root} differs from the chain's {chain_root}")
    if chain_inputs is not None and chain_inputs != recomputed_inputs:
        problems.append("the period's recorded inputs no longer hash to what the chain holds")
    if computed is not None and computed.total != on_chain.total:
        problems.append(f"the recomputed total {computed.total} differs from the chain's {on_chain.total}")
    return AuditResult(
        period_id=period.period_id,
        recomputed_root=root,
        stored_root=period.root,
        chain_root=chain_root,
        recomputed_inputs_hash=recomputed_inputs,
        chain_inputs_hash=chain_inputs,
        total=computed.total if computed else 0,
        currency=period.currency,
        line_count=len(computed.lines) if computed else 0,
        problems=problems,
    )


def _check_adjustments(db: Session, registry: SettlementGateway, period: SettlementPeriod) -> list[str]:
    """Each correction's adjustments carried into this period are what the correction, applied
    to the period it corrects with the inputs recorded on it, really changes."""
    from collections import defaultdict

    from ledger.models import Adjustment, SettlementPeriod
    from ledger.settlement.corrections import committed_original, effect

    by_correction: dict[int, dict[tuple[str, str], int]] = defaultdict(dict)
    for entry in period.inputs.get("adjustments", []):
        adjustment = db.get(Adjustment, entry["pk"])
        if adjustment is None or int(adjustment.amount) != entry["amount"]:
            return [f"adjustment {entry['pk']} is not what the period recorded"]
        if adjustment.correction_pk is not None:
            by_correction[adjustment.correction_pk][(adjustment.payee, adjustment.work_id)] = entry["amount"]
    problems = []
    for correction_pk, recorded in by_correction.items():
        new = must_get(db, PlayReport, correction_pk)
        signed = _check_report(db, registry, new, {"rows_root": new.rows_root})
        if signed:
            problems.append(signed)
        original, earlier = committed_original(db, new)
        assert original is not None  # the period recorded this correction of a committed report
        source = must_get(db, SettlementPeriod, original.period_pk)
        inputs = new.correction_inputs or {}
        kept = sorted(r["pk"] for r in source.inputs["reports"] if r["pk"] != original.id) + [new.id]
        releases = [db.get(HeldRelease, pk) for pk in inputs.get("carried_releases", [])]
        if (
            sorted(r["pk"] for r in inputs.get("reports", [])) != sorted(kept)
            or any(inputs["rules"].get(w) != v for w, v in source.inputs["rules"].items())
            or any(release is None or release.source_period_pk != source.id for release in releases)
        ):
            problems.append(f"correction {new.report_id!r} was priced from other inputs than its period's")
            continue
        try:
            expected = effect(db, source, stored_inputs(inputs), earlier)
        except ValueError as exc:
            problems.append(f"correction {new.report_id!r} cannot be recomputed: {exc}")
            continue
        if expected != recorded:
            problems.append(f"the adjustments from correction {new.report_id!r} do not follow from it")
    return problems


def _check_releases(db: Session, registry: SettlementGateway, period: SettlementPeriod) -> list[str]:
    """Each release of held rows the period carries is what releasing those rows changes in the
    period they came from (and those rows are still the signed, anchored rows of its reports);
    no adjustment of a release is carried without its release named."""
    from ledger.models import Adjustment
    from ledger.settlement.releases import check_release

    entries = period.inputs.get("held_releases", [])
    problems = []
    sources = set()
    for entry in entries:
        problems += check_release(db, period, entry)
        release = db.get(HeldRelease, entry["pk"])
        if release is not None:
            sources.add(release.source_period_pk)
    for source_pk in sorted(sources):  # the released rows are still the rows their reports signed
        for report in must_get(db, SettlementPeriod, source_pk).inputs["reports"]:
            problem = _check_report(db, registry, must_get(db, PlayReport, report["pk"]), report)
            if problem:
                problems.append(problem)
    named = {entry["pk"] for entry in entries}
    for adjustment in period.inputs.get("adjustments", []):
        carried = db.get(Adjustment, adjustment["pk"])
        if carried is not None and carried.release_pk is not None and carried.release_pk not in named:
            problems.append(f"adjustment {adjustment['pk']} settles held rows whose release the period does not name")
    return problems


def check_upstream_terms(db: Session, chain: DerivativeReader, period: SettlementPeriod) -> list[str]:
    """Each edge the period settled through is a confirmed edge of the derivative graph between
    the works it names, under the licence it names, with the terms it recorded; and the chain holds
    that edge (the DerivativeRegistry's parents of the derivative: parent, licence, kind) under
    those terms (the LicenseRegistry's upstream terms of the licence: share, minimum per valid
    play). The chain is the source of the terms: a database changed consistently, edge and period
    alike, still differs from it."""
    from ledger.models import ChainOp, LicenceRecord, OpStatus, Work, WorkParent

    problems = []
    terms_of: dict[int, DerivativeTerms | None] = {}
    for work_id, edges in stored_inputs(period.inputs).get("upstream", {}).items():
        on_chain: dict[tuple[str, int | None], DerivativeEdge] = {
            (to_0x(edge.parent_id), edge.licence_id): edge for edge in chain.parents(from_0x(work_id))
        }
        for entry in edges:
            where = f"the edge from {work_id} to {entry['parent']} (licence {entry['licence_id']})"
            registered = on_chain.get((entry["parent"], entry["licence_id"]))
            if registered is None:
                problems.append(f"{where} is not registered on chain")
            else:
                licence_id = registered.licence_id
                terms = terms_of[licence_id] if licence_id in terms_of else chain.terms(licence_id)
                terms_of[licence_id] = terms
                problems += _differs_from_chain(where, entry, registered.kind.value, terms)
            edge = db.get(WorkParent, entry["edge_pk"])
            if edge is None:
                problems.append(f"{where} is no longer stored")
                continue
            child, parent = db.get(Work, edge.work_pk), db.get(Work, edge.parent_pk)
            licence = db.get(LicenceRecord, edge.licence_pk)
            op = db.get(ChainOp, edge.op_id)
            if (
                child is None
                or parent is None
                or (child.work_id, parent.work_id) != (work_id, entry["parent"])
                or edge.licence_pk != entry["licence_pk"]
                or licence is None
                or licence.chain_licence_id != entry["licence_id"]
            ):
                problems.append(f"{where} now joins other works or another licence")
            elif (edge.share_bps, int(edge.min_per_valid_play_micro), edge.kind.value) != (
                entry["share_bps"],
                entry["min_per_valid_play_micro"],
                entry["kind"],
            ):
                problems.append(f"{where}: the period's recorded terms differ from the edge's stored terms")
            elif op is None or op.status != OpStatus.confirmed:
                problems.append(f"{where} is not confirmed on chain")
    return problems


def _differs_from_chain(where: str, entry: EdgeInput, kind: str, terms: DerivativeTerms | None) -> list[str]:
    """What of an edge's recorded kind and terms differs from the chain's."""
    recorded = (entry["kind"], entry["share_bps"], entry["min_per_valid_play_micro"])
    held = (kind, terms.share_bps, terms.min_per_valid_play_micro) if terms else (kind, None, None)
    if recorded == held:
        return []
    return [
        f"{where}: the period's recorded terms (kind {recorded[0]}, share {recorded[1]} bps, minimum "
        f"{recorded[2]} micro per valid play) differ from the chain's (kind {held[0]}, share {held[1]} bps, "
        f"minimum {held[2]} micro per valid play)"
    ]


def _check_report(db: Session, registry: SettlementGateway, report: PlayReport, entry: dict[str, Any]) -> str | None:
    """The report's stored rows still give the row root it was signed over, and the chain anchored it."""
    digest = ReportDigest(report.currency, report.first_day, report.end_day)
    try:
        for work_id, territory, day, plays, valid, minutes, ad in text_rows(db, ROWS, {"pk": report.id}):
            digest.add(ReportRow(from_0x(work_id), territory, day, plays, valid, minutes, ad, report.currency))
        root = to_0x(digest.root())
    except BadRow as exc:
        return f"report {report.report_id!r}: its stored rows are no longer a valid report ({exc})"
    if root != entry["rows_root"] or root != report.rows_root:
        return f"report {report.report_id!r}: its stored rows no longer give the signed row root"
    platform = must_get(db, Account, report.platform_id)
    superseded = db.get(PlayReport, report.supersedes_pk) if report.supersedes_pk else None
    summary = summary_of(report, platform, from_0x(superseded.report_hash) if superseded else ZERO32)
    if registry.report_digest(platform.address, summary.report_id) == ZERO32:
        return f"report {report.report_id!r} is not anchored on chain"
    if to_0x(registry.hash_report(summary)) != report.digest:
        return f"report {report.report_id!r}: its stored summary is not what the platform signed"
    return None
