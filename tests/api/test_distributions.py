"""Watermarked distributions over HTTP: a rights holder distributes a registered work to a
platform, the copy carries its own payload, the record is anchored on chain, and a copy found
later is traced back to the distribution (by its owner or a crawler, never by another tenant).

Media: scikit-image's bundled photographs (skimage.data), scaled to 1080p, encoded as PNG and
JPEG here."""

from __future__ import annotations

import hashlib
import json

import cv2
import numpy as np
import pytest
from skimage import data
from sqlmodel import select

from ledger.db import session
from ledger.distributions.records import document
from ledger.distributions.trace import trace_file
from ledger.models import Account, Role, Work
from tests.helpers.distributions import MASTER, decode, distribute, png, register, wait_ready
from watermark import attacks


def detect(client, raw: bytes, name: str = "found.png"):
    return client.post("/detect", files={"file": (name, raw, "application/octet-stream")})


@pytest.fixture(scope="module")
def parties(service):
    """A studio with one registered photograph, a platform, a crawler and another studio."""
    _, studio_address, studio = service.new_account(Role.rights_holder)
    _, _, platform = service.new_account(Role.platform)
    platform_name = platform.get("/accounts/me").json()["name"]
    _, _, crawler = service.new_account(Role.crawler)
    _, _, other = service.new_account(Role.rights_holder)
    work_id = register(studio, MASTER, "Astronaut")
    return {
        "studio": studio,
        "studio_address": studio_address,
        "platform": platform,
        "platform_name": platform_name,
        "crawler": crawler,
        "other": other,
        "work_id": work_id,
    }


@pytest.fixture(scope="module")
def ready(service, parties):
    """One finished distribution of the photograph to the platform, session s-1."""
    r = distribute(
        parties["studio"],
        parties["work_id"],
        MASTER,
        parties["platform_name"],
        fields={"session": "s-1", "tier": "vip"},
    )
    assert r.status_code == 202, r.text
    created = r.json()
    assert created["status"] in ("embedding", "anchoring", "ready")
    assert created["platform"]["name"] == parties["platform_name"]
    d = wait_ready(parties["studio"], created["id"])
    assert d["status"] == "ready", d
    copy = parties["studio"].get(d["copy"]["url"])
    assert copy.status_code == 200
    return d, copy.content


def test_the_copy_is_marked_anchored_and_its_record_checks_against_the_chain(service, parties, ready):
    d, copy = ready
    assert hashlib.sha256(copy).hexdigest() == d["copy"]["sha256"][2:] and len(copy) == d["copy"]["size"]
    assert copy != MASTER
    marked, original = decode(copy), decode(MASTER)
    assert marked.shape == original.shape
    assert cv2.PSNR(marked, original) >= 40
    record = parties["studio"].get(f"/distributions/{d['id']}/record")
    assert "0x" + hashlib.sha256(record.content).hexdigest() == d["record_hash"]
    body = json.loads(record.content)
    assert body["payload"] == d["payload"] and body["copy_sha256"] == d["copy"]["sha256"]
    assert body["platform"]["name"] == parties["platform_name"] and body["session"] == "s-1"
    assert record.content == document(body)  # canonical: re-encoding gives the same bytes
    anchored, at, by = (
        service.ledger.chain.contract("DistributionRegistry")
        .functions.anchorOf(bytes.fromhex(d["work_id"][2:]), int(d["payload"], 16))
        .call()
    )
    assert "0x" + anchored.hex() == d["record_hash"] and at > 0
    assert d["chain"]["status"] == "confirmed" and d["chain"]["tx_hash"]


def test_the_platform_sees_and_downloads_its_copy_and_nobody_else_does(parties, ready):
    d, copy = ready
    assert parties["platform"].get(f"/distributions/{d['id']}/copy").content == copy
    assert [x["id"] for x in parties["platform"].get("/distributions").json()["items"]] == [d["id"]]
    assert parties["other"].get(f"/distributions/{d['id']}").status_code == 404
    assert parties["other"].get(f"/distributions/{d['id']}/copy").status_code == 404
    assert parties["other"].get("/distributions").json()["total"] == 0
    assert parties["crawler"].get(f"/distributions/{d['id']}").status_code == 404


@pytest.mark.parametrize("attack", ["jpeg50", "crop10", "rotate2"])
def test_a_leaked_copy_is_traced_to_its_distribution_by_owner_and_crawler(parties, ready, attack):
    d, copy = ready
    leaked = attacks.ATTACKS[attack](decode(copy))
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(leaked, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 90])
    for who in ("studio", "crawler"):
        r = detect(parties[who], jpeg.tobytes(), "leak.jpg")
        assert r.status_code == 200, r.text
        found = r.json()
        assert found["watermark"]["found"] and found["watermark"]["payload"] == d["payload"]
        assert found["distribution"]["id"] == d["id"]
        assert found["distribution"]["platform"]["name"] == parties["platform_name"]
        assert found["distribution"]["session"] == "s-1"
        assert found["on_chain"] == {
            "anchored": True,
            "record_hash_matches": True,
            "anchored_at": found["on_chain"]["anchored_at"],
        }


def test_a_copy_filmed_off_a_screen_is_traced_along_the_corners_given(parties, ready):
    """Filmed in a lit room (no dark around the screen), the copy's outline is not found by
    itself; along the corners an investigator marks, it traces."""
    d, copy = ready
    filmed = png(attacks.camcorder(decode(copy), seed=8, surround=128))
    corners = " ".join(f"{x + 1:.1f},{y - 1:.1f}" for x, y in attacks.camcorder_screen((1080, 1920), seed=8))
    assert detect(parties["crawler"], filmed).json()["watermark"]["found"] is False
    r = parties["crawler"].post(
        "/detect",
        params={"screen": corners, "marked_size": "1920x1080"},
        files={"file": ("filmed.png", filmed, "application/octet-stream")},
    )
    assert r.status_code == 200, r.text
    assert r.json()["watermark"]["payload"] == d["payload"] and r.json()["distribution"]["id"] == d["id"]
    for params, field in (
        ({"screen": corners}, "screen"),
        ({"screen": "1,2 3,4", "marked_size": "1920x1080"}, "screen"),
        ({"screen": corners, "marked_size": "wide"}, "marked_size"),
    ):
        r = parties["crawler"].post("/detect", params=params, files={"file": ("filmed.png", filmed, "image/png")})
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["field"] == field, r.json()


def test_another_tenant_cannot_trace_and_unmarked_content_has_no_mark(parties, ready):
    _, copy = ready
    other = detect(parties["other"], copy).json()  # tries only the other studio's key
    assert other["watermark"]["found"] is False and other["distribution"] is None
    assert other["watermark"]["keys_tried"] == 1
    clean = detect(parties["crawler"], MASTER).json()
    assert clean["watermark"]["found"] is False and clean["distribution"] is None
    assert detect(parties["platform"], copy).status_code == 403


def test_distributing_needs_the_registered_master_a_platform_and_ownership(service, parties):
    studio, work_id = parties["studio"], parties["work_id"]
    wrong = distribute(studio, work_id, png(data.coffee()), parties["platform_name"])
    assert wrong.status_code == 422 and "not the work's master" in wrong.json()["error"]["message"]
    nobody = distribute(studio, work_id, MASTER, "no-such-platform")
    assert nobody.status_code == 422 and nobody.json()["error"]["details"]["field"] == "platform"
    crawler_name = parties["crawler"].get("/accounts/me").json()["name"]
    assert distribute(studio, work_id, MASTER, crawler_name).status_code == 422  # not a platform
    assert distribute(parties["other"], work_id, MASTER, parties["platform_name"]).status_code == 404
    assert distribute(parties["platform"], work_id, MASTER, parties["platform_name"]).status_code == 403
    no_fields = studio.post(f"/works/{work_id}/distributions", files={"file": ("m.png", MASTER, "image/png")})
    assert no_fields.status_code == 422
    bad_json = studio.post(
        f"/works/{work_id}/distributions",
        files={"file": ("m.png", MASTER, "image/png")},
        data={"distribution": "{not json"},
    )
    assert bad_json.status_code == 422
    assert studio.get("/distributions", params={"work_id": work_id}).json()["total"] <= 1  # only `ready`, if run


def test_a_work_that_is_not_media_is_refused_with_a_reason(parties):
    studio = parties["studio"]
    text = b"a screenplay, not a picture\n" * 100
    r = studio.post("/works", json={"title": "Screenplay", "kind": "film", "sha256": hashlib.sha256(text).hexdigest()})
    assert r.status_code == 201, r.text
    refused = distribute(studio, r.json()["work_id"], text, parties["platform_name"])
    assert refused.status_code == 422 and "not an image or a video" in refused.json()["error"]["message"]
    junk = detect(parties["crawler"], text, "junk.bin")
    assert junk.status_code == 422 and junk.json()["error"]["details"]["field"] == "file"


def test_retrying_with_the_same_idempotency_key_makes_one_distribution(parties):
    studio = parties["studio"]
    raw = png(data.chelsea())
    work_id = register(studio, raw, "Chelsea")
    headers = {"Idempotency-Key": "deliver-chelsea-1"}
    first = distribute(studio, work_id, raw, parties["platform_name"], headers=headers)
    again = distribute(studio, work_id, raw, parties["platform_name"], headers=headers)
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] and first.json()["payload"] == again.json()["payload"]
    clash = distribute(studio, work_id, raw, parties["platform_name"], headers=headers, fields={"session": "x"})
    assert clash.status_code == 409
    assert studio.get("/distributions", params={"work_id": work_id}).json()["total"] == 1
    second = distribute(studio, work_id, raw, parties["platform_name"])  # no key: a new distribution
    assert second.json()["payload"] != first.json()["payload"]
    for dist_id in (first.json()["id"], second.json()["id"]):
        assert wait_ready(studio, dist_id)["status"] == "ready"


def test_json_answers_are_gzipped_for_clients_that_ask_and_media_are_sent_as_they_are(service, parties, ready):
    import httpx

    d, copy = ready
    schema = httpx.get(f"{service.url}/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert schema.headers["content-encoding"] == "gzip"
    assert int(schema.headers["content-length"]) < len(schema.content) / 3  # httpx decoded it: the wire held far less
    plain = httpx.get(f"{service.url}/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.json() == schema.json()
    media = parties["platform"].get(f"/distributions/{d['id']}/copy", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in media.headers and media.content == copy


def test_a_platform_named_by_its_address_in_any_case_is_found_and_a_like_pattern_is_not(parties):
    studio = parties["studio"]
    raw = png(data.astronaut())
    work_id = register(studio, raw, "Astronaut")
    address = parties["platform"].get("/accounts/me").json()["address"]
    for spelling in (address.lower(), "0x" + address[2:].upper()):
        made = distribute(studio, work_id, raw, spelling)
        assert made.status_code == 202, made.text
        assert made.json()["platform"]["address"] == address
    pattern = distribute(studio, work_id, raw, address[:-3].lower() + "%")  # a LIKE pattern matched it once
    assert pattern.status_code == 422 and pattern.json()["error"]["details"]["field"] == "platform"


@pytest.fixture(scope="module")
def recipients(parties, ready):
    """Three more copies of the photograph for the platform (sessions c-1 to c-3), decoded;
    with `ready` (s-1) four recipients, of whom a test's colluders are some."""
    made = {}
    for name in ("c-1", "c-2", "c-3"):
        r = distribute(
            parties["studio"], parties["work_id"], MASTER, parties["platform_name"], fields={"session": name}
        )
        assert r.status_code == 202, r.text
        d = wait_ready(parties["studio"], r.json()["id"])
        assert d["status"] == "ready", d
        made[name] = (d["id"], decode(parties["studio"].get(d["copy"]["url"]).content))
    made["s-1"] = (ready[0]["id"], decode(ready[1]))
    return made


@pytest.mark.parametrize("mix", ["average", "bands"])
@pytest.mark.parametrize("colluding", [("c-1", "c-2"), ("c-1", "c-2", "c-3")])
def test_copies_mixed_by_colluders_name_a_colluder_and_no_innocent(parties, recipients, colluding, mix):
    """Copies averaged pixel by pixel, or cut together in horizontal bands, one per copy: the
    trace names at least one colluder (as the distribution, or among the colluders) and
    never s-1 or the copy left out, for the owner and for a crawler."""
    copies = [recipients[s][1] for s in colluding]
    if mix == "average":
        mixed = np.rint(np.mean(copies, axis=0)).astype(np.uint8)
    else:
        mixed, h = copies[0].copy(), copies[0].shape[0]
        for i, c in enumerate(copies):
            mixed[i * h // len(copies) : (i + 1) * h // len(copies)] = c[
                i * h // len(copies) : (i + 1) * h // len(copies)
            ]
    guilty = {recipients[s][0] for s in colluding}
    for who in ("studio", "crawler"):
        r = detect(parties[who], png(mixed), "mixed.png")
        assert r.status_code == 200, r.text
        found = r.json()
        named = {c["distribution"]["id"] for c in found["colluders"]}
        if found["distribution"] is not None:
            named.add(found["distribution"]["id"])
        assert named and named <= guilty, (found, guilty)
        assert all(c["score"] >= 6 for c in found["colluders"])
        assert [c["score"] for c in found["colluders"]] == sorted(
            (c["score"] for c in found["colluders"]), reverse=True
        )
    other = detect(parties["other"], png(mixed)).json()  # the other studio issued none of these
    assert other["colluders"] == [] and other["distribution"] is None


def test_a_case_seeks_colluders_among_the_matched_work_s_copies_only(service, parties, recipients, tmp_path):
    """The crawler's trace knows the work the copy matched: another work's copies are no
    candidates (fewer candidates, a lower threshold for the same bound), while a payload that
    decodes still names its distribution whatever the work."""
    mixed = tmp_path / "mixed.png"
    mixed.write_bytes(png(np.rint(np.mean([recipients["c-1"][1], recipients["c-2"][1]], axis=0)).astype(np.uint8)))
    other_work_id = register(parties["studio"], png(data.coffee()), "Coffee")
    with session(service.ledger.engine) as db:
        crawler = db.exec(select(Account).where(Account.role == Role.crawler)).first()
        work = db.exec(select(Work).where(Work.work_id == parties["work_id"])).one()
        other_work = db.exec(select(Work).where(Work.work_id == other_work_id)).one()
    assert crawler is not None
    theirs = trace_file(service.ledger, crawler, mixed, work_pk=work.id)
    named = {c.distribution.dist.id for c in theirs.colluders}
    if theirs.distribution is not None:
        named.add(theirs.distribution.dist.id)
    assert named and named <= {recipients["c-1"][0], recipients["c-2"][0]}, theirs
    elsewhere = trace_file(service.ledger, crawler, mixed, work_pk=other_work.id)
    assert elsewhere.colluders == ()
    assert (elsewhere.distribution and elsewhere.distribution.dist.id) == (
        theirs.distribution and theirs.distribution.dist.id
    )
