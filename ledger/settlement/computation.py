"""A period's settlement computed from stored inputs, the same way when it is closed, when a
correction is priced and when an auditor recomputes it.

`gather_inputs` chooses what a period is settled from (its reports, the rule and split
version in force for each work, pools, advances still to recoup, adjustments carried in, and
for a derivative the confirmed edges up to its roots with their licences' terms and each
ancestor's split version in force) and writes the choice down as plain JSON. `compute` turns
such a record into statement lines and a Merkle root, reading only the rows and versions it names.
"""

from __future__ import annotations

import functools
import gc
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, NotRequired, ParamSpec, TypedDict, TypeVar, cast

from eth_abi import encode as abi_encode
from eth_utils import keccak
from sqlalchemy import bindparam, text
from sqlmodel import Session, SQLModel, col, select

from ledger.chain.hexes import to_0x
from ledger.db import text_rows
from ledger.merkle import StandardMerkleTree
from ledger.models import (
    Account,
    Adjustment,
    ChainOp,
    DerivativeKind,
    HeldRelease,
    OpStatus,
    PlayReport,
    ReleasedRow,
    ReportStatus,
    SettlementPeriod,
    SettlementRuleRecord,
    SplitRecord,
    Work,
)
from ledger.settlement.engine import Edge, Flow, PlayRow, Split, WorkResult, settle
from ledger.settlement.lines import StatementLine, numbered, tree_of
from ledger.settlement.rules import rules_in_force, to_rule

DAY = 86_400


class ReportInput(TypedDict):
    pk: int
    report_id: str
    digest: str | None
    rows_root: str | None


class RuleChoice(TypedDict):
    pk: int  # the rule version's row
    version: int
    content_hash: str  # what the version held when it was chosen


class AdjustmentInput(TypedDict):
    pk: int
    payee: str
    work_id: str
    amount: int  # minor units, signed


class ReleaseInput(TypedDict):
    pk: int  # the held release
    source_period_id: str
    rows: list[int]  # the play rows it released, by id


class EdgeInput(TypedDict):
    parent: str  # the parent's work id
    edge_pk: int  # the work_parent row
    licence_pk: int
    licence_id: int | None  # the licence's id on chain
    kind: str
    share_bps: int
    min_per_valid_play_micro: int


class SettlementInputs(TypedDict):
    """The inputs record: plain JSON, stored with the period and hashed into its `inputs_hash`
    (so it stays a mapping, typed here key by key, rather than an object with its own encoding)."""

    period_id: str
    platform: str
    currency: str
    first_day: int
    end_day: int
    reports: list[ReportInput]
    rules: dict[str, RuleChoice]  # work id -> the rule version chosen
    splits: dict[str, int]  # work id -> the split version chosen (an earning work's, or an ancestor's)
    pools: dict[str, int]
    advances: dict[str, int]  # work id -> advance still to recoup
    adjustments: list[AdjustmentInput]
    unsettled: dict[str, str]  # work id -> why it is not settled
    released_rows: NotRequired[list[int]]  # held rows settled too (pricing a release, or a correction after one)
    carried_releases: NotRequired[list[int]]  # a correction's: the releases from its period it is less of
    held_releases: NotRequired[list[ReleaseInput]]  # the releases whose adjustments this period carries
    upstream: NotRequired[dict[str, list[EdgeInput]]]  # derivative work id -> its parents' edges, in order


def stored_inputs(record: dict[str, object]) -> SettlementInputs:
    """A period's (or a correction's) stored inputs record, as `gather` wrote it."""
    return cast(SettlementInputs, record)


def period_id_of(platform: str, currency: str, first_day: int, end_day: int) -> str:
    encoded = abi_encode(
        ["address", "string", "uint64", "uint64"], [platform, currency, first_day * DAY, end_day * DAY]
    )
    return to_0x(keccak(encoded))


def inputs_hash(inputs: SettlementInputs) -> str:
    return to_0x(keccak(text=json.dumps(inputs, sort_keys=True, separators=(",", ":"))))


@dataclass(frozen=True)
class Computed:
    inputs: SettlementInputs
    lines: list[StatementLine]
    works: dict[str, WorkResult]  # work id -> how its amount came about
    carried: dict[tuple[str, str], int]  # (payee, work id) -> a negative balance left for a later period
    tree: StandardMerkleTree | None  # None when there is no line
    flows: tuple[Flow, ...] = ()  # what each work passed to its parents, and out of which derivative's earnings

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def root(self) -> str | None:
        return to_0x(self.tree.root) if self.tree else None


M = TypeVar("M", bound=SQLModel)
P = ParamSpec("P")
R = TypeVar("R")
Usage = dict[int, tuple[int, int, int, int]]  # work pk -> plays, valid plays, watch minutes, ad revenue


def _usage(db: Session, report_pks: list[int], released: list[int] | None = None) -> Usage:
    """The rows of the reports summed per work: the covered ones, and the held ones in `released`."""
    if not report_pks:
        return {}
    query = text(
        "SELECT work_pk, sum(plays), sum(valid_plays), sum(watch_minutes), sum(ad_revenue) FROM play_row "
        "WHERE report_pk IN :pks AND NOT held GROUP BY work_pk"
    ).bindparams(bindparam("pks", expanding=True))
    usage = {
        row[0]: (int(row[1]), int(row[2]), int(row[3]), int(row[4]))
        for row in text_rows(db, query, {"pks": report_pks})
    }
    held = text(
        "SELECT work_pk, sum(plays), sum(valid_plays), sum(watch_minutes), sum(ad_revenue) FROM play_row "
        "WHERE report_pk IN :pks AND held AND id IN :rows GROUP BY work_pk"
    ).bindparams(bindparam("pks", expanding=True), bindparam("rows", expanding=True))
    released = released or []
    for start in range(0, len(released), 5000):
        for row in text_rows(db, held, {"pks": report_pks, "rows": released[start : start + 5000]}):
            plays, valid, minutes, ad = usage.get(row[0], (0, 0, 0, 0))
            usage[row[0]] = (plays + int(row[1]), valid + int(row[2]), minutes + int(row[3]), ad + int(row[4]))
    return usage


def _work_ids(db: Session, pks: Iterable[int]) -> dict[int, str]:
    return _works_where(db, col(Work.id), list(pks))


def _work_pks(db: Session, work_ids: Iterable[str]) -> dict[int, str]:
    return _works_where(db, col(Work.work_id), list(work_ids))


def _works_where(db: Session, column: Any, values: list[Any]) -> dict[int, str]:
    """Work pk -> work id of the works whose `column` is among `values`."""
    found: dict[int, str] = {}
    for start in range(0, len(values), 5000):
        found.update(
            db.exec(select(col(Work.id), col(Work.work_id)).where(column.in_(values[start : start + 5000]))).all()
        )
    return found


def splits_in_force(db: Session, work_pks: list[int], moment: int) -> dict[int, SplitRecord]:
    """The newest confirmed split version of each work in force at `moment` (unix seconds), as the
    chain decides it: only rows with a version number count, and those hold the start the chain
    recorded (0 for a first version in force from the start), never the one asked for."""
    if not work_pks:
        return {}
    query = (
        select(SplitRecord)
        .join(ChainOp, col(ChainOp.id) == col(SplitRecord.op_id))
        .where(
            col(SplitRecord.version).is_not(None),
            SplitRecord.effective_from <= moment,
            ChainOp.status == OpStatus.confirmed,
        )
        .order_by(col(SplitRecord.version))
    )
    if len(work_pks) <= 5000:  # a few works (a period's ancestors, say): only theirs
        query = query.where(col(SplitRecord.work_pk).in_(work_pks))
    records = db.exec(query).all()
    wanted = set(work_pks)
    return {r.work_pk: r for r in records if r.work_pk in wanted}


def _version(split: SplitRecord) -> int:
    assert split.version is not None  # splits_in_force chooses confirmed versions only
    return split.version


def gather_inputs(
    db: Session, platform: Account, currency: str, first_day: int, end_day: int, pools: dict[str, int]
) -> SettlementInputs:
    """What a period closed now is settled from."""
    return gather(db, platform, currency, first_day, end_day, pools)[0]


def without_cycle_passes(work: Callable[P, R]) -> Callable[P, R]:
    """`work` run with Python's cycle collector paused. Settling a large period allocates hundreds
    of thousands of small objects that form no cycles (rows, split and rule records, lines, tree
    nodes): reference counting frees them all, while the collector's passes over them took 40 %
    of the CPU of settling a million rows. The collector's state is restored afterwards."""

    @functools.wraps(work)
    def paused(*args: P.args, **kwargs: P.kwargs) -> R:
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return work(*args, **kwargs)
        finally:
            if was_enabled:
                gc.enable()

    return paused


@without_cycle_passes
def gather(
    db: Session, platform: Account, currency: str, first_day: int, end_day: int, pools: dict[str, int]
) -> tuple[SettlementInputs, Usage]:
    """The inputs record, and the usage it was chosen from (which `compute` may reuse)."""
    reports = db.exec(
        select(PlayReport)
        .where(
            PlayReport.platform_id == platform.id,
            PlayReport.currency == currency,
            PlayReport.first_day == first_day,
            PlayReport.end_day == end_day,
            PlayReport.status == ReportStatus.accepted,
            col(PlayReport.period_pk).is_(None),
        )
        .order_by(col(PlayReport.id))
    ).all()
    usage = _usage(db, [r.id for r in reports])
    work_ids = _work_ids(db, usage)
    rules = rules_in_force(db, list(usage), platform.id, first_day)
    splits = splits_in_force(db, list(usage), first_day * DAY)
    unsettled = {}
    for pk in usage:
        if pk not in rules:
            unsettled[work_ids[pk]] = "no settlement rule in force"
        elif rules[pk].currency != currency:
            unsettled[work_ids[pk]] = f"its rule settles in {rules[pk].currency}"
        elif pk not in splits:
            unsettled[work_ids[pk]] = "no split in force"
    chosen = [pk for pk in usage if work_ids[pk] not in unsettled]
    upstream, ancestor_splits, blocked = choose_upstream(db, chosen, first_day * DAY, splits)
    unsettled.update(blocked)
    settled = [pk for pk in usage if work_ids[pk] not in unsettled]
    recouped = _recouped(db, platform.id, settled)
    adjustments = db.exec(
        select(Adjustment)
        .where(
            Adjustment.platform_id == platform.id,
            Adjustment.currency == currency,
            col(Adjustment.applied_period_pk).is_(None),
        )
        .order_by(col(Adjustment.id))
    ).all()
    inputs: SettlementInputs = {
        "period_id": period_id_of(platform.address, currency, first_day, end_day),
        "platform": platform.address,
        "currency": currency,
        "first_day": first_day,
        "end_day": end_day,
        "reports": [
            {"pk": r.id, "report_id": r.report_id, "digest": r.digest, "rows_root": r.rows_root} for r in reports
        ],
        "rules": {
            work_ids[pk]: {"pk": rules[pk].id, "version": rules[pk].version, "content_hash": rules[pk].content_hash}
            for pk in sorted(settled)
        },
        "splits": {work_ids[pk]: _version(splits[pk]) for pk in sorted(settled)},
        "pools": {name: int(amount) for name, amount in sorted(pools.items())},
        "advances": {
            work_ids[pk]: max(0, rules[pk].body["advance"] - recouped.get(pk, 0))
            for pk in sorted(settled)
            if rules[pk].body["advance"]
        },
        "adjustments": [
            {"pk": a.id, "payee": a.payee, "work_id": a.work_id, "amount": int(a.amount)} for a in adjustments
        ],
        "unsettled": unsettled,
    }
    releases = _releases(db, platform.id, currency)
    if releases:  # named only when there are some, so a period without any keeps its record's shape
        inputs["held_releases"] = releases
    _add_upstream(inputs, {work_ids[pk] for pk in settled}, upstream, ancestor_splits)
    return inputs, usage


def _add_upstream(
    inputs: SettlementInputs, settled: set[str], upstream: dict[str, list[EdgeInput]], splits: dict[str, int]
) -> None:
    """Name in `inputs` the edges reached from the `settled` works and their ancestors' split
    versions (only when there are some, so a period without derivatives keeps its record's shape)."""
    reached: dict[str, list[EdgeInput]] = {}
    frontier = sorted(w for w in settled if w in upstream)
    while frontier:
        work_id = frontier.pop()
        if work_id in reached:
            continue
        reached[work_id] = upstream[work_id]
        for edge in upstream[work_id]:
            inputs["splits"].setdefault(edge["parent"], splits[edge["parent"]])
            if edge["parent"] in upstream:
                frontier.append(edge["parent"])
    if reached:
        inputs["splits"] = dict(sorted(inputs["splits"].items()))
        inputs["upstream"] = {**inputs.get("upstream", {}), **dict(sorted(reached.items()))}


EDGES = text(
    "SELECT e.work_pk, e.parent_pk, e.id, e.licence_pk, l.chain_licence_id, e.kind, e.share_bps, "
    "e.min_per_valid_play_micro FROM work_parent e JOIN chain_op o ON o.id = e.op_id "
    "JOIN licence l ON l.id = e.licence_pk WHERE e.work_pk IN :pks AND o.status = 'confirmed' "
    "ORDER BY e.work_pk, e.position"
).bindparams(bindparam("pks", expanding=True))


def choose_upstream(
    db: Session, work_pks: list[int], moment: int, known: dict[int, SplitRecord] | None = None
) -> tuple[dict[str, list[EdgeInput]], dict[str, int], dict[str, str]]:
    """The confirmed edges above `work_pks` up to the roots (work id -> its parents' edges), each
    ancestor's split version in force at `moment`, and the works that cannot be settled because
    an ancestor has no split in force (work id -> why); `known` holds splits in force at `moment`
    already read (work pk -> split), not read again. An edge stays in force once confirmed:
    revoking its licence stops new derivatives, not the shares already owed."""
    edges: dict[int, list[tuple[Any, ...]]] = {}
    frontier = sorted(set(work_pks))
    while frontier:
        found: list[tuple[Any, ...]] = []
        for at in range(0, len(frontier), 5000):
            found += [tuple(row) for row in text_rows(db, EDGES, {"pks": frontier[at : at + 5000]})]
        for edge in found:
            edges.setdefault(edge[0], []).append(edge)
        frontier = sorted({e[1] for e in found} - set(edges) - set(work_pks))
    if not edges:
        return {}, {}, {}
    ancestors = sorted({e[1] for found in edges.values() for e in found})
    work_ids = _work_ids(db, set(ancestors) | set(edges))
    known = known or {}
    splits = {pk: known[pk] for pk in ancestors if pk in known}
    splits.update(splits_in_force(db, [pk for pk in ancestors if pk not in known], moment))
    upstream: dict[str, list[EdgeInput]] = {
        work_ids[pk]: [
            EdgeInput(
                parent=work_ids[parent],
                edge_pk=edge_pk,
                licence_pk=licence_pk,
                licence_id=licence_id,
                kind=DerivativeKind(kind).value,
                share_bps=share,
                min_per_valid_play_micro=int(minimum),
            )
            for _, parent, edge_pk, licence_pk, licence_id, kind, share, minimum in found
        ]
        for pk, found in edges.items()
    }
    blocked: dict[str, str] = {}
    with_split = {work_ids[pk] for pk in splits}
    for pk in work_pks:
        missing = _ancestors_without_split(work_ids.get(pk, ""), upstream, with_split)
        if missing:
            blocked[work_ids[pk]] = f"parent {missing} has no split in force"
    return upstream, {work_ids[pk]: _version(split) for pk, split in splits.items()}, blocked


def _ancestors_without_split(work_id: str, upstream: dict[str, list[EdgeInput]], with_split: set[str]) -> str | None:
    """The first ancestor of `work_id` (depth first, in the parents' order) with no split in force."""
    for edge in upstream.get(work_id, []):
        if edge["parent"] not in with_split:
            return edge["parent"]
        missing = _ancestors_without_split(edge["parent"], upstream, with_split)
        if missing:
            return missing
    return None


def _releases(db: Session, platform_id: int, currency: str) -> list[ReleaseInput]:
    """The held releases whose adjustments the period carries, named with their rows."""
    releases = db.exec(
        select(HeldRelease)
        .where(
            HeldRelease.platform_id == platform_id,
            HeldRelease.currency == currency,
            col(HeldRelease.applied_period_pk).is_(None),
        )
        .order_by(col(HeldRelease.id))
    ).all()
    if not releases:
        return []
    sources = dict(
        db.exec(
            select(col(SettlementPeriod.id), col(SettlementPeriod.period_id)).where(
                col(SettlementPeriod.id).in_([r.source_period_pk for r in releases])
            )
        ).all()
    )
    rows: dict[int, list[int]] = defaultdict(list)
    for row_pk, release_pk in db.exec(
        select(ReleasedRow.row_pk, ReleasedRow.release_pk).where(
            col(ReleasedRow.release_pk).in_([r.id for r in releases])
        )
    ).all():
        rows[release_pk].append(row_pk)
    return [{"pk": r.id, "source_period_id": sources[r.source_period_pk], "rows": sorted(rows[r.id])} for r in releases]


def _recouped(db: Session, platform_id: int, work_pks: list[int]) -> dict[int, int]:
    if not work_pks:
        return {}
    query = text(
        "SELECT ws.work_pk, sum(ws.recouped) FROM work_settlement ws JOIN settlement_period p ON p.id = ws.period_pk "
        "WHERE p.platform_id = :platform AND ws.work_pk IN :pks GROUP BY ws.work_pk"
    ).bindparams(bindparam("pks", expanding=True))
    return {row[0]: int(row[1]) for row in text_rows(db, query, {"platform": platform_id, "pks": work_pks})}


@without_cycle_passes
def compute(db: Session, inputs: SettlementInputs, usage: Usage | None = None) -> Computed:
    """Lines and root from an inputs record; reads only what the record names (`usage`, when
    given, is the summed rows of exactly those reports, as `gather` returns it)."""
    currency = inputs["currency"]
    if usage is None:
        usage = _usage(db, [r["pk"] for r in inputs["reports"]], inputs.get("released_rows"))
    work_ids = _work_ids(db, usage)
    by_work = {work_ids[pk]: pk for pk in usage}
    rule_records = {r.id: r for r in _by_pks(db, SettlementRuleRecord, [v["pk"] for v in inputs["rules"].values()])}
    rules, splits = {}, {}
    upstream = {
        work_id: [Edge(e["parent"], e["share_bps"], e["min_per_valid_play_micro"]) for e in edges]
        for work_id, edges in inputs.get("upstream", {}).items()
    }
    paid = _work_pks(db, inputs["splits"])  # the earning works and their ancestors
    split_records = _splits(db, {pk: inputs["splits"][w] for pk, w in paid.items()})
    for pk, work_id in paid.items():
        if pk not in split_records:
            raise ValueError(f"split version {inputs['splits'][work_id]} of {work_id} is not stored")
        splits[work_id] = _split_of(split_records[pk])
    rows = []
    for work_id, pk in by_work.items():
        if work_id in inputs["unsettled"]:
            continue
        chosen = inputs["rules"][work_id]
        record = rule_records[chosen["pk"]]
        if record.content_hash != chosen["content_hash"]:
            raise ValueError(f"rule version {record.version} of {work_id} was changed after it was used")
        rules[work_id] = to_rule(record.body, record.version, record.currency)
        plays, valid, minutes, ad = usage[pk]
        rows.append(PlayRow(work_id, "", plays, valid, minutes, ad, currency))
    result = settle(rows, rules, splits, inputs["pools"], inputs["advances"], upstream)

    amounts: dict[tuple[str, str, str | None], list[int]] = {}
    for line in result.lines:
        amounts[(line.payee, line.work_id, line.via_work_id)] = [line.amount, line.rule_version, line.split_version, 0]
    for adjustment in inputs["adjustments"]:  # a correction's difference is carried as a direct line
        entry = amounts.setdefault((adjustment["payee"], adjustment["work_id"], None), [0, 0, 0, 0])
        entry[0] += adjustment["amount"]
        entry[3] += adjustment["amount"]
    carried = {(payee, work_id): entry[0] for (payee, work_id, _), entry in amounts.items() if entry[0] < 0}
    lines = numbered(
        (payee, work_id, amount, rule_v, split_v, adjusted, via)
        for (payee, work_id, via), (amount, rule_v, split_v, adjusted) in amounts.items()
        if amount > 0
    )
    return Computed(
        inputs, lines, {w.work_id: w for w in result.works}, carried, tree_of(lines) if lines else None, result.flows
    )


def _split_of(record: SplitRecord) -> Split:
    assert record.version is not None  # only confirmed split versions are settled
    return Split(record.version, tuple(p["address"] for p in record.payees), tuple(p["bps"] for p in record.payees))


def _by_pks(db: Session, model: type[M], pks: list[int]) -> list[M]:
    pk = col(model.id)  # type: ignore[attr-defined]  # every table here has an integer id
    found: list[M] = []
    for start in range(0, len(pks), 5000):
        found += db.exec(select(model).where(pk.in_(pks[start : start + 5000]))).all()
    return found


def _splits(db: Session, wanted: dict[int, int]) -> dict[int, SplitRecord]:
    found: dict[int, SplitRecord] = {}
    pks = list(wanted)
    for start in range(0, len(pks), 5000):
        for record in db.exec(select(SplitRecord).where(col(SplitRecord.work_pk).in_(pks[start : start + 5000]))).all():
            if record.version == wanted[record.work_pk]:
                found[record.work_pk] = record
    return found


def committed_lines(db: Session, period: SettlementPeriod) -> list[StatementLine]:
    from ledger.models import StatementLineRecord

    records = db.exec(
        select(StatementLineRecord)
        .where(StatementLineRecord.period_pk == period.id)
        .order_by(col(StatementLineRecord.line_index))
    ).all()
    return [
        StatementLine(
            r.line_index,
            r.payee,
            r.work_id,
            int(r.amount),
            r.rule_version,
            r.split_version,
            int(r.adjustment),
            r.via_work_id,
        )
        for r in records
    ]


def corrected_inputs(
    db: Session,
    period: SettlementPeriod,
    old_report: PlayReport,
    new_report: PlayReport,
    released: list[int] | None = None,
) -> SettlementInputs:
    """The committed period's inputs with one report replaced by its correction (and the held
    rows `released` from the period's other reports settled too); works the correction adds are
    settled by the rule and split in force on the period's first day."""
    inputs = stored_inputs(json.loads(json.dumps(period.inputs)))
    inputs.pop("held_releases", None)
    if released:
        inputs["released_rows"] = released
    inputs["reports"] = [r for r in inputs["reports"] if r["pk"] != old_report.id] + [
        {
            "pk": new_report.id,
            "report_id": new_report.report_id,
            "digest": new_report.digest,
            "rows_root": new_report.rows_root,
        }
    ]
    inputs["adjustments"] = []
    choose_new_works(db, period, inputs)
    return inputs


def choose_new_works(db: Session, period: SettlementPeriod, inputs: SettlementInputs) -> None:
    """Settle the works `inputs` adds to a committed period's record (rows it did not settle)
    by the rule and split in force on the period's first day, or name them unsettled."""
    usage = _usage(db, [r["pk"] for r in inputs["reports"]], inputs.get("released_rows"))
    work_ids = _work_ids(db, usage)
    missing = [pk for pk in usage if work_ids[pk] not in inputs["rules"] and work_ids[pk] not in inputs["unsettled"]]
    rules = rules_in_force(db, missing, period.platform_id, period.first_day)
    splits = splits_in_force(db, missing, period.first_day * DAY)
    upstream, ancestor_splits, blocked = choose_upstream(db, missing, period.first_day * DAY)
    inputs["unsettled"].update(blocked)
    added = set()
    for pk in missing:
        if work_ids[pk] in blocked:
            continue
        if pk in rules and pk in splits and rules[pk].currency == period.currency:
            added.add(work_ids[pk])
            record = rules[pk]
            inputs["rules"][work_ids[pk]] = {
                "pk": record.id,
                "version": record.version,
                "content_hash": record.content_hash,
            }
            inputs["splits"][work_ids[pk]] = _version(splits[pk])
        else:
            inputs["unsettled"][work_ids[pk]] = "no settlement rule or split in force"
    _add_upstream(inputs, added, upstream, ancestor_splits)


def differences(before: list[StatementLine], after: list[StatementLine]) -> dict[tuple[str, str], int]:
    """What each (payee, work) is owed (or owes) once a period's lines change from `before` to `after`."""
    delta: dict[tuple[str, str], int] = defaultdict(int)
    for line in after:
        delta[(line.payee, line.work_id)] += line.amount - line.adjustment
    for line in before:
        delta[(line.payee, line.work_id)] -= line.amount - line.adjustment
    return {key: amount for key, amount in delta.items() if amount}
