"""Disputes of statement lines across periods, and the arbiter seat that decides them."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep, require
from api.fields import AddressQuery, Limit, Offset, WorkIdQuery
from api.once import Once
from ledger.models import DisputeState, Role
from ledger.settlement import arbiter, disputes

router = APIRouter(tags=["disputes"])


@router.get("/disputes", response_model_exclude_unset=True)
def list_disputes(
    ledger: LedgerDep,
    account: CurrentAccount,
    state: Annotated[DisputeState | None, Query(description="open, upheld or rejected.")] = None,
    payee: Annotated[AddressQuery, Query(description="Only this payee's disputes.")] = None,
    work_id: WorkIdQuery | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> list[schemas.DisputePublic]:
    """The disputes the caller may see (its own as payee, its periods' as platform, its works' as
    rights holder; all for auditors, admins and the arbiter), oldest first."""
    return [
        present.dispute(d)
        for d in disputes.list_disputes(
            ledger, account, state=state, payee=payee, work_id=work_id, offset=offset, limit=limit
        )
    ]


@router.get("/arbiter")
def arbiter_seat(ledger: LedgerDep, account: CurrentAccount) -> schemas.ArbiterSeat:
    """Who decides disputes (current and pending holder of the seat), in what time, with what
    default and what bond."""
    return present.arbiter_seat(arbiter.seat(ledger))


@router.post("/arbiter/handover", response_model=schemas.ChainResult, dependencies=[require(Role.admin)])
def begin_handover(
    body: schemas.ArbiterHandoverIn, ledger: LedgerDep, account: CurrentAccount, once: Once
) -> schemas.ChainResult | Response:
    """An admin offers the service signer's seat to an arbiter account, which then accepts."""
    return once(
        lambda: schemas.ChainResult(
            chain=present.chain_status(arbiter.begin_handover(ledger, account, body.account_id))
        ),
        body,
    )


@router.post("/arbiter/accept", response_model=schemas.ChainResult, dependencies=[require(Role.arbiter)])
def accept_handover(ledger: LedgerDep, account: CurrentAccount, once: Once) -> schemas.ChainResult | Response:
    """The arbiter account named by the handover takes the seat, with its own custodial key."""
    return once(lambda: schemas.ChainResult(chain=present.chain_status(arbiter.accept(ledger, account))))
