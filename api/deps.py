"""Dependencies shared by the routers: the ledger, and the account an API key belongs to."""

from typing import Annotated

from fastapi import Depends, Header, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ledger.accounts import authenticate
from ledger.errors import Forbidden
from ledger.models import Account, Role
from ledger.service import Ledger

bearer = HTTPBearer(auto_error=False, description="The account's API key")


def get_ledger(request: Request) -> Ledger:
    return request.app.state.ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


def current_account(
    ledger: LedgerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Account:
    return authenticate(ledger.engine, credentials.credentials if credentials else x_api_key)


CurrentAccount = Annotated[Account, Depends(current_account)]


def require(*roles: Role):
    def check(account: CurrentAccount) -> Account:
        if account.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(r.value for r in roles)}")
        return account

    return Depends(check)


IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retrying with the same key repeats nothing."),
]


RowId = Annotated[int, Path(ge=1, le=2**62, description="A numeric id.")]
