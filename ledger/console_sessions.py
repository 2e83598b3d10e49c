"""Web console sessions: an API key exchanged for a cookie, so that the key itself never sits in
a browser's storage. The cookie carries a random token (only its hash is stored); changes made
with the cookie must also carry the session's CSRF token, which a page from another site cannot
read."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import col, delete, select

from ledger.accounts import authenticate
from ledger.db import session
from ledger.errors import Forbidden, Unauthenticated
from ledger.models import Account, ConsoleSession, utcnow

LIFETIME = timedelta(hours=12)
KEPT = timedelta(days=30)  # ended and expired sessions are kept this long (who signed in when), then dropped


@dataclass(frozen=True)
class OpenedSession:
    token: str  # for the cookie; never stored
    csrf_token: str
    account: Account


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(engine: Engine, api_key: str | None) -> OpenedSession:
    account = authenticate(engine, api_key)
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    with session(engine) as db:
        db.exec(delete(ConsoleSession).where(col(ConsoleSession.expires_at) < utcnow() - KEPT))
        db.add(
            ConsoleSession(
                token_hash=_digest(token),
                csrf_token=csrf,
                account_id=account.id,
                key_hash=account.key_hash,
                expires_at=utcnow() + LIFETIME,
            )
        )
        db.commit()
    return OpenedSession(token, csrf, account)


def session_of(engine: Engine, token: str | None) -> tuple[ConsoleSession, Account]:
    """The live session a cookie's token names, and its account; anything else is refused alike."""
    if not token:
        raise Unauthenticated("sign in first")
    with session(engine) as db:
        found = db.exec(
            select(ConsoleSession, Account)
            .join(Account, col(Account.id) == col(ConsoleSession.account_id))
            .where(ConsoleSession.token_hash == _digest(token))
        ).first()
    if found is None:
        raise Unauthenticated("the session is not valid; sign in again")
    held, account = found
    expires = held.expires_at if held.expires_at.tzinfo else held.expires_at.replace(tzinfo=utcnow().tzinfo)
    if held.ended_at or expires <= utcnow() or account.key_revoked_at or account.key_hash != held.key_hash:
        raise Unauthenticated("the session has ended; sign in again")
    return held, account


def check_csrf(held: ConsoleSession, sent: str | None) -> None:
    if not sent or not hmac.compare_digest(sent.encode(), held.csrf_token.encode()):
        raise Forbidden("this change needs the page's CSRF token (X-CSRF-Token); reload the page")


def end_session(engine: Engine, token: str | None) -> None:
    """Sign out. Ending a session that is already over, or unknown, is not an error."""
    if not token:
        return
    with session(engine) as db:
        held = db.exec(select(ConsoleSession).where(ConsoleSession.token_hash == _digest(token))).first()
        if held is not None and held.ended_at is None:
            held.ended_at = utcnow()
            db.add(held)
            db.commit()
