from fastapi import APIRouter, Response, status

from api import present, schemas
from api.deps import CurrentAccount, LedgerDep, RowId, require
from api.fields import Limit, Offset
from api.once import Once
from ledger import accounts
from ledger.models import Role

router = APIRouter(prefix="/accounts", tags=["accounts"])


@router.post(
    "", status_code=status.HTTP_201_CREATED, dependencies=[require(Role.admin)], response_model=schemas.AccountCreated
)
def create_account(body: schemas.AccountCreate, ledger: LedgerDep, once: Once) -> schemas.AccountCreated | Response:
    """Create an account; its API key is in this response and nowhere else, ever (a retry under
    the same Idempotency-Key answers it again: see ledger.request_keys for how it is kept)."""

    def create() -> schemas.AccountCreated:
        created = accounts.create_account(
            ledger.engine, ledger.keys, name=body.name, role=body.role, address=body.address
        )
        accounts.authorise_service(ledger, created.account)
        return schemas.AccountCreated(account=present.account(created.account), api_key=created.api_key)

    return once(create, body)


@router.get("", dependencies=[require(Role.admin, Role.auditor)])
def list_accounts(ledger: LedgerDep, offset: Offset = 0, limit: Limit = 50) -> list[schemas.AccountPublic]:
    return [present.account(a) for a in accounts.list_accounts(ledger.engine, offset=offset, limit=limit)]


@router.get("/me")
def read_me(account: CurrentAccount) -> schemas.AccountPublic:
    return present.account(account)


@router.post("/{account_id}/key", dependencies=[require(Role.admin)], response_model=schemas.ApiKey)
def rotate_key(account_id: RowId, ledger: LedgerDep, once: Once) -> schemas.ApiKey | Response:
    """A new API key; the old one stops working at once. A retry under the same Idempotency-Key
    answers the same new key and rotates nothing."""
    return once(lambda: schemas.ApiKey(api_key=accounts.rotate_key(ledger.engine, account_id)))


@router.delete("/{account_id}/key", dependencies=[require(Role.admin)], response_model=schemas.AccountPublic)
def revoke_key(account_id: RowId, ledger: LedgerDep, once: Once) -> schemas.AccountPublic | Response:
    return once(lambda: present.account(accounts.revoke_key(ledger.engine, account_id)))
