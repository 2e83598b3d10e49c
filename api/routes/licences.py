from typing import Any

from fastapi import APIRouter, status
from fastapi.responses import JSONResponse

from api import present, schemas
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep, RowId
from api.once import Once
from ledger import licences, works
from ledger.db import must_get, session
from ledger.models import Work

router = APIRouter(tags=["licences"])
PENDING: dict[int | str, dict[str, Any]] = {
    202: {"model": schemas.LicencePublic, "description": "Recorded; the chain has not confirmed it yet."}
}


def _terms(body: schemas.LicenceCreate) -> licences.LicenceTerms:
    return licences.LicenceTerms(**body.model_dump())


def _respond(view, ledger, code_if_done=status.HTTP_201_CREATED) -> JSONResponse:
    with session(ledger.engine) as db:
        work_id = must_get(db, Work, view.record.work_pk).work_id
    shaped = present.licence(view, work_id)
    code = code_if_done if shaped.chain.status == "confirmed" else status.HTTP_202_ACCEPTED
    return JSONResponse(shaped.model_dump(mode="json"), status_code=code)


@router.post("/works/{work_id}/licences", status_code=201, response_model=schemas.LicencePublic, responses=PENDING)
def grant_licence(
    work_id: str,
    body: schemas.LicenceCreate,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
):
    """Grant a licence on your work (授权)."""
    return _respond(licences.grant_licence(ledger, account, work_id, _terms(body), idempotency_key), ledger)


@router.get("/works/{work_id}/licences")
def list_licences(work_id: str, ledger: LedgerDep, account: CurrentAccount) -> list[schemas.LicencePublic]:
    views = licences.licences_of_work(ledger, account, work_id)
    ident = works.work_id_of(works.parse_work_id(work_id))
    return [present.licence(v, ident) for v in views]


@router.post(
    "/licences/{licence_id}/sublicences", status_code=201, response_model=schemas.LicencePublic, responses=PENDING
)
def grant_sublicence(
    licence_id: RowId,
    body: schemas.LicenceCreate,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
):
    """Sub-license a licence you hold (转授); the scope must lie within it."""
    return _respond(licences.grant_sublicence(ledger, account, licence_id, _terms(body), idempotency_key), ledger)


@router.get("/licences/{licence_id}", response_model=schemas.LicencePublic)
def read_licence(licence_id: RowId, ledger: LedgerDep, account: CurrentAccount):
    return _respond(licences.get_licence(ledger, account, licence_id), ledger, status.HTTP_200_OK)


@router.post("/licences/{licence_id}/revoke", response_model=schemas.LicencePublic)
def revoke_licence(licence_id: RowId, ledger: LedgerDep, account: CurrentAccount, once: Once):
    """Revoke a licence; its whole sub-licence tree stops being valid with it."""
    return once(lambda: _respond(licences.revoke_licence(ledger, account, licence_id), ledger, status.HTTP_200_OK))
