"""Piracy cases for derivatives: a cut-down made of a film's frames is registered as a work of
its own and declared a licensed re-edit of the film. A copy of the cut-down found on the web
matches both works; its case is the cut-down's, names the film as its source and the licence
between them (in the case, its evidence and its notices), and no notice claims the film's rights
for it. A copy of the whole film is still the film's case.

Media: footage made here from scikit-image's bundled photographs (skimage.data)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ledger.models import Role
from tests.helpers.cases import report, wait_anchored
from tests.helpers.derivatives import derive
from tests.helpers.service import written
from watermark.testvideos import photo_footage
from watermark.video_attacks import ALL_ATTACKS, transcode

CUT_FROM, CUT_SECONDS = 8.0, 10.0


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    d = tmp_path_factory.mktemp("derivative-cases")
    film = photo_footage(d / "film.mp4", width=640, height=360, seconds=24, fps=25, crf=18, shot_seconds=3.0)
    cut = transcode(film, d / "cut.mp4", ALL_ATTACKS["crf30"].then(crf=20), start=CUT_FROM, seconds=CUT_SECONDS)
    return {
        "film": film,
        "cut": cut,
        "cut_copy": transcode(cut, d / "cut-copy.mp4", ALL_ATTACKS["crop10+crf30"]),
        "film_copy": transcode(film, d / "film-copy.mp4", ALL_ATTACKS["crf30"]),
    }


def upload(service, client, path, title: str) -> str:
    with open(path, "rb") as fh:
        r = client.post(
            "/works",
            files={"file": (path.name, fh, "video/mp4")},
            data={"metadata": json.dumps({"title": title, "kind": "film"})},
        )
    return written(service, r).json()["work_id"]


def found(service, crawler, path, url: str) -> dict:
    r = report(crawler, path.read_bytes(), url=url, content_type="video/mp4", headers={"Content-Type": "video/mp4"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["matched"] and body["created"], body
    return wait_anchored(crawler, body["case"]["id"], service.ledger)


@pytest.fixture(scope="module")
def world(service, footage):
    _, _, producer = service.new_account(Role.rights_holder)
    _, _, studio = service.new_account(Role.rights_holder)
    _, _, crawler = service.new_account(Role.crawler)
    film = upload(service, producer, footage["film"], "The Long Drama")
    cut = upload(service, studio, footage["cut"], "The Long Drama in ten seconds")
    licence_id = derive(service, producer, film, studio, cut, share_bps=3000)
    case = found(service, crawler, footage["cut_copy"], "http://pirate.example/short/cut.mp4")
    return {
        "producer": producer,
        "producer_name": producer.get("/accounts/me").json()["name"],
        "studio": studio,
        "studio_name": studio.get("/accounts/me").json()["name"],
        "crawler": crawler,
        "film": film,
        "cut": cut,
        "licence_id": licence_id,
        "case": case,
    }


def test_a_copy_of_a_licensed_re_edit_is_the_re_edits_case_naming_the_film_and_the_licence(world):
    case = world["case"]
    assert case["work_id"] == world["cut"] and case["title"] == "The Long Drama in ten seconds"
    source = case["derivative_of"]
    assert source["work_id"] == world["film"] and source["title"] == "The Long Drama"
    assert (source["kind"], source["licence_id"]) == ("re_edit", world["licence_id"])
    assert source["chain_licence_id"] is not None
    assert abs(source["match"]["offset_seconds"] - CUT_FROM) < 1.0  # where in the film the cut's frames are
    assert case["match"]["offset_seconds"] < 1.0


def test_the_evidence_bundle_anchored_on_chain_says_the_copy_is_the_derivative(world):
    bundle = world["crawler"].get(f"/cases/{world['case']['id']}/evidence").json()
    assert bundle["work"]["work_id"] == world["cut"]
    assert bundle["derivative_of"]["work_id"] == world["film"]
    assert bundle["derivative_of"]["licence"]["id"] == world["licence_id"]


def test_the_notices_are_the_studios_for_the_re_edit_and_say_the_films_footage_is_licensed(world):
    notices = world["studio"].get(f"/cases/{world['case']['id']}").json()["notices"]
    assert {n["format"] for n in notices} == {"cn-notice", "dmca"}
    for notice in notices:
        body = notice["body"]
        assert world["studio_name"] in body and world["producer_name"] not in body
        assert "The Long Drama in ten seconds" in notice["subject"]
        assert world["film"] in body and f"{world['licence_id']}" in body
    dmca = next(n["body"] for n in notices if n["format"] == "dmca")
    assert '1. Copyrighted work: "The Long Drama in ten seconds"' in dmca
    assert 'is a derivative (re-edit) of "The Long Drama"' in dmca
    assert 'the footage of "The Long Drama" it shows is licensed' in dmca
    cn = next(n["body"] for n in notices if n["format"] == "cn-notice")
    assert "的衍生作品（二创剪辑）" in cn and "本通知仅就《The Long Drama in ten seconds》主张权利" in cn


def test_the_films_owner_has_no_case_for_the_re_edits_copy(world):
    assert world["producer"].get("/cases").json()["items"] == []
    assert world["studio"].get("/cases").json()["total"] == 1


def test_a_copy_of_the_whole_film_is_the_films_case_without_a_source(service, world, footage):
    case = found(service, world["crawler"], footage["film_copy"], "http://pirate.example/full/film.mp4")
    assert case["work_id"] == world["film"] and case["derivative_of"] is None
    assert world["producer_name"] in case["notices"][0]["body"]


def test_cases_show_in_the_cli_names_the_licensed_source(service, world):
    env = dict(
        os.environ,
        REELLEDGER_URL=service.url,
        REELLEDGER_API_KEY=world["studio"].headers["Authorization"].removeprefix("Bearer "),
        COLUMNS="200",
    )
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "reelledger"), "cases", "show", str(world["case"]["id"])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stdout + shown.stderr
    line = next(row for row in shown.stdout.splitlines() if "derivative of" in row)
    assert "The Long Drama" in line and world["film"] in line and f"licence {world['licence_id']}" in line


def test_matching_a_copy_of_the_re_edit_names_the_re_edit_and_its_licensed_source(world, footage):
    with open(footage["cut_copy"], "rb") as fh:
        r = world["crawler"].post("/match", files={"file": ("copy.mp4", fh, "application/octet-stream")})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["work"]["work_id"] == world["cut"]
    assert body["derivative_of"]["work_id"] == world["film"]
    assert body["derivative_of"]["licence_id"] == world["licence_id"]


def test_the_same_bytes_at_another_address_are_the_re_edits_case_again(service, world, footage):
    case = found(service, world["crawler"], footage["cut_copy"], "http://mirror.example/cut.mp4")
    assert case["work_id"] == world["cut"] and case["derivative_of"]["work_id"] == world["film"]
    assert world["producer_name"] not in case["notices"][0]["body"]
