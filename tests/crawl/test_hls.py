"""HLS found on a page becomes one playable file: the right variant, its segments in order,
as much as the limits allow, decrypted when the key is ours to have."""

from __future__ import annotations

import hashlib
import time

import av
import pytest

from ledger.crawl import Crawler, Skipped
from tests.helpers.crawl import with_
from tests.helpers.piracy_site import encrypt_hls, make_hls, publish_dir

KEY = bytes(range(16))


@pytest.fixture(scope="session")
def ts_stream(clip, tmp_path_factory):
    return make_hls(clip, tmp_path_factory.mktemp("hls-ts"), segment_seconds=2)


@pytest.fixture(scope="session")
def fmp4_stream(clip, tmp_path_factory):
    return make_hls(clip, tmp_path_factory.mktemp("hls-fmp4"), segment_seconds=2, fmp4=True)


def _crawl(site, work_dir, config, playlist: str):
    site.page("/watch.html", f'<video><source src="{playlist}" type="application/x-mpegURL"></video>')
    got: list = []
    with Crawler([site.url("/watch.html")], work_dir, config) as crawler:
        stats = crawler.run(lambda medium: got.append(medium))
    return stats, got


def _seconds(path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        return frames / float(stream.average_rate)


def test_a_master_playlist_on_a_page_becomes_one_ts_of_the_best_variant(site, work_dir, config, ts_stream):
    publish_dir(site, ts_stream.media.parent, "/hls")
    stats, got = _crawl(site, work_dir, config, "/hls/master.m3u8")
    assert stats.media == 1
    medium = got[0]
    assert (medium.kind, medium.content_type, medium.path.suffix) == ("hls", "video/mp2t", ".ts")
    assert medium.variant == site.url("/hls/media.m3u8")  # 800 kb/s, not the 200 kb/s one
    assert medium.segments == tuple(site.url(f"/hls/{s.name}") for s in ts_stream.segments)
    joined = b"".join(s.read_bytes() for s in ts_stream.segments)
    assert (
        medium.complete and medium.sha256 == hashlib.sha256(joined).hexdigest() and medium.path.read_bytes() == joined
    )
    assert abs(_seconds(medium.path) - 6.0) <= 2.0
    assert "/hls/low.m3u8" not in site.paths()


def test_the_variant_is_the_best_under_the_bandwidth_cap(site, work_dir, config, ts_stream):
    publish_dir(site, ts_stream.media.parent, "/hls")
    _, got = _crawl(site, work_dir, with_(config, hls_max_bandwidth=500_000), "/hls/master.m3u8")
    assert got[0].variant == site.url("/hls/low.m3u8") and "/hls/media.m3u8" not in site.paths()


def test_a_stream_is_downloaded_only_up_to_the_duration_limit(site, work_dir, config, ts_stream):
    publish_dir(site, ts_stream.media.parent, "/hls")
    _, got = _crawl(site, work_dir, with_(config, hls_max_seconds=3), "/hls/media.m3u8")
    assert len(got[0].segments) == 2 and "/hls/seg002.ts" not in site.paths()
    assert abs(_seconds(got[0].path) - 4.0) <= 2.0


def test_fmp4_segments_join_behind_their_init_segment_into_an_mp4(site, work_dir, config, fmp4_stream):
    publish_dir(site, fmp4_stream.media.parent, "/f")
    _, got = _crawl(site, work_dir, config, "/f/master.m3u8")
    medium = got[0]
    assert (medium.content_type, medium.path.suffix) == ("video/mp4", ".mp4")
    assert medium.segments[0] == site.url("/f/init.mp4")
    assert abs(_seconds(medium.path) - 6.0) <= 2.0


def test_aes_128_segments_are_decrypted_with_a_key_in_scope(site, work_dir, config, ts_stream):
    encrypt_hls(ts_stream, KEY, "/keys/k1", out_name="enc.m3u8")
    publish_dir(site, ts_stream.media.parent, "/hls")
    site.publish("/keys/k1", KEY, "application/octet-stream")
    _, got = _crawl(site, work_dir, config, "/hls/enc.m3u8")
    joined = b"".join(s.read_bytes() for s in ts_stream.segments)
    assert got[0].path.read_bytes() == joined  # exactly the clear segments
    assert site.paths().count("/keys/k1") == 1  # fetched once for all segments
    assert abs(_seconds(got[0].path) - 6.0) <= 2.0


def test_a_stream_whose_key_is_out_of_scope_is_skipped(site, work_dir, config, ts_stream):
    encrypt_hls(ts_stream, KEY, "https://licence.invalid/k1", out_name="enc-away.m3u8")
    publish_dir(site, ts_stream.media.parent, "/hls")
    stats, got = _crawl(site, work_dir, config, "/hls/enc-away.m3u8")
    assert got == [] and stats.skipped["out_of_scope"] == 1
    assert "licence.invalid" in stats.skips[0].detail
    assert list(work_dir.iterdir()) == []


def test_a_playlist_with_a_missing_segment_keeps_what_came_before(site, work_dir, config, ts_stream):
    files = publish_dir(site, ts_stream.media.parent, "/hls")
    site.publish("/hls/seg001.ts", b"", "text/html")  # the second segment is not video
    with Crawler([site.url("/")], work_dir, config) as crawler:
        medium = crawler.fetch_medium(files["media.m3u8"])
    assert not isinstance(medium, Skipped)
    assert medium.segments == (site.url("/hls/seg000.ts"),) and not medium.complete


def test_a_live_stream_is_followed_as_it_grows_until_it_ends(site, work_dir, config, ts_stream):
    """A live playlist lists only its newest segment here: read once, it would give one of
    three. Followed, the stream is had whole and in order, and ends with EXT-X-ENDLIST."""
    publish_dir(site, ts_stream.media.parent, "/live")
    names = [s.name for s in ts_stream.segments]
    reads: list[int] = []

    def playlist(handler, request):
        # a new segment at every read (by the clock, a slow machine's late read would skip one)
        newest = min(len(reads), len(names) - 1)
        reads.append(newest)
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:3",
            "#EXT-X-TARGETDURATION:2",
            f"#EXT-X-MEDIA-SEQUENCE:{newest}",
            "#EXTINF:2.0,",
            names[newest],
        ]
        if newest == len(names) - 1:
            lines.append("#EXT-X-ENDLIST")
        site._send(handler, 200, ("\n".join(lines) + "\n").encode(), "application/vnd.apple.mpegurl")

    site.route("/live/now.m3u8", playlist)
    stats, got = _crawl(site, work_dir, config, "/live/now.m3u8")
    assert stats.media == 1
    medium = got[0]
    assert medium.segments == tuple(site.url(f"/live/{name}") for name in names)  # each once, in order
    assert medium.path.read_bytes() == b"".join(s.read_bytes() for s in ts_stream.segments)
    assert site.paths().count("/live/now.m3u8") >= len(names)


def test_a_live_stream_is_followed_no_longer_than_allowed(site, work_dir, config, ts_stream):
    publish_dir(site, ts_stream.media.parent, "/stuck")
    first = ts_stream.segments[0].name

    def playlist(handler, request):  # live for ever, and never anything new
        body = f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\n{first}\n"
        site._send(handler, 200, body.encode(), "application/vnd.apple.mpegurl")

    site.route("/stuck/now.m3u8", playlist)
    started = time.monotonic()
    stats, got = _crawl(site, work_dir, with_(config, hls_live_seconds=30), "/stuck/now.m3u8")
    assert stats.media == 1 and got[0].segments == (site.url(f"/stuck/{first}"),)
    assert time.monotonic() - started < 15  # three target durations with nothing new: given up


def test_a_vod_playlist_without_an_end_tag_is_read_once(site, work_dir, config, ts_stream):
    publish_dir(site, ts_stream.media.parent, "/vod")
    names = [s.name for s in ts_stream.segments]
    body = "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:2\n" + "".join(
        f"#EXTINF:2.0,\n{n}\n" for n in names
    )
    site.publish("/vod/noend.m3u8", body.encode(), "application/vnd.apple.mpegurl")
    stats, got = _crawl(site, work_dir, config, "/vod/noend.m3u8")
    assert stats.media == 1 and len(got[0].segments) == len(names) and got[0].complete
    assert site.paths().count("/vod/noend.m3u8") == 1


def test_a_live_stream_that_starts_its_numbering_again_is_kept_as_far_as_it_went(site, work_dir, config, ts_stream):
    publish_dir(site, ts_stream.media.parent, "/restart")
    names = [s.name for s in ts_stream.segments]
    reads: list[int] = []

    def playlist(handler, request):  # sequence 7 first, then an encoder restart from 0
        reads.append(1)
        sequence, name = (7, names[0]) if len(reads) == 1 else (0, names[1])
        body = f"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{sequence}\n#EXTINF:2.0,\n{name}\n"
        site._send(handler, 200, body.encode(), "application/vnd.apple.mpegurl")

    site.route("/restart/now.m3u8", playlist)
    stats, got = _crawl(site, work_dir, config, "/restart/now.m3u8")
    assert stats.media == 1 and got[0].segments == (site.url(f"/restart/{names[0]}"),)
    assert not got[0].complete  # what came after the restart is not in it
