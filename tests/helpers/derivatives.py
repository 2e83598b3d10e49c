"""Derivative edges for tests: a root licence granted over HTTP by the parent's owner to the
derivative's owner, given upstream terms, and the `WorkParent` row of a confirmed registration.
The derivative registration route replaces the last two steps."""

from __future__ import annotations

import time
import uuid

from sqlmodel import col, select

from ledger.db import session
from ledger.models import ChainOp, DerivativeKind, LicenceRecord, OpStatus, Work, WorkParent
from tests.helpers.service import written


def derive(
    service,
    parent_owner,
    parent_work_id: str,
    derivative_work_id: str,
    derivative_owner_id: int,
    *,
    kind: DerivativeKind = DerivativeKind.re_edit,
    share_bps: int = 3000,
    min_micro: int = 0,
    position: int = 0,
    status: OpStatus = OpStatus.confirmed,
) -> int:
    """Make `derivative_work_id` a derivative of `parent_work_id`; returns the licence's id."""
    now = int(time.time())
    r = parent_owner.post(
        f"/works/{parent_work_id}/licences",
        json={
            "licensee_id": derivative_owner_id,
            "territories": ["WW"],
            "rights": ["streaming"],
            "start": now - 60,
            "end": now + 365 * 86400,
        },
    )
    licence_id = written(service, r).json()["id"]
    ledger = service.ledger
    with session(ledger.engine) as db:
        licence = db.get(LicenceRecord, licence_id)
        assert licence is not None
        licence.derivative_kinds, licence.upstream_bps = [kind.value], share_bps
        licence.upstream_min_micro = min_micro or None
        works = {
            w.work_id: w
            for w in db.exec(select(Work).where(col(Work.work_id).in_([parent_work_id, derivative_work_id])))
        }
        op = ChainOp(
            idempotency_key=f"test-derivative:{uuid.uuid4().hex}",
            chain_id=ledger.chain.chain_id,
            sender=ledger.chain.signer,
            data="0x",
            label="WorkRegistry.registerDerivative",
            status=status,
            tx_hash="0x" + uuid.uuid4().hex * 2,
            block_number=1,
        )
        db.add(licence)
        db.add(op)
        db.flush()
        db.add(
            WorkParent(
                work_pk=works[derivative_work_id].id,
                parent_pk=works[parent_work_id].id,
                licence_pk=licence_id,
                kind=kind,
                share_bps=share_bps,
                min_per_valid_play_micro=min_micro,
                position=position,
                op_id=op.id,
            )
        )
        db.commit()
    return licence_id
