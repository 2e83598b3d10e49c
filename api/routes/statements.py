"""Statements across periods: the revenue that reached a payee through derivatives."""

from typing import Annotated

from fastapi import APIRouter, Query

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep
from api.fields import AddressQuery
from ledger.settlement import upstream

router = APIRouter(prefix="/statements", tags=["settlement"])


@router.get("/upstream")
def upstream_revenue(
    ledger: LedgerDep,
    account: CurrentAccount,
    payee: Annotated[
        AddressQuery, Query(description="Auditors and admins may name a payee; payees get their own.")
    ] = None,
) -> list[schemas.UpstreamRevenue]:
    """What reached the payee, as payee of a parent work, through each derivative, per period:
    one entry per upstream statement line (verify it with its period's statement)."""
    return [present.upstream_revenue(r) for r in upstream.upstream_revenue(ledger, account, payee=payee)]
