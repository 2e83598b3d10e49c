"""A registered film, its copy watermarked for a platform, and that copy leaked in the ways
pirates leak: whole, an excerpt, re-encoded, cropped, as an HLS stream; beside them footage
of nothing registered. `world` and `site` are module fixtures: a service with that world, and
the piracy site on loopback, for the modules that crawl the whole site.

Media: footage made here from scikit-image's bundled photographs (skimage.data)."""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.models import Role
from tests.helpers.piracy_site import PiracySite, make_hls, publish_dir
from tests.helpers.service import running_service
from watermark.testimages import UNRELATED_PHOTOGRAPHS
from watermark.testvideos import photo_footage
from watermark.video_attacks import ALL_ATTACKS, transcode


@dataclass
class World:
    service: object
    studio: object
    crawler_key: str
    crawler: object
    platform_name: str
    work_id: str
    files: dict[str, Path]  # leak name -> file


def build_world(service, media_dir: Path) -> World:
    from tests.helpers.service import Client

    _, _, studio = service.new_account(Role.rights_holder)
    _, _, platform = service.new_account(Role.platform)
    platform_name = platform.get("/accounts/me").json()["name"]
    from ledger.accounts import create_account

    created = create_account(service.ledger.engine, service.ledger.keys, name="crawler-bot", role=Role.crawler)
    crawler = Client(base_url=service.url, headers={"Authorization": f"Bearer {created.api_key}"}, timeout=60)
    film = photo_footage(media_dir / "film.mp4", width=640, height=360, seconds=12, fps=25, crf=18, seed=3)
    with open(film, "rb") as fh:
        r = studio.post(
            "/works",
            files={"file": ("film.mp4", fh, "video/mp4")},
            data={"metadata": json.dumps({"title": "Leaky Film", "kind": "film"})},
        )
    assert r.status_code in (201, 202), r.text
    work_id = r.json()["work_id"]
    with open(film, "rb") as fh:
        r = studio.post(
            f"/works/{work_id}/distributions",
            files={"file": ("film.mp4", fh, "video/mp4")},
            data={"distribution": json.dumps({"platform": platform_name, "session": "vip-42"})},
        )
    assert r.status_code == 202, r.text
    dist_id, deadline = r.json()["id"], time.monotonic() + 300
    while (d := studio.get(f"/distributions/{dist_id}").json())["status"] not in ("ready", "failed"):
        assert time.monotonic() < deadline, d
        time.sleep(0.3)
    assert d["status"] == "ready", d
    marked = media_dir / "marked.mp4"
    marked.write_bytes(studio.get(d["copy"]["url"]).content)
    files = {
        "whole": marked,
        "excerpt": transcode(
            marked, media_dir / "excerpt.mp4", ALL_ATTACKS["crf30"].then(crf=23), start=3.0, seconds=7
        ),
        "reencoded": transcode(marked, media_dir / "reencoded.mp4", ALL_ATTACKS["crf30"]),
        "cropped": transcode(marked, media_dir / "cropped.mp4", ALL_ATTACKS["crop10+crf30"]),
        "unrelated": photo_footage(
            media_dir / "unrelated.mp4", width=640, height=360, seconds=8, photos=UNRELATED_PHOTOGRAPHS
        ),
    }
    files["hls"] = make_hls(marked, media_dir / "hls", segment_seconds=2).master
    return World(service, studio, created.api_key, crawler, platform_name, work_id, files)


LEAK_NAMES = ("whole", "excerpt", "reencoded", "cropped", "hls")


def publish_leaks(site: PiracySite, world: World, prefix: str) -> dict[str, str]:
    """The leaks and the bad cases under `prefix`, linked from `prefix`/index.html; returns the
    URL of each leak (by name) and of the index ("index")."""
    f = world.files
    urls = {
        "whole": site.publish(f"{prefix}/media/whole.mp4", f["whole"], "video/mp4"),
        "excerpt": site.publish(f"{prefix}/dl/excerpt.mp4", f["excerpt"], "video/mp4"),
        "reencoded": site.publish(f"{prefix}/media/reencoded.mp4", f["reencoded"], "video/mp4"),
        # no extension and untyped: found by its first bytes
        "cropped": site.publish(f"{prefix}/files/cropped", f["cropped"], "application/octet-stream"),
        "unrelated": site.publish(f"{prefix}/media/unrelated.mp4", f["unrelated"], "video/mp4"),
    }
    hls = publish_dir(site, f["hls"].parent, f"{prefix}/hls")
    urls["hls"] = hls["master.m3u8"]
    site.publish(f"/private{prefix}/whole.mp4", f["whole"], "video/mp4")
    site.page(
        f"{prefix}/watch/whole.html",
        f'<html><body><h1>Leaky Film (full)</h1><video src="{prefix}/media/whole.mp4"></video></body></html>',
    )
    site.page(f"{prefix}/watch/hls.html", f'<html><body><video src="{prefix}/hls/master.m3u8"></video></body></html>')
    site.page(
        f"{prefix}/watch/more.html",
        f"""<html><body>
        <video><source src="{prefix}/media/reencoded.mp4" type="video/mp4"></video>
        <a href="{prefix}/dl/excerpt.mp4">download excerpt</a>
        <a href="{prefix}/files/cropped">mirror</a>
        <video src="{prefix}/media/unrelated.mp4"></video>
        <a href="/private{prefix}/whole.mp4">members only</a></body></html>""",
    )
    site.page(
        f"{prefix}/bad.html",
        """<html><body>
        <a href="/huge.mp4">5 GB</a> <a href="/huge-unsized.mp4">5 GB, no length</a>
        <a href="/slow.mp4">slow</a> <a href="/loop/a">loop</a> <a href="/broken.mp4">broken</a>
        <a href="/gone/missing.mp4">missing</a></body></html>""",
    )
    urls["index"] = site.page(
        f"{prefix}/index.html",
        f"""<html><body>
        <a href="{prefix}/watch/whole.html">Leaky Film</a> <a href="{prefix}/watch/hls.html">stream</a>
        <a href="{prefix}/watch/more.html">more</a> <a href="{prefix}/bad.html">bad</a></body></html>""",
    )
    return urls


REELLEDGER = Path(sys.executable).parent / "reelledger"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipeline")
    with running_service(root / "data") as service:
        yield build_world(service, root)


@pytest.fixture(scope="module")
def site():
    with PiracySite() as running:
        yield running
