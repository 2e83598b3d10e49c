"""A work's derivative family read back: the works it derives from (up to its roots) and the
works derived from it (down to their leaves), each edge with the terms its licence carries.

The family is read from `WorkParent` rows; an edge whose registration failed on chain is no
edge and is left out, a pending one is shown with its status (it counts for settlement and
matching only once confirmed). Both walks are bounded: the registry refuses a chain deeper
than `MAX_DEPTH`, and a family wider than `MAX_EDGES` edges is cut there (`truncated`).

Who reads a family: the owner of any work in it (the terms on its edges are what they are paid
or pay by), auditors and admins. Its edges are licences between owners, so a licensee or a
crawler, who reads the work, reads none of them (as with a work's licences); anyone else is
told the work is not found, as for another tenant's work or licence.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select

from ledger.db import session
from ledger.errors import NotFound
from ledger.models import (
    Account,
    ChainOp,
    DerivativeKind,
    LicenceRecord,
    Role,
    SettlementRuleRecord,
    Work,
    WorkParent,
)
from ledger.op_views import op_status
from ledger.works import parse_work_id, work_id_of

if TYPE_CHECKING:
    from ledger.service import Ledger

READ_ALL = {Role.auditor, Role.admin}
MAX_DEPTH = 3  # the registry's bound on the longest path from a derivative to a root
MAX_EDGES = 500  # edges read each way before the answer is cut


@dataclass(frozen=True)
class FamilyWork:
    pk: int
    work_id: str
    title: str
    owner_id: int


@dataclass(frozen=True)
class FamilyEdge:
    """`derivative` derives from `parent` under the parent owner's licence `licence_pk`."""

    derivative: FamilyWork
    parent: FamilyWork
    kind: DerivativeKind
    licence_pk: int
    chain_licence_id: int | None
    share_bps: int
    min_per_valid_play_micro: int
    currency: str | None  # the one currency the derivative earns in under its rules, when it has one
    position: int
    depth: int  # 1: an edge of the work itself; 2: of its parents (or children); and so on
    op: ChainOp

    @property
    def status(self) -> str:
        return op_status(self.op)


@dataclass(frozen=True)
class Family:
    work: FamilyWork
    ancestors: list[FamilyEdge]  # nearest first
    descendants: list[FamilyEdge]  # nearest first
    truncated: bool

    def owners(self) -> set[int]:
        edges = self.ancestors + self.descendants
        return {self.work.owner_id} | {e.parent.owner_id for e in edges} | {e.derivative.owner_id for e in edges}


def family(ledger: Ledger, account: Account, work_id: str) -> Family:
    """The derivative family of `work_id` as `account` may read it (see the module's docstring)."""
    ident = work_id_of(parse_work_id(work_id))
    with session(ledger.engine) as db:
        work = db.exec(select(Work).where(Work.work_id == ident)).first()
        if work is None:
            raise NotFound("work", ident)
        found = family_of(db, work)
        if account.role not in READ_ALL and account.id not in found.owners():
            raise NotFound("work", ident)
        return found


def family_of(db: Session, work: Work) -> Family:
    """The family of `work`, unauthorised: for callers that decided already who reads it."""
    up, up_cut = _walk(db, work.id, upward=True)
    down, down_cut = _walk(db, work.id, upward=False)
    pks = {work.id} | {r.work_pk for r, _, _, _ in up + down} | {r.parent_pk for r, _, _, _ in up + down}
    works = {w.id: w for w in db.exec(select(Work).where(col(Work.id).in_(pks))).all()}
    currencies = _currencies(db, {r.work_pk for r, _, _, _ in up + down})

    def node(pk: int) -> FamilyWork:
        w = works[pk]
        return FamilyWork(w.id, w.work_id, w.title, w.owner_id)

    def edge(row: WorkParent, licence: LicenceRecord, op: ChainOp, depth: int) -> FamilyEdge:
        return FamilyEdge(
            derivative=node(row.work_pk),
            parent=node(row.parent_pk),
            kind=row.kind,
            licence_pk=row.licence_pk,
            chain_licence_id=licence.chain_licence_id,
            share_bps=row.share_bps,
            min_per_valid_play_micro=row.min_per_valid_play_micro,
            currency=currencies.get(row.work_pk),
            position=row.position,
            depth=depth,
            op=op,
        )

    return Family(
        work=node(work.id),
        ancestors=[edge(*e) for e in up],
        descendants=[edge(*e) for e in down],
        truncated=up_cut or down_cut,
    )


def confirmed_ancestors(db: Session, work_pk: int) -> list[tuple[WorkParent, LicenceRecord]]:
    """The confirmed edges from the work up to its roots, nearest first, each with its licence:
    an ancestor reached only through an edge not confirmed yet is none."""
    reached, kept = {work_pk}, []
    for row, licence, op, _ in _walk(db, work_pk, upward=True)[0]:
        if row.work_pk in reached and op_status(op) == "confirmed":
            kept.append((row, licence))
            reached.add(row.parent_pk)
    return kept


_Found = tuple[WorkParent, LicenceRecord, ChainOp, int]


def _walk(db: Session, start: int, *, upward: bool) -> tuple[list[_Found], bool]:
    """Edges reached from `start` level by level (parents when `upward`, else children), each
    once, at most MAX_DEPTH levels and MAX_EDGES edges; whether a bound cut the walk."""
    found: list[_Found] = []
    seen: set[int] = set()
    frontier = {start}
    near = col(WorkParent.work_pk) if upward else col(WorkParent.parent_pk)
    for depth in range(1, MAX_DEPTH + 2):
        if not frontier:
            return found, False
        rows = db.exec(
            select(WorkParent, LicenceRecord, ChainOp)
            .join(LicenceRecord, col(LicenceRecord.id) == col(WorkParent.licence_pk))
            .join(ChainOp, col(ChainOp.id) == col(WorkParent.op_id))
            .where(near.in_(frontier))
            .order_by(near, col(WorkParent.position), col(WorkParent.id))
        ).all()
        rows = [r for r in rows if op_status(r[2]) != "failed" and r[0].id not in seen]
        if depth > MAX_DEPTH:
            return found, bool(rows)
        frontier = set()
        for row, licence, op in rows:
            if len(found) == MAX_EDGES:
                return found, True
            seen.add(row.id)
            found.append((row, licence, op, depth))
            frontier.add(row.parent_pk if upward else row.work_pk)
    return found, bool(frontier)


def _currencies(db: Session, work_pks: set[int]) -> dict[int, str]:
    """The currency each work earns in, for works whose settlement rules all name one."""
    if not work_pks:
        return {}
    named: dict[int, set[str]] = {}
    for pk, currency in db.exec(
        select(SettlementRuleRecord.work_pk, SettlementRuleRecord.currency).where(
            col(SettlementRuleRecord.work_pk).in_(work_pks)
        )
    ).all():
        named.setdefault(pk, set()).add(currency)
    return {pk: next(iter(c)) for pk, c in named.items() if len(c) == 1}
