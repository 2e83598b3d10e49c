"""Dependencies shared by the routers: the ledger, and the account an API key (or the web
console's session cookie) belongs to."""

from typing import Annotated, Any

from fastapi import Cookie, Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.fields import RowIdPath
from ledger.accounts import authenticate
from ledger.console_sessions import check_csrf, session_of
from ledger.errors import Forbidden
from ledger.models import Account, Role
from ledger.service import Ledger

RowId = RowIdPath  # the routes' path ids

bearer = HTTPBearer(auto_error=False, description="The account's API key")


def get_ledger(request: Request) -> Ledger:
    ledger: Ledger = request.app.state.ledger  # set once at start (api.app); Starlette's state is untyped
    return ledger


LedgerDep = Annotated[Ledger, Depends(get_ledger)]


SESSION_COOKIE = "reelledger_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_account(
    request: Request,
    ledger: LedgerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
    session_token: Annotated[str | None, Cookie(alias=SESSION_COOKIE, include_in_schema=False)] = None,
    x_csrf_token: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Account:
    """An API key wins over a cookie; a change made with the console's cookie also needs its
    CSRF token, so another site cannot make a signed-in browser act."""
    key = credentials.credentials if credentials else x_api_key
    if key or not session_token:
        return authenticate(ledger.engine, key)
    held, account = session_of(ledger.engine, session_token)
    if request.method not in SAFE_METHODS:
        check_csrf(held, x_csrf_token)
    return account


CurrentAccount = Annotated[Account, Depends(current_account)]


def require(*roles: Role) -> Any:  # what fastapi.Depends returns, for a route's `dependencies`
    def check(account: CurrentAccount) -> Account:
        if account.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(r.value for r in roles)}")
        return account

    return Depends(check)


IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Names this request: sent again with the same key it repeats nothing and answers what it answered "
        "first; the key with another request is refused (409 idempotency_key_reused). Each account's keys are its own.",
    ),
]
