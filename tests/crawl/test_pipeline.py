"""The whole anti-piracy pipeline, inline: `reelledger crawl run` against the piracy site on
loopback, reporting to a real service with its managed chain. Every leak of the film is
found and traced to the platform whose copy leaked, its evidence anchored on chain and
checked by `reelledger verify evidence`, its notices drafted; unrelated footage is not a
case; the bad corners of the site (5 GB files, a slow server, a redirect loop, broken links,
robots.txt) neither crash, hang nor fill the disk. A second crawl fetches nothing unchanged
again and opens no case twice; a re-check closes the case of a link taken down."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers.leaks import LEAK_NAMES, REELLEDGER, build_world, publish_leaks, site, world  # noqa: F401  (module fixtures)


def cli(world, *args, ok: bool = True, cwd=None) -> subprocess.CompletedProcess:
    env = dict(
        os.environ,
        REELLEDGER_URL=world.service.url,
        REELLEDGER_API_KEY=world.crawler_key,
        COLUMNS="250",
        REELLEDGER_RPC_URL=world.service.ledger.chain.rpc_url,
    )
    done = subprocess.run([str(REELLEDGER), *args], env=env, capture_output=True, text=True, timeout=600, cwd=cwd)
    assert (done.returncode == 0) == ok, done.stdout + done.stderr
    return done


def settle_anchors(world, timeout: float = 60) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        cases = world.crawler.get("/cases", params={"limit": 500}).json()["items"]
        if all(c["anchor"]["status"] == "confirmed" for c in cases):
            return cases
        assert time.monotonic() < deadline, [c["anchor"] for c in cases]
        time.sleep(0.3)


CRAWL = ("--interval", "0.02", "--deadline", "4", "--max-media-mb", "64")


@pytest.fixture(scope="module")
def first_crawl(world, site, tmp_path_factory):
    urls = publish_leaks(site, world, "/inline")
    work = tmp_path_factory.mktemp("crawler")
    (work / "seeds.txt").write_text(f"# the site\n{urls['index']}\n")
    started = time.monotonic()
    done = cli(world, "crawl", "run", "--seeds", "seeds.txt", *CRAWL, cwd=work)
    return {"urls": urls, "out": done.stdout, "work": work, "seconds": time.monotonic() - started}


def test_every_leak_is_found_traced_to_the_platform_and_anchored(world, first_crawl):
    cases = {c["url"]: c for c in settle_anchors(world)}
    urls = first_crawl["urls"]
    assert set(cases) == {urls[name] for name in LEAK_NAMES}, first_crawl["out"]
    for case in cases.values():
        assert case["work_id"] == world.work_id and case["status"] == "open"
        assert case["leak"]["platform"]["name"] == world.platform_name, case
        assert {n["format"] for n in case["notices"]} == {"cn-notice", "dmca"}
        assert case["screenshot"] is (shutil.which("chromium") is not None or Path("/usr/bin/chromium").exists())
    assert cases[urls["excerpt"]]["match"]["offset_seconds"] == pytest.approx(3.0, abs=1.0)
    assert urls["unrelated"] not in cases
    assert "5 new cases" in first_crawl["out"]


def test_the_bad_corners_of_the_site_are_survived_and_robots_obeyed(site, first_crawl):
    out = first_crawl["out"]
    assert "too_large" in out and "timeout" in out and "redirect_loop" in out and "http_404" in out
    assert not [r for r in site.log if r.path.startswith("/private")]
    assert {r.user_agent for r in site.log} == {
        "ReelLedgerBot/0.1 (+https://github.com/reelledger/reelledger; anti-piracy crawler)"
    }
    assert sum(r.sent for r in site.log if r.path.startswith("/huge")) <= 2 * 64 * 2**20 + 2**20
    assert not any((first_crawl["work"] / ".reelledger-crawl" / "work").iterdir())  # nothing left on disk


def test_evidence_bundles_verify_against_the_chain_from_the_cli(world, first_crawl, tmp_path):
    case = next(c for c in settle_anchors(world) if c["url"] == first_crawl["urls"]["cropped"])
    bundle, copy = tmp_path / "bundle.json", tmp_path / "copy.bin"
    cli(world, "cases", "evidence", str(case["id"]), "-o", str(bundle), "--copy", str(copy))
    checked = cli(world, "verify", "evidence", str(bundle), "--copy", str(copy))
    assert "anchored" in checked.stdout and case["evidence_hash"] in checked.stdout and "copy matches" in checked.stdout
    altered = json.loads(bundle.read_bytes())
    altered["url"] = "http://elsewhere.example/"
    bundle.write_text(json.dumps(altered, sort_keys=True, separators=(",", ":")))
    assert "not anchored" in cli(world, "verify", "evidence", str(bundle), ok=False).stdout
    printed = cli(world, "cases", "notice", str(case["id"]), "--format", "dmca")
    drafted = next(
        n["body"] for n in world.crawler.get(f"/cases/{case['id']}").json()["notices"] if n["format"] == "dmca"
    )
    assert printed.stdout.rstrip("\n") == drafted.rstrip("\n")  # the letter as drafted, not re-wrapped for a terminal
    assert case["url"] in printed.stdout and "penalty of perjury" in printed.stdout and "DMCA" in printed.stderr
    # where to check the anchor, so that a recipient needs nobody's word for it
    assert world.service.ledger.chain.addresses["EvidenceRegistry"] in printed.stdout


def test_a_second_crawl_fetches_nothing_unchanged_and_opens_no_case(world, site, first_crawl):
    before = len(site.log)
    done = cli(world, "crawl", "run", "--seeds", "seeds.txt", *CRAWL, cwd=first_crawl["work"])
    assert "0 new cases" in done.stdout and "unchanged" in done.stdout
    # the crawler asks for unchanged media conditionally (the 304 is "unchanged"); the page's
    # screenshot, a browser loading the page, may fetch them too, unconditionally
    unrelated = [r for r in site.log[before:] if r.path == "/inline/media/unrelated.mp4"]
    assert any(r.if_none_match for r in unrelated)
    # a leak is fetched whole each time: each crawl is a sighting of its case, however the site answers
    leak = [r for r in site.log[before:] if r.path == "/inline/media/whole.mp4"]
    assert leak and not any(r.if_none_match for r in leak)
    cases = world.crawler.get("/cases").json()["items"]
    assert len(cases) == len(LEAK_NAMES) and all(c["sightings"] == 2 for c in cases)


def test_a_recheck_closes_the_case_of_a_link_taken_down(world, site, first_crawl):
    site.withdraw("/inline/media/whole.mp4")
    done = cli(world, "crawl", "recheck", "--interval", "0.02")
    assert "gone" in done.stdout
    cases = {c["url"]: c for c in world.crawler.get("/cases").json()["items"]}
    gone = cases[first_crawl["urls"]["whole"]]
    assert gone["status"] == "closed" and gone["lifetime_seconds"] is not None and gone["gone_at"]
    assert all(c["status"] == "open" for url, c in cases.items() if url != first_crawl["urls"]["whole"])
    summary = world.studio.get("/cases/lifetimes").json()
    assert summary["closed"] == 1 and summary["open"] == len(LEAK_NAMES) - 1
