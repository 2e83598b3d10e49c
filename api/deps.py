"""Dependencies shared by the routers."""

from typing import Annotated

from fastapi import Depends, Request

from ledger.service import Ledger


def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]
