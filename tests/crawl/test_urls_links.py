"""URL spelling, scope, what a page links to, and what bytes are."""

from __future__ import annotations

from ledger.crawl.links import extract
from ledger.crawl.sniff import declared_kind, sniff
from ledger.crawl.urls import Scope, media_kind_by_extension, normalise


def test_normalise_lowercases_scheme_and_host_drops_default_port_and_fragment():
    assert normalise("HTTP://Example.COM:80/Films/A.mp4?x=1#t=30") == "http://example.com/Films/A.mp4?x=1"
    assert normalise("https://example.com:443") == "https://example.com/"
    assert normalise("https://example.com:8443/a") == "https://example.com:8443/a"


def test_normalise_resolves_relative_urls_and_refuses_other_schemes():
    assert normalise("../b/c.html", "http://h.example/a/x/index.html") == "http://h.example/a/b/c.html"
    assert normalise("//cdn.example/v.mp4", "https://h.example/") == "https://cdn.example/v.mp4"
    for bad in ("mailto:a@b.c", "javascript:play()", "data:image/png;base64,AAAA", "http://h.example:99999/"):
        assert normalise(bad, "http://h.example/") is None


def test_scope_is_the_seeds_authorities_plus_extra_hosts():
    scope = Scope(
        ["http://Pirate.example/films/", "http://127.0.0.1:8080/"], frozenset({"cdn.example", "keys.example:8443"})
    )
    assert scope.allows("http://pirate.example/other")
    assert scope.allows("https://cdn.example:9000/v.mp4")  # a host without port: any port
    assert scope.allows("https://keys.example:8443/k")
    assert scope.allows("http://127.0.0.1:8080/x")
    assert not scope.allows("http://127.0.0.1:8081/x")  # the same host on another port is another site
    assert not scope.allows("https://keys.example/k")
    assert not scope.allows("http://elsewhere.example/")


def test_media_by_extension():
    assert media_kind_by_extension("http://h/a/Film.MP4?dl=1") == "video"
    assert media_kind_by_extension("http://h/live/index.m3u8") == "hls"
    assert media_kind_by_extension("http://h/p.webp") == "image"
    assert media_kind_by_extension("http://h/watch.php?file=a.mp4") is None


PAGE = """<html><head><base href="/site/"></head><body>
<a href="page2.html#top">next</a> <a href="Page2.html">case differs: another page</a>
<a href="mailto:x@y.z">mail</a> <a href="films/direct.mkv">download</a>
<img src="poster.jpg" srcset="poster-2x.jpg 2x, poster-3x.jpg 3x">
<video src="trailer.mp4" poster="p.png"><source src="film.webm" type="video/webm"></video>
<picture><source srcset="wide.avif 1200w"><img src="narrow.png"></picture>
<video><source src="stream/master.m3u8" type="application/x-mpegURL"></video>
<source src="stray.mp4">
<iframe src="player.html"></iframe>
<a href="trailer.mp4">again</a>
</body></html>"""


def test_extract_finds_pages_and_every_kind_of_media_once():
    links = extract(PAGE, "http://pirate.example/index.html")
    base = "http://pirate.example/site/"
    assert links.pages == [base + "page2.html", base + "Page2.html", base + "player.html"]
    assert links.media == [
        base + u
        for u in (
            "films/direct.mkv",
            "poster.jpg",
            "poster-2x.jpg",
            "poster-3x.jpg",
            "trailer.mp4",
            "film.webm",
            "wide.avif",
            "narrow.png",
            "stream/master.m3u8",
        )
    ]  # a <source> outside <video>/<picture> is not media; trailer.mp4 once


def test_sniff_knows_the_media_signatures_and_nothing_else():
    assert sniff(b"\x00\x00\x00\x18ftypisom" + bytes(8)) == "video"
    assert sniff((b"\x47" + bytes(187)) * 2) == "video"  # MPEG-TS: sync bytes 188 apart
    assert sniff(b"\x1a\x45\xdf\xa3" + bytes(12)) == "video"
    assert sniff(b"\xff\xd8\xff\xe0" + bytes(12)) == "image"
    assert sniff(b"\x89PNG\r\n\x1a\n" + bytes(8)) == "image"
    assert sniff(b"GIF89a" + bytes(10)) == "image"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image"
    assert sniff(b"#EXTM3U\n#EXT-X-VERSION:3\n") == "hls"
    assert sniff(b"Good morning" + bytes(200)) is None  # a G is not a transport stream
    assert sniff(b"<html><body>") is None


def test_declared_kinds():
    assert declared_kind("video/mp4") == "video"
    assert declared_kind("image/png") == "image"
    assert declared_kind("application/vnd.apple.mpegurl") == "hls"
    assert declared_kind("application/octet-stream") == "sniff"
    assert declared_kind("") == "sniff"
    assert declared_kind("text/plain") is None
