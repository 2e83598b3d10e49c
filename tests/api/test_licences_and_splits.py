"""Licences, sub-licences and split versions over HTTP, with their role checks."""

from __future__ import annotations

import hashlib
import time
import uuid

import pytest

from ledger.models import Role

DAY = 86_400


@pytest.fixture
def owned_work(service, studio):
    """A confirmed work of the studio's."""
    account_id, address, client = studio
    content_hash = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    body = client.post("/works", json={"sha256": content_hash, "title": "Licensed film", "kind": "film"}).json()
    assert body["chain"]["status"] == "confirmed"
    return body["work_id"], client, address


def terms(licensee_id: int, territories=("CN", "HK"), rights=("streaming",), days=30, **extra) -> dict:
    now = int(time.time())
    return {
        "licensee_id": licensee_id,
        "territories": list(territories),
        "rights": list(rights),
        "start": now - 60,
        "end": now + days * DAY,
        **extra,
    }


def test_licence_then_sublicence_within_scope_then_revocation_of_the_tree(service, owned_work):
    work_id, owner, _ = owned_work
    platform_id, _, platform = service.new_account(Role.platform)
    reseller_id, _, reseller = service.new_account(Role.platform)

    root = owner.post(f"/works/{work_id}/licences", json=terms(platform_id, sublicensable=True))
    assert root.status_code == 201, root.text
    assert root.json()["chain_licence_id"] is not None
    child = platform.post(
        f"/licences/{root.json()['id']}/sublicences", json=terms(reseller_id, territories=["HK"], days=10)
    )
    assert child.status_code == 201, child.text
    assert reseller.get(f"/licences/{child.json()['id']}").json()["status"] == "confirmed"
    assert platform.get(f"/works/{work_id}").status_code == 200  # a licensee sees the work

    revoked = owner.post(f"/licences/{root.json()['id']}/revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    chain_child = child.json()["chain_licence_id"]
    registry = service.ledger.registries
    assert not registry.licence_valid(chain_child, int(time.time()))


def test_sublicence_wider_than_its_parent_is_422_named(service, owned_work):
    work_id, owner, _ = owned_work
    platform_id, _, platform = service.new_account(Role.platform)
    reseller_id, _, _ = service.new_account(Role.platform)
    root = owner.post(
        f"/works/{work_id}/licences", json=terms(platform_id, territories=["CN"], sublicensable=True)
    ).json()
    wide = platform.post(
        f"/licences/{root['id']}/sublicences", json=terms(reseller_id, territories=["CN", "US"], days=5)
    )
    assert wide.status_code == 422
    assert wide.json()["error"]["code"] == "LicenseScopeExceedsParent"


def test_overlapping_exclusive_licence_is_409_named(service, owned_work):
    work_id, owner, _ = owned_work
    a_id, _, _ = service.new_account(Role.platform)
    b_id, _, _ = service.new_account(Role.platform)
    assert owner.post(f"/works/{work_id}/licences", json=terms(a_id, exclusive=True)).status_code == 201
    second = owner.post(f"/works/{work_id}/licences", json=terms(b_id, territories=["CN"], exclusive=True))
    assert second.status_code == 409
    assert second.json()["error"]["code"] == "LicenseExclusiveConflict"


def test_only_the_owner_grants_and_only_the_holder_sublicenses(service, owned_work):
    work_id, owner, _ = owned_work
    platform_id, _, platform = service.new_account(Role.platform)
    _, _, stranger = service.new_account(Role.rights_holder)
    assert stranger.post(f"/works/{work_id}/licences", json=terms(platform_id)).status_code == 404
    root = owner.post(f"/works/{work_id}/licences", json=terms(platform_id)).json()
    assert platform.post(f"/works/{work_id}/licences", json=terms(platform_id)).status_code == 403
    not_sublicensable = platform.post(f"/licences/{root['id']}/sublicences", json=terms(platform_id, days=1))
    assert not_sublicensable.status_code == 403


@pytest.mark.parametrize(
    "change, field",
    [({"territories": ["XX"]}, "territories"), ({"rights": ["piracy"]}, "rights"), ({"end": 1}, "end")],
)
def test_bad_licence_terms_are_422(service, owned_work, change, field):
    work_id, owner, _ = owned_work
    platform_id, _, _ = service.new_account(Role.platform)
    response = owner.post(f"/works/{work_id}/licences", json={**terms(platform_id), **change})
    assert response.status_code == 422
    assert response.json()["error"]["details"]["field"] == field


def test_split_versions_are_added_and_read_back_from_chain(service, owned_work):
    work_id, owner, address = owned_work
    _, investor, _ = service.new_account(Role.rights_holder)
    first = owner.post(
        f"/works/{work_id}/splits",
        json={"payees": [{"address": address, "bps": 7000}, {"address": investor, "bps": 3000}]},
    )
    assert first.status_code == 201, first.text
    assert first.json()["version"] == 1
    second = owner.post(f"/works/{work_id}/splits", json={"payees": [{"address": address, "bps": 10000}]})
    assert second.json()["version"] == 2
    versions = owner.get(f"/works/{work_id}/splits").json()
    assert [v["payees"][0]["bps"] for v in versions] == [7000, 10000]


def test_split_not_summing_to_10000_is_422_and_nothing_is_sent(service, owned_work):
    work_id, owner, address = owned_work
    response = owner.post(f"/works/{work_id}/splits", json={"payees": [{"address": address, "bps": 9999}]})
    assert response.status_code == 422
    assert "9999" in response.json()["error"]["message"]
    assert owner.get(f"/works/{work_id}/splits").json() == []


def test_split_by_someone_other_than_the_owner_is_403(service, owned_work):
    work_id, _, address = owned_work
    platform_id, _, platform = service.new_account(Role.platform)
    _, _, auditor = service.new_account(Role.auditor)
    payees = {"payees": [{"address": address, "bps": 10000}]}
    assert auditor.post(f"/works/{work_id}/splits", json=payees).status_code == 403


@pytest.mark.parametrize(
    "path, body",
    [
        ("licences", {"end": 2**70}),
        ("licences", {"licensee_id": 2**70}),
        ("splits", {"payees": [{"address": "0x" + "12" * 20, "bps": 10000}], "effective_from": 2**64}),
        ("splits", {"payees": [{"address": "not an address", "bps": 10000}]}),
        ("splits", {"payees": []}),
    ],
)
def test_out_of_range_values_are_422_not_500(service, owned_work, path, body):
    work_id, owner, _ = owned_work
    platform_id, _, _ = service.new_account(Role.platform)
    payload = {**terms(platform_id), **body} if path == "licences" else body
    response = owner.post(f"/works/{work_id}/{path}", json=payload)
    assert response.status_code == 422, response.text


WORK_READS = ("", "/licences", "/splits", "/rules", "/metadata")


def reads(client, work_id: str) -> dict[str, int]:
    """The status of every read a licensee makes about a work, and whether its listing shows it."""
    answers = {path or "work": client.get(f"/works/{work_id}{path}").status_code for path in WORK_READS}
    answers["listed"] = any(
        w["work_id"] == work_id for w in client.get("/works", params={"limit": 500}).json()["items"]
    )
    return answers


OPEN = {"work": 200, "/licences": 200, "/splits": 200, "/rules": 200, "/metadata": 200, "listed": True}
CLOSED = {"work": 404, "/licences": 404, "/splits": 404, "/rules": 404, "/metadata": 404, "listed": False}


def test_a_platform_reads_a_work_while_its_licence_is_in_force_and_not_after_revocation(service, owned_work):
    work_id, owner, address = owned_work
    assert (
        owner.post(f"/works/{work_id}/splits", json={"payees": [{"address": address, "bps": 10000}]}).status_code == 201
    )
    platform_id, _, platform = service.new_account(Role.platform)
    assert reads(platform, work_id) == CLOSED
    licence = owner.post(f"/works/{work_id}/licences", json=terms(platform_id))
    assert licence.status_code == 201, licence.text
    assert reads(platform, work_id) == OPEN
    assert platform.get(f"/works/{work_id}/splits").json()[0]["payees"][0]["address"] == address
    assert owner.post(f"/licences/{licence.json()['id']}/revoke").json()["status"] == "revoked"
    assert reads(platform, work_id) == CLOSED  # the same answer as never licensed: nothing leaks
    assert platform.get(f"/works/{work_id}").json()["error"]["code"] == "not_found"
    assert (
        platform.get(f"/licences/{licence.json()['id']}").json()["status"] == "revoked"
    )  # its own licence, still its own


def test_an_ended_licence_no_longer_opens_the_work(service, owned_work):
    work_id, owner, _ = owned_work
    platform_id, _, platform = service.new_account(Role.platform)
    now = int(time.time())
    short = {**terms(platform_id), "end": now + 6}
    assert owner.post(f"/works/{work_id}/licences", json=short).status_code == 201
    assert platform.get(f"/works/{work_id}").status_code == 200
    time.sleep(max(0.0, now + 6.5 - time.time()))
    assert reads(platform, work_id) == CLOSED


def test_a_sublicensing_rights_holder_and_its_sublicensee_lose_the_work_when_the_root_is_revoked(service, owned_work):
    work_id, owner, _ = owned_work
    reseller_id, _, reseller = service.new_account(Role.rights_holder)
    platform_id, _, platform = service.new_account(Role.platform)
    root = owner.post(f"/works/{work_id}/licences", json=terms(reseller_id, sublicensable=True)).json()
    child = reseller.post(f"/licences/{root['id']}/sublicences", json=terms(platform_id, territories=["HK"], days=10))
    assert child.status_code == 201, child.text
    assert reads(reseller, work_id) == OPEN and reads(platform, work_id) == OPEN
    assert owner.post(f"/licences/{root['id']}/revoke").json()["status"] == "revoked"
    assert reads(reseller, work_id) == CLOSED
    assert reads(platform, work_id) == CLOSED  # its sub-licence fell with the licence it came from


def test_a_platform_with_a_period_still_to_settle_reads_the_work_until_that_period_is_committed(service):
    from tests.helpers.settlement import close, make_deal, post_report, rows

    deal = make_deal(service)
    posted = post_report(deal, "before-revocation", rows(deal, days=2))
    assert posted.status_code == 201, posted.text
    licence = deal.owner.get(f"/works/{deal.work_id}/licences").json()[0]
    assert deal.owner.post(f"/licences/{licence['id']}/revoke").json()["status"] == "revoked"
    assert reads(deal.platform, deal.work_id) == OPEN  # what it reported is still to settle
    assert deal.platform.get(f"/works/{deal.work_id}/rules").json()[0]["rule"]["commission_bps"] == 1_000
    closed = close(deal)
    assert closed.status_code in (200, 201, 202), closed.text
    assert reads(deal.platform, deal.work_id) == CLOSED


def test_a_crawler_reads_a_works_registration_but_not_its_licences_payees_or_rules(service, owned_work):
    from tests.helpers.settlement import RULE

    work_id, owner, address = owned_work
    platform_id, _, _ = service.new_account(Role.platform)
    assert owner.post(f"/works/{work_id}/licences", json=terms(platform_id)).status_code == 201
    assert (
        owner.post(f"/works/{work_id}/splits", json={"payees": [{"address": address, "bps": 10000}]}).status_code == 201
    )
    assert owner.post(f"/works/{work_id}/rules", json={"effective_from": "2026-01-01", "rule": RULE}).status_code == 201
    _, _, crawler = service.new_account(Role.crawler)
    work = crawler.get(f"/works/{work_id}")
    assert work.status_code == 200 and work.json()["title"] == "Licensed film"
    assert work.json()["licences"] == [] and work.json()["splits"] == []
    assert crawler.get(f"/works/{work_id}/licences").json() == []
    assert crawler.get(f"/works/{work_id}/splits").json() == []
    assert crawler.get(f"/works/{work_id}/rules").json() == []
    assert len(owner.get(f"/works/{work_id}/rules").json()) == 1  # the owner still sees what the crawler does not
