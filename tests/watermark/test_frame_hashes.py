"""Frame hashes and hash sequences: bars trimmed, variants that undo a mirror or a crop, flat
pictures left out, video sampled at its rate with seeking, and bad input refused with a reason.

Media: scikit-image's bundled photographs (skimage.data) and footage made from them here."""

from __future__ import annotations

import av
import numpy as np
import pytest
from PIL import Image

from watermark import attacks
from watermark.errors import WatermarkError
from watermark.frame_hashes import (
    QUERY_VARIANTS,
    REGISTERED_VARIANTS,
    WINDOW_VARIANTS,
    find_inset,
    hash_lumas,
    hash_picture,
    phash,
    phashes,
    small_luma,
    trim_bars,
)
from watermark.hash_sequence import RATE, HashSequence, hash_file, hash_video, query_sequence
from watermark.picture_hashes import hamming
from watermark.testimages import full_hd, photograph
from watermark.testvideos import footage_frames, photo_footage
from watermark.video_attacks import letterbox


@pytest.fixture(scope="module")
def frame() -> np.ndarray:
    return full_hd(photograph("coffee"))


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    return photo_footage(tmp_path_factory.mktemp("fh") / "f.mp4", width=640, height=360, seconds=12, fps=25)


def test_black_bars_are_trimmed_from_every_side_but_a_black_frame_stays_whole(frame):
    luma = small_luma(frame)
    boxed = np.zeros((luma.shape[0] + 60, luma.shape[1] + 40), np.uint8)
    boxed[30:-30, 20:-20] = luma
    assert trim_bars(boxed).shape == luma.shape
    assert np.array_equal(trim_bars(boxed), luma)
    black = np.zeros((144, 256), np.uint8)
    assert trim_bars(black).shape == black.shape
    assert not hash_picture(black).usable and not hash_picture(np.full((90, 160, 3), 128, np.uint8)).usable


def test_hashes_of_many_pictures_at_once_are_imagehash_phash_bit_for_bit(frame):
    luma = small_luma(frame)
    pictures = [luma, luma[:100, :200], luma[20:, 37:], np.ascontiguousarray(luma[:, ::-1])]
    assert phashes(pictures) == [phash(np.ascontiguousarray(p)) for p in pictures]


def _frames(seconds: float = 8.0) -> list[tuple[int, np.ndarray]]:
    return [(i, f) for i, f in enumerate(footage_frames(640, 360, seconds, 25, 3.0, seed=3)) if i % 12 == 0]


def test_a_window_of_an_asymmetric_crop_meets_the_stored_centre_half():
    """Per frame, not always (pHash forgives a shift of a few percent): the temporal vote
    needs only some frames of a copy to meet."""
    near, whole = [], []
    for _, f in _frames():
        registered = hash_picture(f, REGISTERED_VARIANTS)
        cropped = hash_picture(attacks.crop_borders(f, 0.25, 0.05, 0.08, 0.22), QUERY_VARIANTS)
        half = registered.hashes[REGISTERED_VARIANTS.index("centre50")]
        near.append(min(hamming(cropped.hashes[QUERY_VARIANTS.index(v)], half) for v in WINDOW_VARIANTS) <= 10)
        whole.append(
            min(
                hamming(cropped.hashes[QUERY_VARIANTS.index(v)], h)
                for v in ("whole", "centre89", "centre80")
                for h in registered.hashes
            )
            <= 10
        )
    assert sum(near) >= 0.5 * len(near)
    assert sum(whole) <= 0.2 * len(whole)  # why the windows are needed


def test_a_9_16_column_meets_the_stored_column_and_no_other_hash_of_its_frame():
    """A short-video platform's copy keeps a third of the width: its whole-frame hash is far
    from every other stored variant, and near the column the registration keeps for it."""
    column = REGISTERED_VARIANTS.index("column916")
    met, elsewhere = [], []
    for _, f in _frames():
        registered = hash_picture(f, REGISTERED_VARIANTS)
        shown = hash_picture(attacks.vertical(f, 608, 1080), QUERY_VARIANTS).hashes[QUERY_VARIANTS.index("whole")]
        met.append(hamming(shown, registered.hashes[column]) <= 10)
        elsewhere.append(min(hamming(shown, h) for i, h in enumerate(registered.hashes) if i != column) <= 10)
    assert sum(met) >= 0.8 * len(met)
    assert sum(elsewhere) <= 0.2 * len(elsewhere)


@pytest.mark.parametrize(("share", "at"), [(0.4, (0.3, 0.6)), (0.6, (0.7, 0.2)), (0.5, (0.9, 0.1))])
def test_a_picture_in_picture_is_found_by_its_edges_and_hashed_as_the_work(share, at):
    frames = _frames()
    shown = [small_luma(attacks.inset(f, attacks.other_footage(f.shape, 12 * i), share, at)) for i, f in frames]
    rect = find_inset(shown)
    h, w = shown[0].shape
    ih, iw = h * share, w * share
    top, left = (h - ih) * at[0], (w - iw) * at[1]
    assert rect is not None
    assert np.allclose(rect, (top, top + ih, left, left + iw), atol=3), rect
    own = hash_lumas([small_luma(f) for _, f in frames], REGISTERED_VARIANTS)
    seen = hash_lumas(shown, QUERY_VARIANTS)
    inset = QUERY_VARIANTS.index("inset")
    close = [hamming(q.hashes[inset], r.hashes[0]) <= 10 for q, r in zip(seen, own, strict=True)]
    assert sum(close) >= 0.8 * len(close)


def test_footage_without_an_inset_has_none_and_a_still_is_not_searched(frame):
    assert find_inset([small_luma(f) for _, f in _frames()]) is None
    assert find_inset([small_luma(attacks.inset(frame, attacks.other_footage(frame.shape), 0.5))]) is None


def test_a_letterboxed_copy_hashes_as_its_picture(frame):
    original = hash_picture(frame).hashes[0]
    boxed = letterbox(0.25)(frame, 0)
    assert hamming(hash_picture(boxed).hashes[0], original) <= 6  # the squeeze itself changes a little
    untrimmed = phash(small_luma(boxed))  # what one global hash would see with the bars
    assert hamming(untrimmed, original) > 12


def test_query_variants_undo_a_mirror_and_a_crop_of_each_border(frame):
    registered = hash_picture(frame, REGISTERED_VARIANTS)
    mirrored = hash_picture(np.ascontiguousarray(frame[:, ::-1]), QUERY_VARIANTS)
    whole = registered.hashes[REGISTERED_VARIANTS.index("whole")]
    assert hamming(mirrored.hashes[QUERY_VARIANTS.index("mirror")], whole) <= 2
    assert hamming(mirrored.hashes[QUERY_VARIANTS.index("whole")], whole) > 10  # why the variant is needed
    cropped = hash_picture(attacks.crop(frame, 0.20, top_left_share=0.5), QUERY_VARIANTS)
    centre = registered.hashes[REGISTERED_VARIANTS.index("centre80")]
    assert hamming(cropped.hashes[QUERY_VARIANTS.index("whole")], centre) <= 4


def test_unknown_variants_and_bad_pictures_are_refused(frame):
    with pytest.raises(WatermarkError, match="unknown variants"):
        hash_picture(frame, ("whole", "sideways"))
    with pytest.raises(WatermarkError, match="too small"):
        hash_picture(np.zeros((8, 8), np.uint8))
    with pytest.raises(WatermarkError, match="uint8"):
        hash_picture(frame.astype(np.float32))


def test_a_video_is_hashed_at_its_rate_and_an_excerpt_is_reached_by_seeking(footage):
    seen = []
    whole = hash_video(footage, progress=lambda done, total: seen.append((done, total)))
    assert whole.kind == "video" and whole.variants == REGISTERED_VARIANTS
    assert whole.sampled == pytest.approx(12 * RATE, abs=1) and len(whole) == whole.sampled
    gaps = np.diff(whole.times_ms)
    assert gaps.min() >= 1000 / RATE - 120 and gaps.max() <= 1000 / RATE + 120
    assert seen and seen[-1][1] == pytest.approx(12, abs=0.2) and seen[-1][0] > 11
    part = hash_video(footage, start=6.0, seconds=4.0)
    assert part.times_ms[0] >= 6000 and part.times_ms[-1] < 10000 and part.sampled == pytest.approx(8, abs=1)
    same = [whole.hashes[np.argmin(np.abs(whole.times_ms - t))] for t in part.times_ms]
    assert all(hamming(a[0].tobytes(), b[0].tobytes()) <= 6 for a, b in zip(same, part.hashes, strict=True))


def test_registration_skips_unreferenced_frames_yet_hashes_each_mark_at_its_frames_own_time(footage):
    """Registration decodes only the frames others refer to, without the deblocking filter:
    each mark still gets the first frame decoded at or after it, stored at that frame's exact
    time, with the hashes that frame has when decoded in full, a few bits apart at most (the
    deblocking filter skipped: measured up to 4 of 64 bits on this footage, under RADIUS 10)."""
    with av.open(str(footage)) as container:
        full = {round(f.time * 1000): small_luma(f.to_ndarray(format="gray")) for f in container.decode(video=0)}
    shown = np.array(sorted(full))
    registered = hash_video(footage)
    assert set(registered.times_ms.tolist()) <= set(full)  # exact frame times
    marks = np.arange(0, shown[-1] + 1, 1000 / RATE)
    taken = [registered.times_ms[registered.times_ms >= m].min() for m in marks]
    first_shown = [shown[shown >= m].min() for m in marks]
    assert all(0 <= t - m <= 120 for t, m in zip(taken, marks, strict=True))  # within 3 frames of its mark
    assert any(t > f for t, f in zip(taken, first_shown, strict=True))  # an unreferenced frame was passed over
    for t, stored in zip(registered.times_ms.tolist(), registered.hashes, strict=True):
        whole = hash_picture(full[t], REGISTERED_VARIANTS).hashes
        assert whole is not None
        assert max(hamming(a, b.tobytes()) for a, b in zip(whole, stored, strict=True)) <= 6, t


def test_a_sequence_survives_its_json_and_a_damaged_one_is_refused(footage):
    q = query_sequence(footage)
    back = HashSequence.from_json(q.to_json())
    assert (
        back.variants == QUERY_VARIANTS
        and np.array_equal(back.hashes, q.hashes)
        and np.array_equal(back.times_ms, q.times_ms)
    )
    body = q.to_json()
    backwards = HashSequence("video", q.variants, q.times_ms[::-1].copy(), q.hashes, q.duration, q.sampled).to_json()
    two_stills = HashSequence("image", q.variants, q.times_ms[:2], q.hashes[:2], 0.0, 2).to_json()
    for broken in (
        {**body, "hashes": body["hashes"][:-8]},
        {**body, "times_ms": "not base64!"},
        {**body, "kind": "audio"},
        {k: v for k, v in body.items() if k != "variants"},
        {**body, "duration": float("inf")},
        {**body, "duration": -1.0},
        {**body, "sampled": 0},
        backwards,
        two_stills,
    ):
        with pytest.raises(WatermarkError, match="not a hash sequence"):
            HashSequence.from_json(broken)


def test_a_truncated_video_keeps_the_frames_before_the_damage(footage, tmp_path):
    stream = photo_footage(tmp_path / "f.ts", width=640, height=360, seconds=12, container_format="mpegts")
    raw = stream.read_bytes()
    cut = tmp_path / "cut.ts"
    cut.write_bytes(raw[: len(raw) // 2])
    partial, whole = hash_file(cut), hash_file(stream)
    assert 0.3 * len(whole) < len(partial) < 0.7 * len(whole)
    assert np.array_equal(partial.hashes[:5], whole.hashes[:5])
    # An MP4 whose index was written at the end loses it with its tail: refused, with a reason.
    mp4 = footage.read_bytes()
    (tmp_path / "cut.mp4").write_bytes(mp4[: len(mp4) // 2])
    with pytest.raises(WatermarkError, match="not an image or a video|no decodable frames"):
        hash_file(tmp_path / "cut.mp4")


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "empty"),
        (b"%PDF-1.7 this is a document, not media\n" * 50, "not an image or a video"),
        (b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 4000, "not an image or a video"),
    ],
    ids=["zero-length", "not-media", "no-frames"],
)
def test_files_that_are_not_media_are_refused_with_a_reason(tmp_path, content, reason):
    path = tmp_path / "suspect.mp4"
    path.write_bytes(content)
    with pytest.raises(WatermarkError, match=reason):
        hash_file(path)


def test_a_ten_thousand_pixel_square_image_is_refused_before_decoding(tmp_path):
    path = tmp_path / "huge.png"
    Image.new("L", (10_000, 10_000)).save(path, optimize=False)
    with pytest.raises(WatermarkError, match="over the limit"):
        hash_file(path)


def test_a_still_image_is_a_sequence_of_one_frame(tmp_path, frame):
    path = tmp_path / "still.png"
    Image.fromarray(frame).save(path)
    still = hash_file(path)
    assert still.kind == "image" and len(still) == 1 and still.times_ms.tolist() == [0]
    assert still.hashes[0, 0].tobytes() == hash_picture(frame).hashes[0]
