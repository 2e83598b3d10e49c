"""Requests sent twice under one Idempotency-Key: the body as raw JSON text, the 409 a reused key
gets, the events on chain, and a registered work with a licence's terms to grant on it."""

from __future__ import annotations

import hashlib
import json
import time
import uuid

import pytest

from tests.helpers.service import written
from tests.helpers.settlement import DAY


def chain_events(service, contract: str, event: str) -> int:
    return len(service.ledger.chain.contract(contract).events[event]().get_logs(from_block=0))


def post_raw(client, url: str, body: dict, key: str, reordered: bool = False):
    """The body as JSON text; `reordered` sends the same object with its keys reversed and spaced out."""
    text = json.dumps(dict(reversed(list(body.items()))), indent=3) if reordered else json.dumps(body)
    return client.post(url, content=text, headers={"content-type": "application/json", "Idempotency-Key": key})


def assert_reused(response, key: str) -> None:
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "idempotency_key_reused"
    assert key in error["message"]


@pytest.fixture
def owned(service, studio):
    _, address, client = studio
    body = client.post(
        "/works", json={"sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "title": "Film", "kind": "film"}
    )
    written(service, body)
    return body.json()["work_id"], client, address


def licence_terms(licensee_id: int, **extra) -> dict:
    now = int(time.time())
    return {
        "licensee_id": licensee_id,
        "territories": ["CN", "HK"],
        "rights": ["streaming"],
        "start": now - 60,
        "end": now + 30 * DAY,
        **extra,
    }
