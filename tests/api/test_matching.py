"""Matching over HTTP: a rights holder registers a video by upload, its frame hashes are kept,
and a re-encoded, cropped excerpt sent to POST /match (as a file, or as the frame hashes
`reelledger match` computes) names the work, the offset and its registration on chain. A
crawler matches against every work, a rights holder against their own only; bad input gets
a clear 4xx; the index is rebuilt from the database when the service starts again.

Media: footage made here from scikit-image's bundled photographs (skimage.data)."""

from __future__ import annotations

import base64
import json
import secrets
import time

import pytest
from PIL import Image
from sqlmodel import select

from ledger.db import session
from ledger.models import ChainOp, OpStatus, Role, Work
from tests.helpers.chain import ANVIL_DEV_KEY, external_anvil
from tests.helpers.service import running_service
from watermark.hash_sequence import query_sequence
from watermark.testimages import UNRELATED_PHOTOGRAPHS
from watermark.testvideos import photo_footage
from watermark.video_attacks import ALL_ATTACKS, transcode

START = 9.3


def register(client, path, title: str) -> dict:
    with open(path, "rb") as fh:
        r = client.post(
            "/works",
            files={"file": (path.name, fh, "video/mp4")},
            data={"metadata": json.dumps({"title": title, "kind": "film"})},
        )
    assert r.status_code in (201, 202), r.text
    return r.json()


def send(client, path):
    with open(path, "rb") as fh:
        return client.post("/match", files={"file": (path.name, fh, "application/octet-stream")})


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    d = tmp_path_factory.mktemp("matching")
    film = photo_footage(d / "film.mp4", width=854, height=480, seconds=24, fps=25, crf=18, shot_seconds=3.0)
    copy = transcode(film, d / "copy.mp4", ALL_ATTACKS["crop10each+crf30"], start=START, seconds=10)
    unrelated = photo_footage(d / "unrelated.mp4", width=854, height=480, seconds=10, photos=UNRELATED_PHOTOGRAPHS)
    return {"dir": d, "film": film, "copy": copy, "unrelated": unrelated}


@pytest.fixture(scope="module")
def parties(service, footage):
    _, _, studio = service.new_account(Role.rights_holder)
    _, _, other = service.new_account(Role.rights_holder)
    _, _, crawler = service.new_account(Role.crawler)
    _, _, platform = service.new_account(Role.platform)
    work = register(studio, footage["film"], "Photographs in motion")
    return {"studio": studio, "other": other, "crawler": crawler, "platform": platform, "work": work}


def test_a_cropped_re_encoded_excerpt_names_the_work_its_offset_and_its_registration(service, parties, footage):
    for who in ("crawler", "studio"):
        r = send(parties[who], footage["copy"])
        assert r.status_code == 200, r.text
        found = r.json()
        assert found["matched"] and found["work"]["work_id"] == parties["work"]["work_id"]
        assert abs(found["offset_seconds"] - START) <= 1.0
        assert found["work"]["title"] == "Photographs in motion"
        assert found["work"]["registry"] == service.ledger.chain.addresses["WorkRegistry"]
        assert found["work"]["chain"]["status"] == "confirmed" and found["work"]["chain"]["tx_hash"]
        assert found["query"]["kind"] == "video" and found["query"]["frames_usable"] >= 15


def test_frame_hashes_computed_by_the_client_match_the_same(parties, footage):
    body = {"frames": query_sequence(footage["copy"]).to_json()}
    found = parties["crawler"].post("/match", json=body).json()
    assert found["matched"] and abs(found["offset_seconds"] - START) <= 1.0


def test_unrelated_footage_is_no_match(parties, footage):
    r = send(parties["crawler"], footage["unrelated"])
    assert r.status_code == 200 and r.json()["matched"] is False and r.json()["work"] is None


def test_a_rights_holder_matches_only_against_their_own_works(parties, footage):
    r = send(parties["other"], footage["copy"])
    assert r.status_code == 200 and r.json()["matched"] is False


def test_other_roles_may_not_match(parties, footage):
    r = send(parties["platform"], footage["copy"])
    assert r.status_code == 403 and "crawler or a rights holder" in r.json()["error"]["message"]


def test_bad_input_is_a_clear_4xx_and_the_service_keeps_answering(parties, footage, tmp_path):
    crawler = parties["crawler"]
    raw = footage["film"].read_bytes()
    huge = tmp_path / "huge.png"
    Image.new("L", (10_000, 10_000)).save(huge)
    cases = {
        "not media": b"#!/bin/sh\necho this is a script\n" * 40,
        "truncated video": raw[: len(raw) // 3],
        "no decodable frames": b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 20_000,
        "huge image": huge.read_bytes(),
    }
    for label, content in cases.items():
        r = crawler.post("/match", files={"file": ("suspect.mp4", content, "application/octet-stream")})
        assert r.status_code == 422, (label, r.text)
        assert r.json()["error"]["details"]["field"] == "file", label
    empty = crawler.post("/match", files={"file": ("empty.mp4", b"", "video/mp4")})
    assert empty.status_code == 422 and "empty" in empty.text
    good = query_sequence(footage["copy"]).to_json()
    registered_variants = {
        **good,
        "variants": ["whole", "centre80"],
        "hashes": good["hashes"][: len(good["hashes"]) * 2 // 5],
    }
    for frames in (
        {"kind": "video"},
        {**good, "hashes": "AAAA"},
        {**good, "duration": 1e12},
        {**good, "sampled": -1},
        {**good, "kind": "image"},
        registered_variants,
    ):
        r = crawler.post("/match", json={"frames": frames})
        assert r.status_code == 422, (frames.keys(), r.text)
    assert crawler.post("/match", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 422
    flood = crawler.post(
        "/match", content=b"[" + b"0," * 9_000_000 + b"0]", headers={"Content-Type": "application/json"}
    )
    assert flood.status_code == 413
    assert send(crawler, footage["copy"]).json()["matched"]  # still answering, still right


def test_the_index_is_rebuilt_from_the_database_when_the_service_starts_again(tmp_path, footage):
    data = tmp_path / "data"
    with running_service(data, write_wait=10) as first:
        _, _, studio = first.new_account(Role.rights_holder)
        work = register(studio, footage["film"], "Kept")
    with running_service(data, write_wait=10) as second:
        deadline = time.monotonic() + 30
        while len(second.ledger.matcher.index) == 0:  # built at start, before any match asks
            assert time.monotonic() < deadline, "the match index was not rebuilt at start"
            time.sleep(0.1)
        _, _, crawler = second.new_account(Role.crawler)
        found = send(crawler, footage["copy"]).json()
        assert found["matched"] and found["work"]["work_id"] == work["work_id"]


def test_a_registration_the_chain_refused_is_never_matched(service, footage):
    _, _, studio = service.new_account(Role.rights_holder)
    _, _, crawler = service.new_account(Role.crawler)
    clip = photo_footage(
        footage["dir"] / "refused.mp4", width=640, height=360, seconds=12, seed=5, photos=("coins", "clock", "moon")
    )  # in no other footage of this module
    first = register(studio, clip, "Refused later")
    excerpt = transcode(clip, footage["dir"] / "refused-copy.mp4", ALL_ATTACKS["crf30"], start=2.0, seconds=8)
    assert send(crawler, excerpt).json()["work"]["work_id"] == first["work_id"]
    with session(service.ledger.engine) as db:  # as if the chain had reverted it after the 202
        work = db.exec(select(Work).where(Work.work_id == first["work_id"])).one()
        op = db.get(ChainOp, work.op_id)
        op.status = OpStatus.reverted
        db.add(op)
        db.commit()
    assert send(crawler, excerpt).json()["matched"] is False
    assert send(studio, excerpt).json()["matched"] is False


def test_a_work_registered_through_one_replica_is_matched_at_once_through_another(tmp_path, footage, postgres_url):
    """Two replicas on one PostgreSQL database and one chain: each keeps its own index, and
    takes in the rows it does not hold before every match, so a work registered through one
    is matched through the other with no wait (the index is never behind the database)."""
    shared = {"master_key": base64.b64encode(secrets.token_bytes(32)).decode(), "signer_key": ANVIL_DEV_KEY}
    with external_anvil(tmp_path) as node:
        with (
            running_service(tmp_path / "a", postgres_url, rpc_url=node.url, write_wait=10, **shared) as first,
            running_service(tmp_path / "b", postgres_url, rpc_url=node.url, write_wait=10, **shared) as second,
        ):
            _, _, crawler = second.new_account(Role.crawler)
            assert send(crawler, footage["unrelated"]).json()["matched"] is False  # second's index is built
            _, _, studio = first.new_account(Role.rights_holder)
            work = register(studio, footage["film"], "Through the first replica")
            found = send(crawler, footage["copy"]).json()
            assert found["matched"] and found["work"]["work_id"] == work["work_id"]
            assert abs(found["offset_seconds"] - START) <= 1.0
