"""Licences with upstream terms and declaring a work's parents over HTTP, on a real Anvil node and
both databases: each refusal is a 4xx with a reason, before anything is sent where the service can
tell, by the contract's error name where only the chain can."""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest
from sqlmodel import select

from ledger.chain.hexes import from_0x
from ledger.choices import DerivativeKind
from ledger.db import session
from ledger.models import ChainOp, Role, Work, WorkParent
from tests.helpers.service import confirmed
from tests.helpers.write_faults import a_request_thread, answered, events, fault_every_step

DAY = 86_400


def new_work(client, title: str) -> str:
    sha256 = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    response = client.post("/works", json={"sha256": sha256, "title": title, "kind": "film"})
    return confirmed(client, response, f"/works/0x{sha256}")["work_id"]


def derive_terms(licensee_id: int, kinds=("re_edit",), share_bps=3000, **extra) -> dict:
    now = int(time.time())
    return {
        "licensee_id": licensee_id,
        "territories": ["CN"],
        "rights": ["streaming", "derive"],
        "start": now - 60,
        "end": now + 30 * DAY,
        "derivative": {"kinds": list(kinds), "share_bps": share_bps, "min_per_valid_play_micro": 500},
        **extra,
    }


@pytest.fixture
def parties(service, studio):
    """A producer with a drama and a short-video studio with a re-edit of its own."""
    _, _, producer = studio
    maker_id, _, maker = service.new_account(Role.rights_holder)
    return producer, new_work(producer, "Drama"), maker_id, maker, new_work(maker, "Re-edit")


def edges_of(service, work_id: str) -> list[WorkParent]:
    with session(service.ledger.engine) as db:
        query = select(WorkParent).join(Work, Work.id == WorkParent.work_pk).where(Work.work_id == work_id)
        return list(db.exec(query).all())


def grant(owner, work_id: str, body: dict) -> dict:
    response = owner.post(f"/works/{work_id}/licences", json=body)
    return confirmed(owner, response, f"/licences/{response.json().get('id')}")


def declare(client, work_id: str, *parents: tuple[int, str], headers=None):
    body = {"parents": [{"licence_id": licence, "kind": kind} for licence, kind in parents]}
    return client.post(f"/works/{work_id}/parents", json=body, headers=headers or {})


def refusal(response, status: int) -> str:
    assert response.status_code == status, response.text
    return response.json()["error"]["code"]


def test_licence_granted_with_upstream_terms_shows_and_holds_them_on_chain(service, parties):
    producer, drama, maker_id, _, _ = parties
    licence = grant(producer, drama, derive_terms(maker_id, kinds=("dub", "re_edit")))
    assert licence["rights"] == ["derive", "streaming"]
    assert licence["derivative"] == {
        "kinds": ["re_edit", "dub"],
        "share_bps": 3000,
        "min_per_valid_play_micro": 500,
        "currency": "CNY",  # what the minimum is millionths of the minor unit of
    }
    terms = service.ledger.registries.derivative_terms(licence["chain_licence_id"])
    assert terms is not None and (terms.kinds, terms.share_bps) == ((DerivativeKind.re_edit, DerivativeKind.dub), 3000)


@pytest.mark.parametrize(
    "change, field",
    [
        ({"rights": ["streaming", "derive"], "derivative": None}, "derivative"),
        ({"rights": ["streaming"]}, "derivative"),
        ({"derivative": {"kinds": ["fan_fiction"], "share_bps": 10}}, "derivative.kinds"),
    ],
)
def test_bad_upstream_terms_are_422_before_anything_is_sent(service, parties, change, field):
    producer, drama, maker_id, _, _ = parties
    response = producer.post(f"/works/{drama}/licences", json={**derive_terms(maker_id), **change})
    assert refusal(response, 422) == "invalid_input"
    assert response.json()["error"]["details"]["field"] == field


def test_share_above_the_whole_is_422(service, parties):
    producer, drama, maker_id, _, _ = parties
    response = producer.post(f"/works/{drama}/licences", json=derive_terms(maker_id, share_bps=10_001))
    assert response.status_code == 422


def test_derive_on_a_sublicence_is_422(service, parties):
    producer, drama, maker_id, maker, _ = parties
    root = grant(producer, drama, derive_terms(maker_id, sublicensable=True))
    response = maker.post(f"/licences/{root['id']}/sublicences", json=derive_terms(maker_id))
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == "rights"


def test_declared_parents_are_registered_on_chain_with_the_licence_terms(service, parties):
    producer, drama, maker_id, maker, re_edit = parties
    licence = grant(producer, drama, derive_terms(maker_id))
    response = declare(maker, re_edit, (licence["id"], "re_edit"))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["chain"]["status"] == "confirmed"
    [edge] = body["parents"]
    assert (edge["parent_work_id"], edge["licence_id"], edge["kind"]) == (drama, licence["id"], "re_edit")
    assert (edge["share_bps"], edge["min_per_valid_play_micro"], edge["position"]) == (3000, 500, 0)
    [on_chain] = service.ledger.registries.derivative_parents(from_0x(re_edit))
    assert (on_chain.parent_id, on_chain.licence_id) == (from_0x(drama), licence["chain_licence_id"])


def test_a_retry_under_the_same_key_answers_the_same_and_registers_once(service, parties):
    producer, drama, maker_id, maker, re_edit = parties
    licence = grant(producer, drama, derive_terms(maker_id))
    headers = {"Idempotency-Key": f"derive-{uuid.uuid4().hex}"}
    first = declare(maker, re_edit, (licence["id"], "re_edit"), headers=headers)
    again = declare(maker, re_edit, (licence["id"], "re_edit"), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = declare(maker, re_edit, (licence["id"], "dub"), headers=headers)
    assert refusal(other, 409) == "idempotency_key_reused"
    registered = service.ledger.chain.events("DerivativeRegistry", "DerivativeRegistered", workId=from_0x(re_edit))
    assert len(registered) == 1


def test_another_account_may_not_declare_the_parents(service, parties):
    producer, drama, maker_id, _, re_edit = parties
    licence = grant(producer, drama, derive_terms(maker_id))
    assert refusal(declare(producer, re_edit, (licence["id"], "re_edit")), 404) == "not_found"
    _, _, stranger = service.new_account(Role.rights_holder)
    assert refusal(declare(stranger, re_edit, (licence["id"], "re_edit")), 404) == "not_found"
    _, _, auditor = service.new_account(Role.auditor)  # reads every work, writes nothing
    assert refusal(declare(auditor, re_edit, (licence["id"], "re_edit")), 403) == "forbidden"
    assert edges_of(service, re_edit) == []


def test_a_licence_held_by_someone_else_is_refused(service, parties):
    producer, drama, _, maker, re_edit = parties
    other_id, _, _ = service.new_account(Role.rights_holder)
    licence = grant(producer, drama, derive_terms(other_id))
    assert refusal(declare(maker, re_edit, (licence["id"], "re_edit")), 404) == "not_found"  # not even visible
    own = grant(maker, re_edit, derive_terms(other_id))  # visible to its grantor, held by another
    assert refusal(declare(maker, re_edit, (own["id"], "re_edit")), 422) == "invalid_input"


def test_refusals_the_service_catches_before_sending(service, parties):
    producer, drama, maker_id, maker, re_edit = parties
    dub_only = grant(producer, drama, derive_terms(maker_id, kinds=("dub",)))
    assert refusal(declare(maker, re_edit, (dub_only["id"], "re_edit")), 422) == "invalid_input"
    assert refusal(declare(maker, re_edit, (dub_only["id"], "fan_fiction")), 422) == "invalid_input"
    assert refusal(declare(maker, re_edit, (dub_only["id"], "dub"), (dub_only["id"], "dub")), 422) == "invalid_input"
    novel = new_work(producer, "Novel")
    big = grant(producer, drama, derive_terms(maker_id, share_bps=6000))
    bigger = grant(producer, novel, derive_terms(maker_id, share_bps=5000))
    too_much = declare(maker, re_edit, (big["id"], "re_edit"), (bigger["id"], "re_edit"))
    assert refusal(too_much, 422) == "invalid_input"
    assert "11000 basis points" in too_much.json()["error"]["message"]
    plain = producer.post(
        f"/works/{drama}/licences", json={**derive_terms(maker_id), "rights": ["streaming"], "derivative": None}
    ).json()
    assert refusal(declare(maker, re_edit, (plain["id"], "re_edit")), 422) == "invalid_input"
    assert refusal(maker.post(f"/works/{re_edit}/parents", json={"parents": []}), 422) == "invalid_request"
    revoked = grant(producer, drama, derive_terms(maker_id))
    assert producer.post(f"/licences/{revoked['id']}/revoke").status_code == 200
    assert refusal(declare(maker, re_edit, (revoked["id"], "re_edit")), 409) == "licence_not_valid"
    assert edges_of(service, re_edit) == []  # nothing was recorded


def test_parents_are_declared_once_and_not_after_something_derives(service, studio, parties):
    producer_id = studio[0]
    producer, drama, maker_id, maker, re_edit = parties
    assert declare(maker, re_edit, (grant(producer, drama, derive_terms(maker_id))["id"], "re_edit")).status_code == 201
    again = declare(maker, re_edit, (grant(producer, drama, derive_terms(maker_id))["id"], "re_edit"))
    assert refusal(again, 409) == "derivative_declared"
    # the drama's parents can no longer be declared: the re-edit derives from it
    novel = new_work(maker, "Novel")
    novel_licence = grant(maker, novel, derive_terms(producer_id, kinds=("remake",)))
    assert refusal(declare(producer, drama, (novel_licence["id"], "remake")), 409) == "derivative_has_children"


def test_a_chain_deeper_than_three_is_409(service, parties):
    producer, drama, maker_id, maker, _ = parties
    parent = drama
    owner = producer
    for level in range(1, 4):
        child = new_work(maker, f"Level {level}")
        licence = grant(owner, parent, derive_terms(maker_id))
        assert declare(maker, child, (licence["id"], "re_edit")).status_code == 201
        parent, owner = child, maker
    deepest = new_work(maker, "Level 4")
    licence = grant(maker, parent, derive_terms(maker_id))
    assert refusal(declare(maker, deepest, (licence["id"], "re_edit")), 409) == "derivative_too_deep"


def test_a_licence_revoked_on_chain_behind_the_service_is_refused_by_the_chain(service, parties):
    producer, drama, maker_id, maker, re_edit = parties
    licence = grant(producer, drama, derive_terms(maker_id))
    ledger = service.ledger
    ledger.registries.revoke_licence(f"behind-{uuid.uuid4().hex}", ledger.chain.signer, licence["chain_licence_id"])
    response = declare(maker, re_edit, (licence["id"], "re_edit"))
    assert refusal(response, 409) == "DerivativeLicenseNotValid"
    assert edges_of(service, re_edit) == []


def test_a_database_failure_while_declaring_parents_is_503_and_a_retry_declares_them_once(service, parties):
    producer, drama, maker_id, maker, _ = parties
    # Each attempt declares another derivative: a work's parents are declared once.
    ready = [(new_work(maker, f"Re-edit {n}"), grant(producer, drama, derive_terms(maker_id))["id"]) for n in range(24)]
    declared: dict[str, tuple[str, int]] = {}

    def attempt(key: str):
        work_id, licence = declared.setdefault(key, ready[len(declared)])
        return answered(declare(maker, work_id, (licence, "re_edit"), headers={"Idempotency-Key": key}))

    def stored(key: str) -> int:
        with session(service.ledger.engine) as db:
            query = (
                select(WorkParent)
                .join(ChainOp, ChainOp.id == WorkParent.op_id)
                .where(ChainOp.idempotency_key == f"derive:{maker_id}:{key}")
            )
            return len(db.exec(query).all())

    fired = fault_every_step(
        service.ledger,
        "http-derivation",
        attempt,
        stored,
        lambda: events(service.ledger, "DerivativeRegistry", "DerivativeRegistered"),
        most=len(ready),
        also=a_request_thread,
    )
    assert fired  # the request's database steps were each failed once
