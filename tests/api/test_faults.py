"""Faults in the middle of a registration: the chain node stopped, the database connection
killed. The client hears a clear status, nothing is half-written and nothing is sent twice."""

from __future__ import annotations

import hashlib

import psycopg
import pytest
from sqlalchemy import event
from sqlmodel import select

from ledger.db import session
from ledger.models import ChainOp, Role, Work
from tests.helpers.service import running_service, settle, written


@pytest.fixture
def quiet_service(tmp_path, request):
    """A service whose reconciler stays idle, so the test decides when the node comes back."""
    url = request.getfixturevalue("postgres_url") if getattr(request, "param", None) == "postgresql" else None
    with running_service(tmp_path / "data", url, reconcile_interval=3600, write_wait=1) as svc:
        yield svc


def test_node_stopped_during_registration_answers_pending_then_confirms_once(quiet_service):
    svc = quiet_service
    _, _, client = svc.new_account(Role.rights_holder)
    # The account's operator approval goes through while the node is up.
    written(svc, client.post("/works", json={"sha256": "11" * 32, "title": "warm-up", "kind": "film"}))
    svc.ledger.chain.node.kill()

    content_hash = hashlib.sha256(b"registered while the node is down").hexdigest()
    response = client.post(
        "/works",
        json={"sha256": content_hash, "title": "Offline", "kind": "film"},
        headers={"Idempotency-Key": "offline-1"},
    )
    assert response.status_code == 202
    assert response.json()["chain"]["status"] == "pending"
    retry = client.post(
        "/works",
        json={"sha256": content_hash, "title": "Offline", "kind": "film"},
        headers={"Idempotency-Key": "offline-1"},
    )
    assert retry.status_code == 202

    assert svc.ledger.chain.ensure_node()
    settle(svc.ledger.chain.outbox)
    detail = client.get(f"/works/0x{content_hash}").json()
    assert detail["chain"]["status"] == "confirmed", detail["chain"]
    assert detail["on_chain"]["owner"] == client.get("/accounts/me").json()["address"]
    logs = svc.ledger.chain.events("WorkRegistry", "WorkRegistered", workId=bytes.fromhex(content_hash))
    assert len(logs) == 1


@pytest.mark.parametrize("quiet_service", ["postgresql"], indirect=True)
def test_database_connection_killed_mid_registration_is_503_and_nothing_half_written(quiet_service, postgres_server):
    svc = quiet_service
    _, _, client = svc.new_account(Role.rights_holder)
    engine = svc.ledger.engine
    content_hash = hashlib.sha256(b"written when the database dies").hexdigest()

    def kill_connection(conn, cursor, statement, *args):
        if statement.lstrip().upper().startswith("INSERT INTO WORK"):
            pid = conn.connection.dbapi_connection.info.backend_pid
            with psycopg.connect(postgres_server, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (pid,))

    event.listen(engine, "before_cursor_execute", kill_connection)
    try:
        response = client.post("/works", json={"sha256": content_hash, "title": "Lost", "kind": "film"})
    finally:
        event.remove(engine, "before_cursor_execute", kill_connection)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "database_unavailable"
    with session(engine) as db:
        assert db.exec(select(Work).where(Work.work_id == "0x" + content_hash)).first() is None
        assert (
            db.exec(select(ChainOp).where(ChainOp.idempotency_key.like(f"register-work:0x{content_hash}%"))).first()
            is None
        )
    written(svc, client.post("/works", json={"sha256": content_hash, "title": "Lost", "kind": "film"}))


def test_registration_refused_after_a_202_can_be_made_again(quiet_service):
    """Sent while the node was down, refused by the chain once it was back: the file is free again."""
    svc = quiet_service
    ledger = svc.ledger
    wallet = ledger.keys.ensure("self-custody-wallet")
    ledger.chain.fund(wallet)
    _, _, client = svc.new_account(Role.rights_holder, address=wallet)
    content_hash = hashlib.sha256(b"refused later").hexdigest()
    ledger.chain.node.kill()
    assert client.post("/works", json={"sha256": content_hash, "title": "Later", "kind": "film"}).status_code == 202
    assert ledger.chain.ensure_node()
    settle(ledger.chain.outbox)  # the dry run now runs, and the contract refuses: no operator approval
    assert client.get(f"/works/0x{content_hash}").json()["chain"]["error"] == "WorkUnauthorized"

    ledger.chain.fund(wallet)  # the dev node may have lost the faucet's funding with the kill
    ledger.registries.set_operator("approve-now", wallet, ledger.chain.signer, True)
    written(svc, client.post("/works", json={"sha256": content_hash, "title": "Later", "kind": "film"}))
    assert client.get(f"/works/0x{content_hash}").json()["chain"]["status"] == "confirmed"
