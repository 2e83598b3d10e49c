"""Hostile input over real HTTP: out-of-range numbers, booleans for numbers, dates far out, text
that lies about itself, addresses in another case. Each answers a 4xx naming the field, or is
understood; never a 500, and nothing is stored that the database or the chain cannot hold."""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from datetime import date, timedelta

import pytest

from api.main import create_app
from ledger.limits import DB_INT_MAX, EFFECTIVE_HORIZON_DAYS
from ledger.models import Role
from tests.helpers.service import written
from tests.helpers.settlement import DAY, close, make_deal, post_report, rows

HOSTILE_NAMES = {
    "nul": "Drama\x00Night",
    "right_to_left_override": "Drama \u202eNight",
    "zero_width_only": "\u200b\u200c\u200d\u2060",
}


def list_routes() -> list[str]:
    """Every GET route of the API that pages with offset and limit, from its OpenAPI document."""
    found = []
    for path, operations in create_app().openapi()["paths"].items():
        names = {p["name"] for p in operations.get("get", {}).get("parameters", []) if p["in"] == "query"}
        if {"offset", "limit"} <= names:
            found.append(path)
    return sorted(found)


def refused_fields(response) -> list[str]:
    assert response.status_code == 422, response.text
    body = response.json()["error"]
    assert body["code"] in ("invalid_request", "invalid_input"), body
    return [p["field"] for p in body["details"]["problems"]]


@pytest.fixture(scope="module")
def admin_client(service):
    return service.new_account(Role.admin)[2]


@pytest.fixture
def owned_work(service, studio):
    _, address, client = studio
    body = client.post(
        "/works",
        json={"sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "title": "Validated film", "kind": "film"},
    )
    written(service, body)
    return body.json()["work_id"], client, address


def licence_terms(licensee_id, **extra) -> dict:
    now = int(time.time())
    return {
        "licensee_id": licensee_id,
        "territories": ["CN"],
        "rights": ["streaming"],
        "start": now - 60,
        "end": now + 30 * DAY,
        **extra,
    }


def test_list_routes_are_found_in_the_openapi_document():
    assert {"/accounts", "/works", "/cases", "/distributions", "/reports"} <= set(list_routes())


@pytest.mark.parametrize("path", list_routes())
def test_every_list_route_refuses_an_offset_past_bigint_and_a_negative_limit(service, admin_client, path):
    assert "offset" in refused_fields(admin_client.get(path, params={"offset": 2**63}))[0]
    assert "offset" in refused_fields(admin_client.get(path, params={"offset": 2**64 + 5}))[0]
    assert "limit" in refused_fields(admin_client.get(path, params={"limit": -1}))[0]
    far = admin_client.get(path, params={"offset": 2**62, "limit": "2"})  # query strings still parse
    assert far.status_code == 200, far.text


def test_a_check_dated_year_one_in_a_far_east_zone_is_422_not_500(service):
    _, _, crawler = service.new_account(Role.crawler)
    response = crawler.post("/cases/1/checks", json={"alive": False, "checked_at": "0001-01-01T00:00:00+14:00"})
    assert refused_fields(response) == ["checked_at"]
    assert "1970" in response.json()["error"]["details"]["problems"][0]["problem"]


def test_a_licence_ending_past_what_bigint_holds_is_422_and_at_its_maximum_is_granted(service, owned_work):
    work_id, owner, _ = owned_work
    platform_id, _, _ = service.new_account(Role.platform)
    for end in (2**64 - 1, 2**63):
        response = owner.post(f"/works/{work_id}/licences", json=licence_terms(platform_id, end=end))
        assert refused_fields(response) == ["end"]
    granted = written(
        service, owner.post(f"/works/{work_id}/licences", json=licence_terms(platform_id, end=DB_INT_MAX))
    )
    assert granted.json()["end"] == DB_INT_MAX
    assert owner.get(f"/licences/{granted.json()['id']}").json()["chain"]["status"] == "confirmed"


@pytest.mark.parametrize("value", [True, "1", 1.0])
def test_a_licensee_id_that_is_not_a_json_integer_is_422(service, owned_work, value):
    work_id, owner, _ = owned_work
    response = owner.post(f"/works/{work_id}/licences", json=licence_terms(value))
    assert refused_fields(response) == ["licensee_id"]


@pytest.mark.parametrize("field, value", [("exclusive", 1), ("exclusive", "true"), ("start", True)])
def test_booleans_and_numbers_in_a_json_body_are_not_coerced(service, owned_work, field, value):
    work_id, owner, _ = owned_work
    platform_id, _, _ = service.new_account(Role.platform)
    response = owner.post(f"/works/{work_id}/licences", json=licence_terms(platform_id, **{field: value}))
    assert refused_fields(response) == [field]


@pytest.mark.parametrize("kind", sorted(HOSTILE_NAMES))
def test_a_hostile_work_title_is_refused_by_hash_and_by_upload(service, studio, kind):
    _, _, client = studio
    sha = hashlib.sha256(uuid.uuid4().bytes).hexdigest()
    by_hash = client.post("/works", json={"sha256": sha, "title": HOSTILE_NAMES[kind], "kind": "film"})
    assert refused_fields(by_hash) == ["title"]
    metadata = json.dumps({"title": HOSTILE_NAMES[kind], "kind": "film"})
    by_upload = client.post("/works", files={"metadata": (None, metadata), "file": ("a.bin", uuid.uuid4().bytes)})
    assert refused_fields(by_upload) == ["title"]


@pytest.mark.parametrize("kind", sorted(HOSTILE_NAMES))
def test_a_hostile_party_name_is_refused(service, studio, kind):
    _, _, client = studio
    body = {
        "sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        "title": "Film",
        "kind": "film",
        "parties": [{"name": HOSTILE_NAMES[kind], "role": "director"}],
    }
    assert refused_fields(client.post("/works", json=body)) == ["parties.0.name"]


@pytest.mark.parametrize("kind", sorted(HOSTILE_NAMES))
def test_a_hostile_account_name_is_refused(service, admin_client, kind):
    response = admin_client.post("/accounts", json={"name": HOSTILE_NAMES[kind], "role": "platform"})
    assert refused_fields(response) == ["name"]


def test_names_are_stored_nfc_and_stripped_and_right_to_left_text_is_kept(service, studio, admin_client):
    _, _, client = studio
    decomposed = "  Cafe\u0301 \u0645\u0633\u0644\u0633\u0644\u200f \U0001f469\u200d\U0001f467  "
    body = {"sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "title": decomposed, "kind": "film"}
    work = written(service, client.post("/works", json=body)).json()
    assert work["title"] == "Caf\u00e9 \u0645\u0633\u0644\u0633\u0644\u200f \U0001f469\u200d\U0001f467"
    name = f"  Pla\u0301tform {uuid.uuid4().hex[:6]} "
    created = admin_client.post("/accounts", json={"name": name, "role": "auditor"})
    assert created.status_code == 201, created.text
    assert created.json()["account"]["name"] == "Pl\u00e1tform " + name.split()[1]


def test_a_nul_in_a_search_or_a_report_id_is_422_on_every_database(service, studio):
    _, _, client = studio
    assert refused_fields(client.get("/works", params={"title": "a\x00b"})) == ["query.title"]
    _, _, platform = service.new_account(Role.platform)
    assert refused_fields(platform.get("/reports/a%00b")) == ["path.report_id"]


def test_a_rule_dated_beyond_the_horizon_is_422_and_cannot_block_later_versions(service, owned_work):
    work_id, owner, _ = owned_work
    rule = {"valid_play_tiers": [{"from_plays": 0, "price_micro": 10_000}]}
    year_9999 = owner.post(f"/works/{work_id}/rules", json={"effective_from": "9999-12-31", "rule": rule})
    assert refused_fields(year_9999) == ["effective_from"]
    beyond = date.today() + timedelta(days=EFFECTIVE_HORIZON_DAYS + 2)
    refused = owner.post(f"/works/{work_id}/rules", json={"effective_from": str(beyond), "rule": rule})
    assert refused_fields(refused) == ["effective_from"]
    assert "block" in refused.json()["error"]["message"]
    furthest = date.today() + timedelta(days=EFFECTIVE_HORIZON_DAYS - 1)
    first = owner.post(f"/works/{work_id}/rules", json={"effective_from": str(furthest), "rule": rule})
    assert first.status_code == 201, first.text
    later = owner.post(
        f"/works/{work_id}/rules", json={"effective_from": str(furthest), "rule": {**rule, "commission_bps": 5}}
    )
    assert later.status_code == 201, later.text
    assert [r["version"] for r in owner.get(f"/works/{work_id}/rules").json()] == [1, 2]


def test_a_split_effective_beyond_the_horizon_is_422_before_the_chain(service, owned_work):
    work_id, owner, address = owned_work
    payees = [{"address": address, "bps": 10_000}]
    far = int(time.time()) + (EFFECTIVE_HORIZON_DAYS + 2) * DAY
    response = owner.post(f"/works/{work_id}/splits", json={"payees": payees, "effective_from": far})
    assert refused_fields(response) == ["effective_from"]
    assert owner.get(f"/works/{work_id}/splits").json() == []
    soon = int(time.time()) + 10 * DAY
    written(service, owner.post(f"/works/{work_id}/splits", json={"payees": payees, "effective_from": soon}))


def test_a_payee_address_in_lower_case_finds_the_payees_own_statement(service):
    deal = make_deal(service)
    assert post_report(deal, "weekly-lower", rows(deal)).status_code == 201
    period = close(deal)
    assert period.status_code == 201, period.text
    url = f"/periods/{period.json()['period_id']}/statement"
    for spelling in (deal.second_address.lower(), "0x" + deal.second_address[2:].upper()):
        own = deal.second_payee.get(url, params={"payee": spelling})
        assert own.status_code == 200, own.text
        assert own.json()["payee"] == deal.second_address
        assert [line["payee"] for line in own.json()["lines"]] == [deal.second_address]
    asked = deal.platform.get(url, params={"payee": deal.second_address.lower()})
    assert [line["payee"] for line in asked.json()["lines"]] == [deal.second_address]
    assert refused_fields(deal.second_payee.get(url, params={"payee": "0x1234"})) == ["query.payee"]


def test_a_split_payee_in_lower_case_is_stored_checksummed(service, owned_work):
    work_id, owner, address = owned_work
    split = written(
        service, owner.post(f"/works/{work_id}/splits", json={"payees": [{"address": address.lower(), "bps": 10_000}]})
    )
    assert split.json()["payees"] == [{"address": address, "bps": 10_000}]


@pytest.mark.parametrize(
    "change, field",
    [
        ({"pools": {"ads": True}}, "pools.ads"),
        ({"pools": {"ads": "1e3"}}, "pools.ads"),
        ({"pools": {"ads": 2**63}}, "pools.ads"),
        ({"pools": {"ad\u202es": 5}}, "pools.ad\u202es.[key]"),
        ({"period_start": "0001-01-01"}, "period_start"),
        ({"platform_id": True}, "platform_id"),
    ],
)
def test_a_period_close_with_a_hostile_value_is_422_naming_it(service, change, field):
    _, _, platform = service.new_account(Role.platform)
    body = {"period_start": "2026-01-01", "period_end": "2026-01-07", "currency": "CNY", **change}
    assert refused_fields(platform.post("/periods/close", json=body)) == [field]


def test_pool_amounts_as_digit_strings_are_read_as_integers(service):
    """The console sends minor units as digits: a browser's numbers lose precision past 2^53."""
    deal = make_deal(service)
    assert post_report(deal, "weekly-pools", rows(deal)).status_code == 201
    closed = close(deal, pools={"ads": "9007199254740993"})
    assert closed.status_code == 201, closed.text
    assert int(closed.json()["pools"]["ads"]) == 9_007_199_254_740_993


@pytest.mark.parametrize("file_name", ["master\x00.png", "master\u202egnp.exe", "\u200b"])
def test_an_upload_whose_file_name_hides_its_text_is_refused(service, studio, file_name):
    """Built by hand: an HTTP client escapes a NUL in a file name, a hostile one does not."""
    _, _, client = studio
    boundary = uuid.uuid4().hex
    metadata = json.dumps({"title": "Film", "kind": "film"}).encode()
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="metadata"\r\n\r\n'.encode()
        + metadata
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + file_name.encode()
        + b'"\r\n\r\n'
        + uuid.uuid4().bytes
        + f"\r\n--{boundary}--\r\n".encode()
    )
    response = client.post(
        "/works", content=body, headers={"content-type": f"multipart/form-data; boundary={boundary}"}
    )
    assert refused_fields(response) == ["file"]
