"""`reelledger serve` with REELLEDGER_LOG_FORMAT=json, in a process of its own on loopback: every
line it writes is a JSON object, the lines written while a request is handled carry its id (the
client's X-Request-ID, or the one made for it when the client's is unfit), and no secret it was
given appears in them. An unexpected error's line and answer carry the id too."""

from __future__ import annotations

import base64
import io
import json
import logging
import secrets
import sys
from pathlib import Path

import httpx

from benchmarks.service import ProcessService
from ledger.logs import handler
from tests.helpers.service import Service, bound_socket
from tests.helpers.settings import make_settings

ROOT = Path(__file__).resolve().parents[2]
SERVE = "import sys; from ledger.cli import main; sys.exit(main(['serve']))"


def test_json_lines_carry_the_request_id_and_no_secret(tmp_path):
    master_key = base64.b64encode(secrets.token_bytes(32)).decode()
    token = f"metrics-{secrets.token_hex(8)}"
    service = ProcessService(
        tmp_path / "data",
        [sys.executable, "-c", SERVE],
        PYTHONPATH=str(ROOT),
        REELLEDGER_LOG_FORMAT="json",
        REELLEDGER_MASTER_KEY=master_key,
        REELLEDGER_METRICS_TOKEN=token,
    )
    service.start()
    try:
        given = httpx.get(service.url + "/health", headers={"X-Request-ID": "ops-trace-42"})
        replaced = httpx.get(service.url + "/works/0x01", headers={"X-Request-ID": "no spaces allowed"})
        scraped = httpx.get(service.url + "/metrics", headers={"Authorization": f"Bearer {token}"})
    finally:
        service.stop()
    assert given.headers["x-request-id"] == "ops-trace-42"
    new_id = replaced.headers["x-request-id"]
    assert replaced.status_code == 401 and new_id != "no spaces allowed" and len(new_id) == 32
    assert scraped.status_code == 200

    text = service.log_path.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # each one a JSON object
    assert all({"time", "level", "logger", "message", "request_id"} <= set(line) for line in lines)
    by_request = {line["request_id"]: line["message"] for line in lines if line["request_id"]}
    assert "GET /health" in by_request["ops-trace-42"]  # uvicorn's access line, written for that request
    assert "GET /works/0x01" in by_request[new_id]
    assert any("Application startup complete" in line["message"] and not line["request_id"] for line in lines)
    assert master_key not in text and token not in text


def test_an_unexpected_error_is_logged_and_answered_with_the_request_id(tmp_path):
    sock, port = bound_socket()
    service = Service(make_settings(tmp_path / "data", port=port), sock)

    def explode() -> None:
        raise RuntimeError("a bug")

    service.app.add_api_route("/explode", explode, include_in_schema=False)
    out = io.StringIO()
    api_log, lines = logging.getLogger("reelledger.api"), handler("json", out)
    api_log.addHandler(lines)
    service.start()
    try:
        response = service.client().get("/explode", headers={"X-Request-ID": "bug-7"})
        scraped = service.client().get("/metrics").text
    finally:
        service.stop()
        api_log.removeHandler(lines)
    assert response.status_code == 500 and response.headers["x-request-id"] == "bug-7"
    (line,) = [json.loads(line) for line in out.getvalue().splitlines()]
    assert (line["message"], line["request_id"]) == ("unexpected error", "bug-7")
    assert "RuntimeError: a bug" in line["exception"]
    assert 'reelledger_http_requests_total{method="GET",route="/explode",status="5xx"} 1.0' in scraped
