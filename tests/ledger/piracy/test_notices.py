"""Takedown notices as drafted from an evidence bundle (ledger/piracy/notices.py), in both
languages: what a still and a video are said to match, and the DMCA letter's numbered items with
every further line of an item indented under it."""

from __future__ import annotations

import re
from typing import Any

import pytest

from ledger.piracy import notices

WORK_ID = "0x" + "3c" * 32


def bundle(media_kind: str, offset: float, duration: float, **match: Any) -> dict[str, Any]:
    """A bundle with every optional part a notice names: the leak traced through its watermark
    and the ancestor whose licensed footage the derivative shows."""
    return {
        "work": {
            "title": "Astronaut, subtitled",
            "work_id": WORK_ID,
            "chain_id": 31337,
            "registry": "0x" + "44" * 20,
            "registration_tx": "0x" + "55" * 32,
        },
        "match": {"offset_seconds": offset, "duration_seconds": duration, "confidence": 0.97, **match},
        "watermark": {"payload": "00ff00ff", "distribution": {"platform": {"name": "Blue Screen"}}},
        "fetched_at": "2026-12-07T10:00:00.123+00:00",
        "url": "http://pirate.example/watch/astronaut",
        "page_url": "http://pirate.example/watch",
        "content": {"sha256": "ab" * 32, "size": 12_345, "media_kind": media_kind},
        "derivative_of": {
            "title": "Astronaut",
            "work_id": "0x" + "7e" * 32,
            "kind": "subtitle",
            "licence": {"id": 4, "chain_licence_id": 2},
        },
    }


def drafted(found: dict[str, Any], work_media: str) -> tuple[str, str]:
    zh, en = notices.draft(
        found,
        "0x" + "99" * 32,
        "Blue Studio",
        "0x" + "11" * 20,
        12,
        "0x" + "66" * 20,
        counter_notice_url="http://127.0.0.1:8000/counter-notices?token=t",
        work_media=work_media,
    )
    assert (zh.format, en.format) == ("cn-notice", "dmca")
    return zh.body, en.body


CASES = {
    # a still of a still: the picture matches, no moment of the work and no duration
    "still of a picture": (
        bundle("image", 0.0, 0.0),
        "image",
        "The picture matches the work's picture (confidence 0.97)",
        "指纹比对：该图片与作品画面一致（置信度 0.97）",
    ),
    # a frame grabbed from the film: the moment it shows, no duration
    "still of footage": (
        bundle("image", 6.0, 0.0),
        "video",
        "The picture matches the work's frame at 6.0 s (confidence 0.97)",
        "指纹比对：该图片与作品第 6.0 秒的画面一致（置信度 0.97）",
    ),
    "video compared whole": (
        bundle("video", 6.0, 42.0, whole_copy_compared=True, seconds_compared=42.0),
        "video",
        "Their perceptual fingerprint matches 42.0 s of the work from 6.0 s on (confidence 0.97)",
        "指纹比对：与作品第 6.0 秒起的 42.0 秒内容一致（置信度 0.97）",
    ),
    "video decided on its first seconds": (
        bundle("video", 6.0, 30.0, whole_copy_compared=False, seconds_compared=30.0),
        "video",
        "Compared over the copy's first 30.0 s, their perceptual fingerprint matches at least 30.0 s of the work "
        "from 6.0 s on (confidence 0.97)",
        "指纹比对：比对副本的前 30.0 秒，与作品第 6.0 秒起的至少 30.0 秒内容一致（置信度 0.97）",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_each_notice_says_what_the_copy_matches_in_its_own_language(case):
    found, work_media, english, chinese = CASES[case]
    zh, en = drafted(found, work_media)
    assert english in en, en
    assert chinese in zh, zh
    if found["content"]["media_kind"] == "image":  # a picture is not a stretch of time
        assert " s of the work" not in en and "0.0 s" not in en
        assert "秒内容一致" not in zh and "0.0 秒" not in zh


@pytest.mark.parametrize("case", CASES)
def test_every_line_of_a_dmca_item_is_indented_under_its_number(case):
    found, work_media, *_ = CASES[case]
    _, en = drafted(found, work_media)
    items = re.findall(r"^(\d)\. .*\n((?:.+\n)*)", en, flags=re.MULTILINE)
    assert [number for number, _ in items] == ["1", "2", "3", "4"], en
    further = {number: rest.splitlines() for number, rest in items}
    # the derivative's line under item 1; the page, the match, the watermark and the anchor under item 2
    assert len(further["1"]) == 1 and further["1"][0].startswith('   "Astronaut, subtitled" is a derivative')
    assert [line.split(" ", 4)[3] for line in further["2"]] == ["found", "The", "Its", "The"], further["2"]
    assert all(line.startswith("   ") and not line.startswith("    ") for rest in further.values() for line in rest), en


def test_the_dmca_notice_is_signed_with_an_electronic_signature():
    _, en = drafted(bundle("video", 6.0, 42.0), "video")
    assert en.rstrip("\n").splitlines()[-1] == "/s/ Blue Studio", en
    assert "/Blue Studio/" not in en


# What a Chinese notice quotes as it is: titles and names, addresses, hashes, the watermark payload.
QUOTED = re.compile(
    r"Astronaut, subtitled|Astronaut|Blue Studio|Blue Screen|https?://\S+?(?=[\s，。）]|$)|0x[0-9a-f]+|\b[0-9a-f]{8,}\b"
    r"|SHA-256|UTC"
)


@pytest.mark.parametrize("registry", [True, False])
def test_the_chinese_notice_is_chinese_throughout(registry):
    found = bundle("video", 6.0, 42.0)
    if not registry:
        del found["work"]["registry"]
    zh, en = drafted(found, "video")
    if registry:
        assert f"登记于合约 0x{'44' * 20}（链 31337）" in zh, zh
        assert f"in 0x{'44' * 20} (chain 31337)" in en
    else:
        assert "登记于链 31337，" in zh, zh
    assert "链上存证合约 0x" + "66" * 20 + "（链 31337）" in zh
    assert "chain" not in zh and "(" not in zh and ")" not in zh
    assert re.findall(r"[A-Za-z]+", QUOTED.sub("", zh)) == [], QUOTED.sub("", zh)
