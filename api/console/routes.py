"""Console pages and sign-in. Pages are shells: their data comes from the JSON API, with the
session cookie, so a page shows nothing the API would not give the same account."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from fastapi import APIRouter, Cookie, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from api import schemas
from api.console.i18n import LANG_COOKIE, LANGUAGES, language_of, messages
from api.console.pages import PAGES, nav_for
from api.deps import SESSION_COOKIE, LedgerDep
from api.fields import CHECKED_TEXT
from ledger.console_sessions import LIFETIME, check_csrf, end_session, open_session, session_of
from ledger.errors import Forbidden, Unauthenticated
from ledger.models import Account, ConsoleSession
from ledger.service import Ledger

router = APIRouter(prefix="/console", include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC = Path(__file__).parent / "static"
SessionCookie = Annotated[str | None, Cookie(alias=SESSION_COOKIE)]


def _same_origin(request: Request) -> bool:
    """A sign-in posted from another site's page is refused (login CSRF)."""
    origin = request.headers.get("origin")
    if origin is None:
        return request.headers.get("sec-fetch-site", "same-origin") in ("same-origin", "none")
    # the host only: behind a TLS-terminating proxy the scheme the service sees is not the browser's
    return urlsplit(origin).netloc == request.headers.get("host", request.url.netloc)


def browser_rpc_url(ledger: Ledger) -> str | None:
    """The node browsers verify against: never a remote rpc_url, which may carry credentials."""
    settings = ledger.settings
    if settings.public_rpc_url:
        return settings.public_rpc_url
    return ledger.chain.rpc_url if settings.managed_chain else None


def _config(ledger: Ledger) -> dict[str, Any]:
    chain = ledger.chain
    return {
        "rpcUrl": browser_rpc_url(ledger),
        "chainId": chain.chain_id,
        "contracts": dict(chain.addresses),
        "currency": ledger.settings.settlement_currency,
        # the managed node answers pages from this origin only: elsewhere, the page says where to go
        "origin": ledger.settings.browser_origin
        if ledger.settings.managed_chain and not ledger.settings.public_rpc_url
        else None,
    }


R = TypeVar("R", bound=Response)


def _security_headers(response: R, rpc_url: str | None) -> R:
    rpc = urlsplit(rpc_url) if rpc_url else None
    connect = "'self'" + (f" {rpc.scheme}://{rpc.netloc}" if rpc else "")
    response.headers["Content-Security-Policy"] = (
        f"default-src 'self'; script-src 'self'; connect-src {connect}; img-src 'self' data: blob:; "
        "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Cache-Control"] = "no-store"
    return response


def _render(request: Request, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language_of(request)
    response = templates.TemplateResponse(
        request, template, {"lang": lang, "t": messages(lang), "languages": LANGUAGES, **context}, status_code=status
    )
    if request.query_params.get("lang") in LANGUAGES:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax")
    return _security_headers(response, context.get("rpc_url"))


def _script_json(value: object) -> str:
    """JSON safe inside a <script> element: no "</script>" can close it early."""
    return json.dumps(value, ensure_ascii=False).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _shell(request: Request, ledger: Ledger, account: Account, held: ConsoleSession, page: str) -> HTMLResponse:
    config = {**_config(ledger), "custodial": account.custodial}  # whether claims go through the service or a wallet
    return _render(
        request,
        "page.html",
        page=page,
        account=account,
        nav=nav_for(account.role),
        csrf=held.csrf_token,
        rpc_url=config["rpcUrl"],
        config_json=_script_json(config),
        messages_json=_script_json(messages(language_of(request))),
    )


def not_found_page(request: Request) -> HTMLResponse:
    """The console's 404 for an address under /console that names nothing: a page with a way back."""
    return _render(request, "refused.html", status=404, reason="not_found")


@router.get("/login")
def login_page(
    request: Request, next: Annotated[str, Query(max_length=2000), CHECKED_TEXT] | None = None
) -> HTMLResponse:
    return _render(request, "login.html", next=next if next and next.startswith("/console/") else "/console/overview")


def _secure(request: Request, ledger: Ledger) -> bool:
    """Behind a TLS-terminating proxy the service sees http: REELLEDGER_SECURE_COOKIES says https."""
    return ledger.settings.secure_cookies or request.url.scheme == "https"


# The console's sign-in and sign-out take no Idempotency-Key: they are a browser's, outside the API
# document. Signing in again opens one more session (it expires like the first; keeping the
# answer would keep its cookie's token), and ending a session that is over is not an error.
@router.post("/session")
def sign_in(request: Request, response: Response, body: schemas.SignIn, ledger: LedgerDep) -> schemas.SignedIn:
    if not _same_origin(request):
        raise Forbidden("sign in from the console's own page")
    opened = open_session(ledger.engine, body.api_key)
    response.set_cookie(
        SESSION_COOKIE,
        opened.token,
        max_age=int(LIFETIME.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(request, ledger),
        path="/",
    )
    response.headers["Cache-Control"] = "no-store"
    return schemas.SignedIn(name=opened.account.name, role=opened.account.role)


@router.post("/session/end")
def sign_out(request: Request, response: Response, ledger: LedgerDep, token: SessionCookie = None) -> schemas.SignedOut:
    held, _ = session_of(ledger.engine, token)
    check_csrf(held, request.headers.get("x-csrf-token"))
    end_session(ledger.engine, token)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=_secure(request, ledger))
    return schemas.SignedOut(signed_out=True)


@router.get("")
@router.get("/")
def console_home() -> RedirectResponse:
    return RedirectResponse("/console/overview", status_code=303)


@router.get("/{page}")
def console_page(page: str, request: Request, ledger: LedgerDep, token: SessionCookie = None) -> Response:
    try:
        held, account = session_of(ledger.engine, token)
    except Unauthenticated:
        return RedirectResponse(
            f"/console/login?next=/console/{page}" if page in PAGES else "/console/login", status_code=303
        )
    found = PAGES.get(page)
    if found is None:
        return _render(
            request,
            "refused.html",
            status=404,
            account=account,
            nav=nav_for(account.role),
            csrf=held.csrf_token,
            reason="not_found",
        )
    if account.role not in found.roles:
        return _render(
            request,
            "refused.html",
            status=403,
            account=account,
            nav=nav_for(account.role),
            csrf=held.csrf_token,
            reason="forbidden",
        )
    return _shell(request, ledger, account, held, page)
