"""The CLI's registered works against a service started by scripts/run: a re-edit registered as a
derivative under a licence that allows it, at the licence's upstream share; a video registered
(its hashing job followed apart) and found again from a re-encoded, cropped excerpt by `match`,
by upload and by hash."""

from __future__ import annotations

import json
import re
import shutil
import time

from tests.helpers.cli import clip, created, registered_work, run


def test_walk_through_a_licence_to_re_edit_and_the_re_edit_registered_under_it(running, tmp_path):
    _, _, producer_key = created(
        run(running, "accounts", "create", "--role", "rights_holder", "--name", "drama producer")
    )
    maker_id, _, maker_key = created(
        run(running, "accounts", "create", "--role", "rights_holder", "--name", "short-video studio")
    )
    drama_master, re_edit_master = tmp_path / "drama.mp4", tmp_path / "re-edit.mp4"
    shutil.copy(clip("bigbuckbunny.mp4"), drama_master)
    shutil.copy(clip("bikes.mp4"), re_edit_master)
    drama = registered_work(running, drama_master, "Drama", producer_key)
    re_edit = registered_work(running, re_edit_master, "Re-edit", maker_key)
    window = ("--territory", "CN", "--start", str(int(time.time()) - 60), "--end", "2030-01-01")

    no_share = run(
        running, "licences", "grant", drama, "--licensee", str(maker_id), *window, "--derive", "re_edit",
        api_key=producer_key, ok=False,
    )  # fmt: skip
    assert no_share.returncode == 2 and "--upstream-bps" in no_share.stderr
    granted = run(
        running, "licences", "grant", drama, "--licensee", str(maker_id), *window,
        "--derive", "re_edit,dub", "--upstream-bps", "3000", api_key=producer_key,
    )  # fmt: skip
    assert "confirmed" in granted.stdout and "derive re_edit,dub: 30 % upstream\n" in granted.stdout
    licence_id = re.search(r"licence (\d+) \(chain id", granted.stdout).group(1)

    malformed = run(running, "works", "derive", re_edit, "--parent", "re_edit", api_key=maker_key, ok=False)
    assert malformed.returncode == 2 and "LICENCE_ID:KIND" in malformed.stderr
    wrong_kind = run(
        running, "works", "derive", re_edit, "--parent", f"{licence_id}:remake", api_key=maker_key, ok=False
    )
    assert wrong_kind.returncode == 1 and "422" in wrong_kind.stderr and "not remake" in wrong_kind.stderr
    derived = run(running, "works", "derive", re_edit, "--parent", f"{licence_id}:re_edit", api_key=maker_key)
    assert re.search(rf"derivative: confirmed\n  work id +{re_edit}\n", derived.stdout), derived.stdout
    assert f"re_edit of Drama under licence {licence_id}: 30 % upstream\n    {drama}\n" in derived.stdout


def test_walk_through_register_a_video_then_match_an_excerpt(running, tmp_path):
    """The fingerprint issue's acceptance path: a registered video is found again from a
    re-encoded, cropped 10-second excerpt with `reelledger match`, which names the work, the
    offset and the registration on chain. Footage: skimage.data photographs encoded here."""
    from watermark.testimages import UNRELATED_PHOTOGRAPHS
    from watermark.testvideos import photo_footage
    from watermark.video_attacks import ALL_ATTACKS, transcode

    _, _, studio_key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio4"))
    _, _, crawler_key = created(run(running, "accounts", "create", "--role", "crawler", "--name", "crawler4"))
    master = photo_footage(tmp_path / "master.mp4", width=854, height=480, seconds=30, shot_seconds=3.0)
    other = photo_footage(tmp_path / "other.mp4", width=854, height=480, seconds=12, photos=UNRELATED_PHOTOGRAPHS[:6])
    # Uploaded and answered with the service's hashing job at once; followed to its end apart.
    queued = run(running, "works", "register", str(master), "--title", "Photographs", "--no-wait", api_key=studio_key)
    job_id = queued.stdout.strip()
    followed = run(running, "jobs", "show", job_id, "--wait", api_key=studio_key)
    assert f"job {job_id} hash_master: done 100%" in followed.stdout, followed.stdout
    work_id = re.search(r"work id\s+(0x[0-9a-f]{64})", followed.stdout).group(1)
    hashed = run(running, "works", "register", str(other), "--title", "Other", "--hash-only", api_key=studio_key)
    other_id = re.search(r"work id\s+(0x[0-9a-f]{64})", hashed.stdout).group(1)

    excerpt = transcode(master, tmp_path / "excerpt.mp4", ALL_ATTACKS["crop10each+crf30"], start=14.2, seconds=10)
    found = run(running, "match", str(excerpt), api_key=crawler_key)
    assert work_id in found.stdout and "0:00:1" in found.stdout, found.stdout
    offset = float(re.search(r"offset\s+0:00:(\d+\.\d+)", found.stdout).group(1))
    assert abs(offset - 14.2) <= 1.0 and "confirmed in WorkRegistry 0x" in found.stdout
    uploaded = json.loads(run(running, "match", str(excerpt), "--upload", "--json", api_key=studio_key).stdout)
    assert uploaded["matched"] and uploaded["work"]["work_id"] == work_id

    cut = transcode(other, tmp_path / "other-cut.mp4", ALL_ATTACKS["mirror"], start=1.0, seconds=8)
    by_hash = json.loads(run(running, "match", str(cut), "--json", api_key=crawler_key).stdout)
    assert by_hash["matched"] and by_hash["work"]["work_id"] == other_id  # registered by hash: matchable too
    stranger = photo_footage(
        tmp_path / "stranger.mp4", width=640, height=360, seconds=8, photos=("moon", "clock", "coins")
    )  # not in either
    assert "no match" in run(running, "match", str(stranger), api_key=crawler_key).stdout
    refused = run(running, "match", str(tmp_path / "master.mp4"), api_key=None, ok=False)
    assert refused.returncode == 2 and "REELLEDGER_API_KEY" in refused.stderr
    notes = tmp_path / "notes.txt"
    notes.write_text("not a video\n")
    bad = run(running, "match", str(notes), api_key=crawler_key, ok=False)
    assert bad.returncode == 1 and "not an image or a video" in bad.stderr and "Traceback" not in bad.stderr
