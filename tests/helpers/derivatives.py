"""Derivative edges for tests, made the way a client makes them: the parent's owner grants the
derivative's owner a root licence with the derive right and upstream terms, and the derivative's
owner declares its parents with `POST /works/{work_id}/parents`, both confirmed on chain.

`edge_beyond_the_depth_bound` is the one exception: an edge the chain refuses to register.
"""

from __future__ import annotations

import time
import uuid

from sqlmodel import col, select

from ledger.db import session
from ledger.models import ChainOp, DerivativeKind, OpStatus, Work, WorkParent
from tests.helpers.service import written

YEAR = 365 * 86_400  # seconds


def account_id(client) -> int:
    return client.get("/accounts/me").json()["id"]


def grant_derive_licence(
    service,
    parent_owner,
    parent_work_id: str,
    licensee_id: int,
    *,
    kinds: tuple[DerivativeKind, ...] = (DerivativeKind.re_edit,),
    share_bps: int = 3000,
    min_micro: int = 0,
    territories: tuple[str, ...] = ("WW",),
    start: int | None = None,
    end: int | None = None,
) -> dict:
    """A root licence on `parent_work_id` to `licensee_id` for streaming and deriving `kinds` with these
    upstream terms, confirmed; the licence as the API shows it. The window runs from a minute ago for
    a year unless given."""
    now = int(time.time())
    granted = parent_owner.post(
        f"/works/{parent_work_id}/licences",
        json={
            "licensee_id": licensee_id,
            "territories": list(territories),
            "rights": ["streaming", "derive"],
            "start": now - 60 if start is None else start,
            "end": now + YEAR if end is None else end,
            "derivative": {
                "kinds": [kind.value for kind in kinds],
                "share_bps": share_bps,
                "min_per_valid_play_micro": min_micro,
            },
        },
    )
    return written(service, granted).json()


def declare_parent(derivative_owner, derivative_work_id: str, licence_id: int, kind: DerivativeKind):
    """The owner's declaration of the work's only parent: the answer, not waited for."""
    body = {"parents": [{"licence_id": licence_id, "kind": kind.value}]}
    return derivative_owner.post(f"/works/{derivative_work_id}/parents", json=body)


def derive(
    service,
    parent_owner,
    parent_work_id: str,
    derivative_owner,
    derivative_work_id: str,
    *,
    kind: DerivativeKind = DerivativeKind.re_edit,
    share_bps: int = 3000,
    min_micro: int = 0,
    territories: tuple[str, ...] = ("WW",),
    start: int | None = None,
    end: int | None = None,
) -> int:
    """Make `derivative_work_id` (of the client `derivative_owner`) a `kind` of `parent_work_id` (of
    `parent_owner`) with these upstream terms, registered and confirmed on chain; the licence's id."""
    licence = grant_derive_licence(
        service,
        parent_owner,
        parent_work_id,
        account_id(derivative_owner),
        kinds=(kind,),
        share_bps=share_bps,
        min_micro=min_micro,
        territories=territories,
        start=start,
        end=end,
    )
    written(service, declare_parent(derivative_owner, derivative_work_id, licence["id"], kind))
    return licence["id"]


def edge_beyond_the_depth_bound(service, derivative_work_id: str, parent_work_id: str, licence_id: int) -> None:
    """An edge written straight into the database as if its registration were confirmed, though the
    DerivativeRegistry refuses it (`DerivativeTooDeep`): the only way to show how a read of a graph
    deeper than the chain allows is bounded. Everything else goes through `derive`."""
    with session(service.ledger.engine) as db:
        works = dict(
            db.exec(
                select(Work.work_id, Work.id).where(col(Work.work_id).in_([derivative_work_id, parent_work_id]))
            ).all()
        )
        op = ChainOp(
            idempotency_key=f"beyond-the-depth-bound:{uuid.uuid4().hex}",
            chain_id=service.ledger.chain.chain_id,
            sender=service.ledger.chain.signer,
            data="0x",
            label="DerivativeRegistry.registerDerivative",
            status=OpStatus.confirmed,
        )
        db.add(op)
        db.flush()
        db.add(
            WorkParent(
                work_pk=works[derivative_work_id],
                parent_pk=works[parent_work_id],
                licence_pk=licence_id,
                kind=DerivativeKind.remake,
                share_bps=500,
                min_per_valid_play_micro=0,
                position=0,
                op_id=op.id,
            )
        )
        db.commit()
