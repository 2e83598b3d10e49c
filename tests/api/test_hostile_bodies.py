"""Hostile bodies against the service in its own process (`reelledger serve`), so that a crash
shows as a dead process: deep, wide and oversized JSON, with no key and as a platform."""

from __future__ import annotations

import json
import subprocess
import sys

import httpx
import pytest

from benchmarks.service import BenchService
from ledger.json_limits import MAX_JSON_DEPTH, RECURSION_LIMIT

DEEP = "[" * 80_000 + "]" * 80_000
WORK = "0x" + "ab" * 32
ROW = {
    "work": WORK,
    "territory": "CN",
    "date": "2026-11-16",
    "plays": 5,
    "valid_plays": 4,
    "watch_minutes": 9,
    "ad_revenue": 0,
    "currency": "CNY",
}
REPORT = {"report_id": "hostile", "period_start": "2026-11-16", "period_end": "2026-11-22", "currency": "CNY"}


@pytest.fixture(scope="module")
def served():
    with BenchService() as service:
        service.platform_key = service.create_account("platform", "streamer")
        service.studio_key = service.create_account("rights_holder", "studio")
        yield service


def post(service, path: str, body, content_type: str = "application/json", key: str | None = None, **params):
    headers = {"content-type": content_type} | ({"Authorization": f"Bearer {key}"} if key else {})
    return httpx.post(service.url + path, content=body, headers=headers, params=params, timeout=60)


def still_serves(service) -> bool:
    return service.process.poll() is None and httpx.get(service.url + "/health", timeout=10).status_code == 200


def assert_too_deep(response, field: str = "body") -> None:
    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert error["code"] == "body_too_deep"
    assert error["details"] == {"field": field, "limit": MAX_JSON_DEPTH}
    assert f"deeper than {MAX_JSON_DEPTH} levels" in error["message"]


@pytest.mark.parametrize("path", ["/console/session", "/accounts", "/works"])
def test_an_80000_deep_body_without_a_key_is_refused_and_the_service_lives_on(served, path):
    response = post(served, path, DEEP)
    assert 400 <= response.status_code < 500, response.text
    if path != "/works":  # /works asks for the key before it reads its body
        assert_too_deep(response)
    assert still_serves(served)


def test_an_80000_deep_body_with_a_key_is_refused_where_the_route_reads_it(served):
    assert_too_deep(post(served, "/works", DEEP, key=served.studio_key))
    assert_too_deep(post(served, "/works", DEEP, content_type="text/plain", key=served.studio_key))
    assert still_serves(served)


def test_a_deep_body_with_no_content_type_is_refused(served):
    response = httpx.post(served.url + "/accounts", content=DEEP, timeout=60)
    assert_too_deep(response)


def test_a_deep_body_sent_in_small_chunks_is_refused_as_it_streams(served):
    def chunks():
        for i in range(0, len(DEEP), 7):
            yield DEEP[i : i + 7].encode()

    response = post(served, "/console/session", chunks())
    assert_too_deep(response)
    assert still_serves(served)


def test_brackets_inside_strings_do_not_count_as_depth(served):
    response = post(served, "/console/session", json.dumps({"api_key": "[" * 150 + '\\"{' * 40}))
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request", response.text


def test_a_million_deep_body_is_refused_by_its_size_before_it_is_read(served):
    response = post(served, "/accounts", "[" * 1_000_000 + "]" * 1_000_000)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "body_too_large"
    assert still_serves(served)


def test_a_deep_json_report_from_a_platform_is_refused_with_the_reason(served):
    body = '{"rows": [' + json.dumps(ROW) + ", " + DEEP + "]}"
    assert_too_deep(post(served, "/reports", body, key=served.platform_key, **REPORT))
    assert_too_deep(post(served, "/reports/check", body, key=served.platform_key))
    assert still_serves(served)


def test_a_deep_ndjson_line_from_a_platform_is_refused_with_the_reason(served):
    body = json.dumps(ROW) + "\n" + DEEP + "\n"
    assert_too_deep(post(served, "/reports", body, "application/x-ndjson", key=served.platform_key, **REPORT))
    assert_too_deep(post(served, "/reports/check", body, "application/x-ndjson", key=served.platform_key))
    assert still_serves(served)


def test_ndjson_lines_each_within_the_limit_are_not_summed(served):
    """Each line is a document of its own: many rows, each 2 deep, are far from the limit."""
    body = "\n".join(json.dumps({**ROW, "extra": [[1]]}) for _ in range(200)) + "\n"
    response = post(served, "/reports/check", body, "application/x-ndjson", key=served.platform_key)
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == 200


def test_a_deep_json_form_field_is_refused_naming_the_field(served):
    deep = "[" * 30_000 + "]" * 30_000  # within the form field's 64 KiB
    files = {"metadata": (None, deep), "file": ("film.bin", b"\0" * 1024, "application/octet-stream")}
    response = httpx.post(
        served.url + "/works", files=files, headers={"Authorization": f"Bearer {served.studio_key}"}, timeout=60
    )
    assert_too_deep(response, "metadata")
    assert still_serves(served)


def test_the_recursion_limit_after_importing_the_app_is_the_sane_one():
    """py_ecc, imported through the Ethereum libraries, raises it to 100,000."""
    code = "import sys, api.main, web3, eth_account, py_ecc; print(sys.getrecursionlimit())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out) == RECURSION_LIMIT


def test_a_wide_body_is_refused_before_it_becomes_millions_of_objects(served):
    body = "[" + "{}," * 2_000_000 + "{}]"  # 6 MiB, within /works' 16 MiB
    response = post(served, "/works", body, key=served.studio_key)
    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "body_too_wide"
    response = post(served, "/works", body, content_type="text/plain", key=served.studio_key)
    assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_wide"
