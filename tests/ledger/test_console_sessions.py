"""Console sessions on a real database: a cookie token is good until it expires, is ended, or
the API key it was opened with is rotated or revoked; changes need the session's CSRF token;
long-dead sessions are dropped."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import select

from ledger.accounts import create_account, revoke_key, rotate_key
from ledger.console_sessions import KEPT, check_csrf, end_session, open_session, session_of
from ledger.db import make_engine, migrate, session
from ledger.errors import Forbidden, Unauthenticated
from ledger.models import ConsoleSession, Role, utcnow

ADDRESS = "0x" + "11" * 20


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'sessions.db'}")
    migrate(engine)
    return engine


@pytest.fixture
def account(engine):
    return create_account(engine, None, name="studio", role=Role.rights_holder, address=ADDRESS)


def _age(engine, token_hash_of, **fields):
    with session(engine) as db:
        held = db.exec(select(ConsoleSession).where(ConsoleSession.id == token_hash_of)).one()
        for name, value in fields.items():
            setattr(held, name, value)
        db.add(held)
        db.commit()


def test_a_session_names_its_account_until_it_ends(engine, account):
    opened = open_session(engine, account.api_key)
    held, who = session_of(engine, opened.token)
    assert who.id == account.account.id and held.csrf_token == opened.csrf_token
    assert held.token_hash != opened.token  # only a hash of the token is stored
    check_csrf(held, opened.csrf_token)
    with pytest.raises(Forbidden):
        check_csrf(held, "not-the-token")
    with pytest.raises(Forbidden):
        check_csrf(held, None)
    end_session(engine, opened.token)
    with pytest.raises(Unauthenticated):
        session_of(engine, opened.token)
    end_session(engine, opened.token)  # ending twice is not an error


def test_expired_unknown_or_missing_tokens_are_refused_alike(engine, account):
    opened = open_session(engine, account.api_key)
    held, _ = session_of(engine, opened.token)
    _age(engine, held.id, expires_at=utcnow() - timedelta(seconds=1))
    for token in (opened.token, "made-up", None, ""):
        with pytest.raises(Unauthenticated):
            session_of(engine, token)


def test_rotating_or_revoking_the_key_ends_its_sessions(engine, account):
    first = open_session(engine, account.api_key)
    new_key = rotate_key(engine, account.account.id)
    with pytest.raises(Unauthenticated):
        session_of(engine, first.token)
    second = open_session(engine, new_key)
    assert session_of(engine, second.token)[1].id == account.account.id
    revoke_key(engine, account.account.id)
    with pytest.raises(Unauthenticated):
        session_of(engine, second.token)
    with pytest.raises(Unauthenticated):
        open_session(engine, new_key)


def test_long_dead_sessions_are_dropped_when_someone_signs_in(engine, account):
    old = open_session(engine, account.api_key)
    held, _ = session_of(engine, old.token)
    _age(engine, held.id, expires_at=utcnow() - KEPT - timedelta(minutes=1))
    recent = open_session(engine, account.api_key)
    with session(engine) as db:
        kept = db.exec(select(ConsoleSession)).all()
    assert [s.id for s in kept] == [session_of(engine, recent.token)[0].id]
