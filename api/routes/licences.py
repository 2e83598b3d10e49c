from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Response, status
from sqlmodel import col, select

from api import present, schemas
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep, RowId
from api.once import Once
from ledger import licences, work_views, works
from ledger.db import session
from ledger.models import Account, Role
from ledger.service import Ledger

router = APIRouter(tags=["licences"])
PENDING: dict[int | str, dict[str, Any]] = {
    202: {"model": schemas.LicencePublic, "description": "Recorded; the chain has not confirmed it yet."}
}


def _terms(body: schemas.LicenceCreate) -> licences.LicenceTerms:
    fields = body.model_dump(exclude={"derivative"})
    upstream = licences.UpstreamTerms(**body.derivative.model_dump()) if body.derivative else None
    return licences.LicenceTerms(**fields, derivative=upstream)


NAMES_READERS = (Role.admin, Role.auditor)  # who may read any account's name (GET /accounts)


def shaped(
    ledger: Ledger, views: Iterable[licences.LicenceView], work_id: str, reader: Account
) -> list[schemas.LicencePublic]:
    """Licences of one work, with the licensee's account name for those who may list accounts.
    Anyone else sees the account id only: a grantor names the licensee by id, so a name in the
    answer would let it learn any account's name by granting to it."""
    views = list(views)
    wanted = {v.record.licensee_id for v in views} if reader.role in NAMES_READERS else set()
    with session(ledger.engine) as db:
        names = (
            {a.id: a.name for a in db.exec(select(Account).where(col(Account.id).in_(wanted))).all()} if wanted else {}
        )
    currency = ledger.settings.settlement_currency
    return [present.licence(v, work_id, currency, licensee_name=names.get(v.record.licensee_id)) for v in views]


def _shaped(ledger: Ledger, view: licences.LicenceView, reader: Account) -> schemas.LicencePublic:
    return shaped(ledger, [view], work_views.work_id(ledger.engine, view.record.work_pk), reader)[0]


def _granted(ledger: Ledger, view: licences.LicenceView, response: Response, reader: Account) -> schemas.LicencePublic:
    """A new licence: 201 once the chain has confirmed it, 202 while it has not."""
    shaped = _shaped(ledger, view, reader)
    response.status_code = status.HTTP_201_CREATED if shaped.chain.status == "confirmed" else status.HTTP_202_ACCEPTED
    return shaped


@router.post("/works/{work_id}/licences", status_code=201, response_model=schemas.LicencePublic, responses=PENDING)
def grant_licence(
    work_id: str,
    body: schemas.LicenceCreate,
    response: Response,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
) -> schemas.LicencePublic:
    """Grant a licence on your work (授权)."""
    return _granted(
        ledger,
        licences.grant_licence(ledger, account, work_id, _terms(body), idempotency_key=idempotency_key),
        response,
        account,
    )


@router.get("/works/{work_id}/licences")
def list_licences(work_id: str, ledger: LedgerDep, account: CurrentAccount) -> list[schemas.LicencePublic]:
    views = licences.licences_of_work(ledger, account, work_id)
    ident = works.work_id_of(works.parse_work_id(work_id))
    return shaped(ledger, views, ident, account)


@router.post(
    "/licences/{licence_id}/sublicences", status_code=201, response_model=schemas.LicencePublic, responses=PENDING
)
def grant_sublicence(
    licence_id: RowId,
    body: schemas.LicenceCreate,
    response: Response,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
) -> schemas.LicencePublic:
    """Sub-license a licence you hold (转授); the scope must lie within it."""
    view = licences.grant_sublicence(ledger, account, licence_id, _terms(body), idempotency_key=idempotency_key)
    return _granted(ledger, view, response, account)


@router.get("/licences/{licence_id}")
def read_licence(licence_id: RowId, ledger: LedgerDep, account: CurrentAccount) -> schemas.LicencePublic:
    return _shaped(ledger, licences.get_licence(ledger, account, licence_id), account)


@router.post("/licences/{licence_id}/revoke", response_model=schemas.LicencePublic)
def revoke_licence(
    licence_id: RowId, ledger: LedgerDep, account: CurrentAccount, once: Once
) -> schemas.LicencePublic | Response:
    """Revoke a licence; its whole sub-licence tree stops being valid with it."""
    return once(lambda: _shaped(ledger, licences.revoke_licence(ledger, account, licence_id), account))
