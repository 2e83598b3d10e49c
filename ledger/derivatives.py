"""Declaring a work a derivative of its parents (二创, dubs, remakes...): the write side.

The owner of a registered work names its parents once, each with a root licence it holds from that
parent's owner whose upstream terms allow the kind of derivative. Everything the DerivativeRegistry
checks is checked here first, so that a bad declaration gets a clear answer before anything is
sent; what only the chain knows (a licence revoked there directly, the block's time) still comes
back as the contract's refusal by name. The edges are stored as WorkParent rows with the licence's
terms copied, together with the outbox operation that registers them: an edge counts once that
operation is confirmed, and a refused one leaves no row behind.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from ledger.accounts import authorise_service
from ledger.chain.hexes import from_0x
from ledger.chain.outbox import raise_for
from ledger.chain.registries import DerivativeParent
from ledger.choices import DerivativeKind
from ledger.db import commit_or, must_get, session
from ledger.errors import Conflict, Forbidden, InvalidInput
from ledger.idempotency import key_in_use
from ledger.licences import get_licence, parse_kind
from ledger.models import Account, ChainOp, LicenceRecord, OpStatus, Work, WorkParent
from ledger.op_views import OpView
from ledger.service import Ledger
from ledger.works import get_work

MAX_PARENTS = 4  # DerivativeRegistry.MAX_PARENTS
MAX_DEPTH = 3  # DerivativeRegistry.MAX_DEPTH
TOTAL_BPS = 10_000
FAILED = (OpStatus.rejected, OpStatus.reverted)  # a registration that never counted


@dataclass(frozen=True)
class ParentClaim:
    """One parent as a client names it: the licence (its id as the API shows it) and the kind."""

    licence_id: int
    kind: str


@dataclass(frozen=True)
class DerivationView(OpView):
    """A work's declared parents and the operation that registers them."""

    work: Work
    edges: list[WorkParent]
    parent_work_ids: list[str]  # the parents' work ids, in the order of `edges`
    chain_licence_ids: list[int | None]
    op: ChainOp


def declare_parents(
    ledger: Ledger,
    account: Account,
    work_id: str,
    parents: Sequence[ParentClaim],
    *,
    idempotency_key: str | None = None,
) -> DerivationView:
    """Register `work_id` as a derivative of the works `parents` license to its owner."""
    work = get_work(ledger, account, work_id).work
    if work.owner_id != account.id:
        raise Forbidden("only the work's owner declares its parents")
    op_key = f"derive:{account.id}:{idempotency_key or uuid.uuid4().hex}"
    with session(ledger.engine) as db:
        earlier = db.exec(select(ChainOp).where(ChainOp.idempotency_key == op_key)).first()
        if earlier is not None and _edges_of_op(db, earlier.id):
            view = _view(db, work, earlier)
            _check_same(view, parents, idempotency_key)
            return view
    edges = _checked_edges(ledger, account, work, parents)
    call = ledger.registries.register_derivative_call(
        work_id=from_0x(work.work_id),
        parents=[
            DerivativeParent(from_0x(parent.work_id), chain_id, DerivativeKind(edge.kind))
            for edge, parent, chain_id in edges
        ],
    )
    authorise_service(ledger, account)
    chain = ledger.chain
    with session(ledger.engine) as db:
        for dead in _dead_edges(db, work.id):  # a declaration the chain refused after its answer was given
            db.delete(dead)
        op = chain.outbox.record(db, op_key, chain.signer, call)
        for edge, _, _ in edges:
            edge.op_id = op.id
            db.add(edge)
        # the edge's unique key: another declaration of the same edge got there first
        raced = Conflict("derivative_declared", f"the parents of work {work.work_id} are being declared already")
        commit_or(db, key_in_use(idempotency_key) if idempotency_key else raced)
        op_id = op.id
    return _finish(ledger, work, op_id)


def _checked_edges(
    ledger: Ledger, account: Account, work: Work, parents: Sequence[ParentClaim]
) -> list[tuple[WorkParent, Work, int]]:
    """The edges of a declaration, checked as the contract will check them; each with its parent work
    and the chain's licence id."""
    if not 1 <= len(parents) <= MAX_PARENTS:
        raise InvalidInput("parents", f"a derivative has 1 to {MAX_PARENTS} parents")
    if _op_status(ledger, work.op_id) != OpStatus.confirmed:
        raise Conflict("work_pending", f"work {work.work_id} is not confirmed on chain yet")
    now = int(time.time())
    edges: list[tuple[WorkParent, Work, int]] = []
    with session(ledger.engine) as db:
        if _live_edges(db, WorkParent.work_pk, work.id):
            raise Conflict("derivative_declared", f"the parents of work {work.work_id} are already declared")
        if children := _live_edges(db, WorkParent.parent_pk, work.id):
            raise Conflict(
                "derivative_has_children",
                f"{len(children)} work(s) already derive from work {work.work_id}: "
                "its parents can no longer be declared",
            )
        depth = 0
        for position, claim in enumerate(parents):
            kind = parse_kind(claim.kind, f"parents[{position}].kind")
            record = _licence_for(ledger, account, claim.licence_id, kind, now)
            parent = must_get(db, Work, record.work_pk)
            if parent.id == work.id:
                raise InvalidInput(f"parents[{position}]", "a work cannot derive from itself")
            if any(other.id == parent.id for _, other, _ in edges):
                raise InvalidInput(f"parents[{position}]", f"work {parent.work_id} is named twice")
            depth = max(depth, _depth(db, parent.id) + 1)
            assert record.chain_licence_id is not None and record.upstream_bps is not None  # _licence_for checked
            edge = WorkParent(
                work_pk=work.id,
                parent_pk=parent.id,
                licence_pk=record.id,
                kind=kind,
                share_bps=record.upstream_bps,
                min_per_valid_play_micro=record.upstream_min_micro or 0,
                position=position,
                op_id=0,  # set when the operation is recorded
            )
            edges.append((edge, parent, record.chain_licence_id))
    total = sum(edge.share_bps for edge, _, _ in edges)
    if total > TOTAL_BPS:
        raise InvalidInput("parents", f"the parents' shares add up to {total} basis points, more than {TOTAL_BPS}")
    if depth > MAX_DEPTH:
        raise Conflict(
            "derivative_too_deep", f"the derivative would be {depth} levels deep, more than {MAX_DEPTH}", depth=depth
        )
    return edges


def _licence_for(ledger: Ledger, account: Account, licence_pk: int, kind: DerivativeKind, now: int) -> LicenceRecord:
    """The licence named for a parent, checked: the account holds it, it is on chain, in force now and
    allows `kind`."""
    view = get_licence(ledger, account, licence_pk)  # NotFound unless the account may see it
    record = view.record
    if record.licensee_id != account.id:  # a licence the account granted or whose work it owns
        raise InvalidInput("parents", f"licence {licence_pk} is held by another account, not by the work's owner")
    if record.chain_licence_id is None:
        raise Conflict("licence_pending", f"licence {licence_pk} is not confirmed on chain yet")
    if view.status == "revoked" or not record.start <= now < record.end:
        raise Conflict("licence_not_valid", f"licence {licence_pk} is revoked or outside its window")
    if record.derivative_kinds is None or record.upstream_bps is None:
        raise InvalidInput("parents", f"licence {licence_pk} does not include the derive right")
    if kind.value not in record.derivative_kinds:
        raise InvalidInput(
            "parents", f"licence {licence_pk} allows {sorted(record.derivative_kinds)}, not {kind.value}"
        )
    return record


def _op_status(ledger: Ledger, op_id: int) -> OpStatus:
    with session(ledger.engine) as db:
        return must_get(db, ChainOp, op_id).status


def _edges_on(db: Session, column: Any, work_pk: int) -> list[tuple[WorkParent, ChainOp]]:
    """Edges whose `column` (the derivative or the parent) is `work_pk`, each with its registration."""
    rows = db.exec(
        select(WorkParent, ChainOp).join(ChainOp, col(ChainOp.id) == col(WorkParent.op_id)).where(column == work_pk)
    ).all()
    return [(edge, op) for edge, op in rows]


def _live_edges(db: Session, column: Any, work_pk: int) -> list[WorkParent]:
    """Edges on `column` = `work_pk` whose registration is confirmed or still on its way."""
    return [edge for edge, op in _edges_on(db, column, work_pk) if op.status not in FAILED]


def _dead_edges(db: Session, work_pk: int) -> list[WorkParent]:
    """A work's edges whose registration failed: they never counted and make way for a new declaration."""
    return [edge for edge, op in _edges_on(db, WorkParent.work_pk, work_pk) if op.status in FAILED]


def _depth(db: Session, work_pk: int) -> int:
    """A work's depth in the declared graph: 0 without parents, else one more than its deepest parent's.
    Bounded by MAX_DEPTH levels, since every declaration was checked."""
    parents = _live_edges(db, WorkParent.work_pk, work_pk)
    return max((_depth(db, edge.parent_pk) + 1 for edge in parents), default=0)


def _edges_of_op(db: Session, op_id: int) -> list[WorkParent]:
    return list(db.exec(select(WorkParent).where(WorkParent.op_id == op_id).order_by(col(WorkParent.position))).all())


def _check_same(view: DerivationView, parents: Sequence[ParentClaim], key: str | None) -> None:
    """The earlier request under `key` named the same parents, licences and kinds."""
    asked = [(claim.licence_id, claim.kind.lower()) for claim in parents]
    made = [(edge.licence_pk, edge.kind.value) for edge in view.edges]
    if asked != made:
        raise Conflict(
            "idempotency_key_reused",
            f"Idempotency-Key {key!r} was used for another declaration of parents",
            idempotency_key=key,
        )


def _finish(ledger: Ledger, work: Work, op_id: int) -> DerivationView:
    """Send the registration and wait a little; a refusal removes its edges and is raised by name."""
    ledger.chain.outbox.send(op_id)
    op = ledger.settle(op_id)
    with session(ledger.engine) as db:
        if op.status in FAILED:
            for edge in _edges_of_op(db, op_id):
                db.delete(edge)
            db.commit()
            raise_for(op)
        return _view(db, work, op)


def _view(db: Session, work: Work, op: ChainOp) -> DerivationView:
    edges = _edges_of_op(db, op.id)
    parents = [must_get(db, Work, edge.parent_pk).work_id for edge in edges]
    licences = [must_get(db, LicenceRecord, edge.licence_pk).chain_licence_id for edge in edges]
    return DerivationView(work, edges, parents, licences, op)
