"""Verdicts from part of a copy: a long leak is matched on its first stage of frames and
traced on its first seconds of watermark, and the case says the same as a read of the
whole copy would (work, where in it, platform, payload), only honest about how much was
compared. Hashing in stages to the end hashes the frames a read in one go hashes.

Media: footage made here from scikit-image's bundled photographs (skimage.data)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import pytest
from typer.testing import CliRunner

from ledger.cli import app as cli
from ledger.db import session
from ledger.distributions.records import payload_hex
from ledger.distributions.trace import trace_file
from ledger.matching import KEY_SECONDS, STAGES, decisive, match_file, staged_query
from ledger.models import Account, Role
from ledger.piracy.cases import MARK_FIRST_SECONDS
from tests.helpers.cases import report
from tests.helpers.distributions import distribute, register, wait_ready
from tests.helpers.service import running_service
from watermark.frame_hashes import QUERY_VARIANTS
from watermark.hash_sequence import RATE, HashSequence, hash_video, keyframes, query_sequence
from watermark.matcher import STRONG_VOTES, FrameIndex, Match, match
from watermark.testvideos import photo_footage
from watermark.video_attacks import ALL_ATTACKS, VideoAttack, transcode

FILM_SECONDS = 45  # longer than the first stage of hashing and of watermark reading
FPS = 25


@pytest.fixture(scope="module")
def film(tmp_path_factory):
    media = tmp_path_factory.mktemp("verdict-media")
    return photo_footage(media / "film.mp4", width=640, height=360, seconds=FILM_SECONDS, fps=FPS, crf=18, seed=5)


def test_hashing_in_stages_to_the_end_hashes_what_one_read_hashes(film):
    whole = query_sequence(film)
    looks: list[int] = []

    def never_settled(query) -> bool:
        looks.append(query.sampled)
        return False

    # the first two stages have too few keyframes for a key-led read to settle anything; the last has enough
    assert keyframes(film, 0, 10) * KEY_SECONDS * RATE < STRONG_VOTES
    assert keyframes(film, 10, 10) * KEY_SECONDS * RATE < STRONG_VOTES
    assert keyframes(film, 20, 3580) * KEY_SECONDS * RATE >= STRONG_VOTES
    reads: list[str] = []
    staged, complete = staged_query(film, never_settled, stages=(10.0, 20.0, 3600.0), reads=reads)
    assert complete and len(looks) == 4
    assert reads == ["regular", "regular", "key-led", "regular"]
    regular, keyed = [looks[0], looks[1], looks[3]], looks[2]
    assert regular[0] < regular[1] < keyed < regular[2]  # the key-led read hashes fewer frames
    assert np.array_equal(staged.times_ms, whole.times_ms)
    assert np.array_equal(staged.hashes, whole.hashes)
    assert staged.sampled == whole.sampled and staged.duration == pytest.approx(whole.duration, abs=0.05)
    looks.clear()
    staged_query(film, never_settled, stages=(10.0, 3600.0), key_seconds=None)  # no key-led reads
    assert looks == [regular[0], regular[2]]


def test_hashing_stops_at_the_first_stage_the_look_settles(film):
    first, complete = staged_query(film, lambda q: True, stages=(7.0, 20.0, 3600.0))
    assert not complete
    assert first.times_ms.max() < 7000 and first.duration <= 7.5
    short, complete = staged_query(film, lambda q: False, stages=(7.0, FILM_SECONDS + 30.0))
    assert complete and short.times_ms.max() >= (FILM_SECONDS - 1) * 1000  # the copy ended inside a stage


@pytest.fixture(scope="module")
def film_index(film):
    index = FrameIndex()
    index.add(1, hash_video(film))
    return index


def _keyframe_every_10s(src: Path, dst: Path) -> Path:
    """`src` re-encoded with a keyframe every 10 s and none at its cuts (as some sites serve)."""
    with av.open(str(src)) as container, av.open(str(dst), "w", format="mp4") as out:
        vout = out.add_stream("libx264", rate=FPS)
        vout.width, vout.height, vout.pix_fmt = (
            container.streams.video[0].width,
            container.streams.video[0].height,
            "yuv420p",
        )
        vout.options = {"preset": "veryfast", "crf": "23", "x264-params": f"keyint={10 * FPS}:scenecut=0"}
        for frame in container.decode(video=0):
            frame.pict_type = av.video.frame.PictureType.NONE
            out.mux(vout.encode(frame))
        out.mux(vout.encode(None))
    return dst


def _looking(index: FrameIndex) -> tuple[list[tuple[int, Match | None]], Callable[[HashSequence], bool]]:
    """A look as the service's: match, and settle on a decisive match; each look's frames and match kept."""
    seen: list[tuple[int, Match | None]] = []

    def look(query: HashSequence) -> bool:
        found = match(index, query)
        seen.append((query.sampled, found))
        return found is not None and decisive(query.kind, found.votes, found.frames)

    return seen, look


def test_a_copy_with_keyframes_at_its_cuts_is_settled_by_the_key_led_read_alone(film, film_index, tmp_path):
    copy = transcode(film, tmp_path / "crf28.mp4", VideoAttack(crf=28), start=12.0, seconds=30)
    seen, look = _looking(film_index)
    staged_query(copy, look)
    assert len(seen) == 1 and seen[0][0] < hash_video(copy, QUERY_VARIANTS, seconds=STAGES[0]).sampled
    found = seen[0][1]
    assert found is not None and abs(found.offset - 12.0) <= 1.0


def test_an_inset_copy_with_sparse_keyframes_falls_back_to_the_regular_read_and_matches(film, film_index, tmp_path):
    """A picture-in-picture copy re-encoded with one keyframe every 10 s: a key-led read would
    have too few frames to settle anything (the benchmark measured 0 of 2 such copies matched
    key-led), so the stage is read the regular way alone, whose blocks of frames find the inset."""
    copy = _keyframe_every_10s(
        transcode(film, tmp_path / "pip.mp4", ALL_ATTACKS["pip40"], start=12.0, seconds=30), tmp_path / "sparse.mp4"
    )
    assert keyframes(copy) == 3
    seen, look = _looking(film_index)
    query, _ = staged_query(copy, look)
    assert len(seen) == 1  # the first stage's 2 keyframes could never settle it: no key-led read at all
    regular, found = seen[0]
    assert found is not None and found.work == 1 and abs(found.offset - 12.0) <= 1.0, found
    assert query.sampled == regular


@pytest.fixture(scope="module")
def leak(film, tmp_path_factory):
    """A service with the film registered and distributed, and the platform's copy leaked
    (re-encoded at CRF 26, as the crawl benchmark leaks it)."""
    media = film.parent
    with running_service(tmp_path_factory.mktemp("verdict-svc") / "data", write_wait=10) as svc:
        _, _, studio = svc.new_account(Role.rights_holder)
        _, _, platform = svc.new_account(Role.platform)
        platform_name = platform.get("/accounts/me").json()["name"]
        crawler_id, _, crawler = svc.new_account(Role.crawler)
        raw = film.read_bytes()  # the service tells media apart by content, not by the name sent with it
        work_id = register(studio, raw, "Long Leak", svc)
        r = distribute(studio, work_id, raw, platform_name, fields={"session": "s-long"})
        assert r.status_code == 202, r.text
        dist = wait_ready(studio, r.json()["id"], timeout=300)
        assert dist["status"] == "ready", dist
        marked = media / "marked.mp4"
        marked.write_bytes(studio.get(dist["copy"]["url"]).content)
        leaked = transcode(marked, media / "leaked.mp4", VideoAttack(crf=26))
        with session(svc.ledger.engine) as db:
            account = db.get(Account, crawler_id)
            assert account is not None
        yield {
            "service": svc,
            "crawler": crawler,
            "account": account,
            "work_id": work_id,
            "dist": dist,
            "platform": platform_name,
            "leaked": leaked,
        }


def test_a_long_copy_gets_the_verdict_of_a_full_read_from_its_first_seconds(leak):
    svc, leaked = leak["service"], leak["leaked"]
    r = report(
        leak["crawler"], leaked.read_bytes(), url="http://pirate.example/films/long.mp4", content_type="video/mp4"
    )
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    bundle = json.loads(leak["crawler"].get(f"/cases/{case['id']}/evidence").content)
    match, mark = bundle["match"], bundle["watermark"]

    # read in part: the first hashing stage, the first stretch of watermark
    assert match["whole_copy_compared"] is False
    assert match["seconds_compared"] <= STAGES[0] + 1 < FILM_SECONDS
    assert match["frames"] <= 2 * STAGES[0] + 1
    assert mark["found"] and mark["frames"] <= MARK_FIRST_SECONDS * FPS + 1

    # ... and the verdict a full read gives
    full = match_file(svc.ledger, leak["account"], leaked)
    traced = trace_file(svc.ledger, leak["account"], leaked)
    assert full.whole and full.match is not None and full.work is not None
    assert full.query.duration >= FILM_SECONDS - 1 and full.match.frames > match["frames"]
    assert case["work_id"] == full.work.work_id == leak["work_id"]
    assert match["offset_seconds"] == pytest.approx(full.match.offset, abs=0.5)
    assert match["duration_seconds"] <= full.match.duration
    assert traced.detection.payload is not None and traced.distribution is not None
    assert case["leak"]["payload"] == mark["payload"] == leak["dist"]["payload"]
    assert mark["payload"] == payload_hex(traced.detection.payload)
    assert case["leak"]["distribution_id"] == traced.distribution.dist.id == leak["dist"]["id"]
    assert case["leak"]["platform"]["name"] == leak["platform"]

    # the notices claim no more than was compared
    english = next(n for n in case["notices"] if n["format"] == "dmca")["body"]
    chinese = next(n for n in case["notices"] if n["format"] == "cn-notice")["body"]
    assert f"Compared over the copy's first {match['seconds_compared']:.1f} s" in english
    assert f"matches at least {match['duration_seconds']:.1f} s of the work" in english
    assert f"比对副本的前 {match['seconds_compared']:.1f} 秒" in chinese

    # ... and so do the API's case and `cases show`
    assert case["work_media_kind"] == "video"
    assert case["match"]["whole_copy_compared"] is False
    assert case["match"]["seconds_compared"] == match["seconds_compared"]
    env = {
        "REELLEDGER_URL": svc.url,
        "REELLEDGER_API_KEY": leak["crawler"].headers["Authorization"].removeprefix("Bearer "),
        "COLUMNS": "200",
    }
    shown = CliRunner().invoke(cli, ["cases", "show", str(case["id"])], env=env)
    assert shown.exit_code == 0, shown.output
    assert (
        f"at least {match['duration_seconds']:.1f} s from {match['offset_seconds']:.1f} s "
        f"(the copy's first {match['seconds_compared']:.1f} s compared)" in shown.output
    ), shown.output


def test_a_copy_shorter_than_the_first_stage_is_compared_whole(leak, tmp_path):
    excerpt = transcode(leak["leaked"], tmp_path / "excerpt.mp4", VideoAttack(crf=28), start=10.0, seconds=12)
    r = report(leak["crawler"], excerpt.read_bytes(), url="http://pirate.example/films/short.mp4")
    assert r.status_code == 201, r.text
    case = r.json()["case"]
    match = json.loads(leak["crawler"].get(f"/cases/{case['id']}/evidence").content)["match"]
    assert match["whole_copy_compared"] is True and match["seconds_compared"] <= 13
    assert case["match"]["whole_copy_compared"] is True
    assert match["offset_seconds"] == pytest.approx(10.0, abs=1.0)
    english = next(n for n in case["notices"] if n["format"] == "dmca")["body"]
    assert "Their perceptual fingerprint matches" in english and "at least" not in english
