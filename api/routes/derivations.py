"""Declaring a work's parents: the write side of derivative works (the tree views are read elsewhere)."""

from typing import Any

from fastapi import APIRouter, Response, status

from api import present, schemas
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep
from ledger import derivatives

router = APIRouter(tags=["derivatives"])
PENDING: dict[int | str, dict[str, Any]] = {
    202: {"model": schemas.DerivationPublic, "description": "Recorded; the chain has not confirmed it yet."}
}


@router.post("/works/{work_id}/parents", status_code=201, response_model=schemas.DerivationPublic, responses=PENDING)
def declare_parents(
    work_id: str,
    body: schemas.DerivativeDeclare,
    response: Response,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
) -> schemas.DerivationPublic:
    """Register your work as a derivative (二创, dub, remake...) of the works whose derive licences you hold;
    each parent's upstream share comes from its licence. Parents are declared once."""
    claims = [derivatives.ParentClaim(parent.licence_id, parent.kind) for parent in body.parents]
    view = derivatives.declare_parents(ledger, account, work_id, claims, idempotency_key=idempotency_key)
    shaped = present.derivation(view, ledger.settings.settlement_currency)
    response.status_code = status.HTTP_201_CREATED if shaped.chain.status == "confirmed" else status.HTTP_202_ACCEPTED
    return shaped
