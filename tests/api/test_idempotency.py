"""Idempotency-Key on every write route that takes one: the same key with the same request
(whatever its JSON key order or spacing) repeats nothing and answers with the first result; the
same key with a different request is a 409 idempotency_key_reused that names the key, and
nothing new reaches the chain."""

from __future__ import annotations

import hashlib
import json
import uuid

from skimage import data

from ledger.models import Role
from tests.helpers.distributions import distribute, png, register, wait_ready
from tests.helpers.idempotency import assert_reused, chain_events, licence_terms, owned, post_raw  # noqa: F401  (fixture)
from tests.helpers.service import settle, written
from tests.helpers.settlement import DAY


def test_a_work_registered_again_with_its_key_repeats_nothing_and_a_changed_one_is_409(service, studio):
    _, _, client = studio
    key = f"work-{uuid.uuid4().hex}"
    body = {
        "sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(),
        "title": "Night Ferry",
        "kind": "film",
        "parties": [{"name": "Studio A", "role": "producer"}],
    }
    first = written(service, post_raw(client, "/works", body, key))
    registered = chain_events(service, "WorkRegistry", "WorkRegistered")
    again = post_raw(client, "/works", body, key, reordered=True)
    assert again.status_code in (200, 201, 202), again.text
    assert again.json()["work_id"] == first.json()["work_id"]
    assert_reused(post_raw(client, "/works", {**body, "title": "Night Ferry (director's cut)"}, key), key)
    assert_reused(post_raw(client, "/works", {**body, "parties": []}, key), key)
    settle(service.ledger.chain.outbox)
    assert chain_events(service, "WorkRegistry", "WorkRegistered") == registered


def test_an_uploaded_work_is_compared_by_its_file_and_fields(service, studio):
    _, _, client = studio
    key = f"upload-{uuid.uuid4().hex}"
    content = uuid.uuid4().bytes * 64  # not media: registered by its SHA-256, nothing to fingerprint

    def upload(raw: bytes, meta: dict):
        return client.post(
            "/works",
            files={"file": ("master.bin", raw, "application/octet-stream")},
            data={"metadata": json.dumps(meta)},
            headers={"Idempotency-Key": key},
        )

    first = written(service, upload(content, {"title": "Archive reel", "kind": "film"}))
    again = upload(content, {"kind": "film", "title": "Archive reel"})
    assert again.json()["work_id"] == first.json()["work_id"]
    assert_reused(upload(content + b"!", {"title": "Archive reel", "kind": "film"}), key)
    assert_reused(upload(content, {"title": "Another reel", "kind": "film"}), key)


def test_a_licence_granted_again_with_its_key_repeats_nothing_and_a_changed_one_is_409(service, owned):
    work_id, owner, _ = owned
    platform_id, _, _ = service.new_account(Role.platform)
    key = f"licence-{uuid.uuid4().hex}"
    url = f"/works/{work_id}/licences"
    terms = licence_terms(platform_id)
    first = written(service, post_raw(owner, url, terms, key))
    granted = chain_events(service, "LicenseRegistry", "LicenseGranted")
    again = post_raw(owner, url, {**terms, "territories": ["CN", "HK"]}, key, reordered=True)
    assert again.status_code in (200, 201, 202) and again.json()["id"] == first.json()["id"]
    assert_reused(post_raw(owner, url, {**terms, "end": terms["end"] + DAY}, key), key)
    assert_reused(post_raw(owner, url, {**terms, "territories": ["CN"]}, key), key)
    assert_reused(post_raw(owner, url, {**terms, "exclusive": True}, key), key)
    settle(service.ledger.chain.outbox)
    assert chain_events(service, "LicenseRegistry", "LicenseGranted") == granted


def test_a_sublicence_granted_again_with_its_key_repeats_nothing_and_a_changed_one_is_409(service, owned):
    work_id, owner, _ = owned
    platform_id, _, platform = service.new_account(Role.platform)
    reseller_id, _, _ = service.new_account(Role.platform)
    parent = licence_terms(platform_id, sublicensable=True)
    root = written(service, owner.post(f"/works/{work_id}/licences", json=parent))
    key = f"sub-{uuid.uuid4().hex}"
    url = f"/licences/{root.json()['id']}/sublicences"
    # Inside the parent's term however long its grant took on a loaded machine.
    terms = {**licence_terms(reseller_id, territories=["HK"]), "start": parent["start"], "end": parent["end"] - DAY}
    first = written(service, post_raw(platform, url, terms, key))
    granted = chain_events(service, "LicenseRegistry", "LicenseGranted")
    assert post_raw(platform, url, terms, key, reordered=True).json()["id"] == first.json()["id"]
    assert_reused(post_raw(platform, url, {**terms, "rights": ["streaming", "download"]}, key), key)
    settle(service.ledger.chain.outbox)
    assert chain_events(service, "LicenseRegistry", "LicenseGranted") == granted


def test_a_split_set_again_with_its_key_repeats_nothing_and_a_changed_one_is_409(service, owned):
    work_id, owner, address = owned
    _, other, _ = service.new_account(Role.rights_holder)
    key = f"split-{uuid.uuid4().hex}"
    url = f"/works/{work_id}/splits"
    body = {"payees": [{"address": address, "bps": 7_000}, {"address": other, "bps": 3_000}], "effective_from": 0}
    first = written(service, post_raw(owner, url, body, key))
    versions = chain_events(service, "SplitRegistry", "SplitVersionSet")
    again = post_raw(
        owner,
        url,
        {"effective_from": 0, "payees": [{"bps": 7_000, "address": address.lower()}, {"bps": 3_000, "address": other}]},
        key,
    )
    assert again.status_code in (200, 201, 202)
    assert again.json()["chain"]["tx_hash"] == first.json()["chain"]["tx_hash"]
    swapped = {"payees": [{"address": address, "bps": 3_000}, {"address": other, "bps": 7_000}], "effective_from": 0}
    assert_reused(post_raw(owner, url, swapped, key), key)
    settle(service.ledger.chain.outbox)
    assert chain_events(service, "SplitRegistry", "SplitVersionSet") == versions


def test_a_distribution_asked_again_with_its_key_repeats_nothing_and_a_changed_one_is_409(service, studio):
    _, _, client = studio
    _, platform_address, _ = service.new_account(Role.platform)
    raw = png(data.coffee())
    work_id = register(client, raw, "Coffee", service)
    key = f"dist-{uuid.uuid4().hex}"
    headers = {"Idempotency-Key": key}
    first = distribute(client, work_id, raw, platform_address, headers=headers, fields={"tier": "hd", "session": "s"})
    assert first.status_code == 202, first.text
    again = distribute(client, work_id, raw, platform_address, headers=headers, fields={"session": "s", "tier": "hd"})
    assert again.json()["id"] == first.json()["id"]
    assert_reused(
        distribute(client, work_id, raw, platform_address, headers=headers, fields={"tier": "sd", "session": "s"}), key
    )
    other = png(data.astronaut())
    assert_reused(
        distribute(client, work_id, other, platform_address, headers=headers, fields={"tier": "hd", "session": "s"}),
        key,
    )
    assert wait_ready(client, first.json()["id"])["status"] == "ready"
    settle(service.ledger.chain.outbox)
    assert chain_events(service, "DistributionRegistry", "DistributionAnchored") >= 1


def test_a_rule_version_set_again_with_its_key_adds_no_version_and_a_changed_one_is_409(service, owned):
    from tests.helpers.settlement import RULE

    work_id, client, _ = owned
    key = f"rule-{uuid.uuid4().hex}"
    body = {"effective_from": "2026-01-01", "rule": RULE}
    first = post_raw(client, f"/works/{work_id}/rules", body, key)
    assert first.status_code == 201, first.text
    again = post_raw(client, f"/works/{work_id}/rules", body, key, reordered=True)
    assert again.status_code == 201 and again.json() == first.json()
    assert_reused(post_raw(client, f"/works/{work_id}/rules", {**body, "effective_from": "2026-02-01"}, key), key)
    assert_reused(
        post_raw(client, f"/works/{work_id}/rules", {**body, "rule": {**RULE, "commission_bps": 100}}, key), key
    )
    assert [v["version"] for v in client.get(f"/works/{work_id}/rules").json()] == [1]
    unkeyed = client.post(f"/works/{work_id}/rules", json=body)  # without a key each request is a new version
    assert unkeyed.status_code == 201 and unkeyed.json()["version"] == 2
