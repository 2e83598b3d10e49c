"""The CLI's accounts, reports and periods against a service started by scripts/run (conftest's
`running`, or `settling`, whose periods finalise 3 seconds after they are committed): a play
report through a finalised period to a verified statement, a claim and an audit; a report with
bad rows refused with each problem on its own line; a client command refused saying why."""

from __future__ import annotations

import json
import re
import time

from tests.helpers.cli import clip, created, run


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
    assert f"{start} to {end}: finalised, total 5.04 CNY\n  {period_id}\n" in listed

    statement = tmp_path / "writer-statement.json"
    printed = run(settling, "periods", "statement", period_id, "-o", str(statement), api_key=writer_key).stdout
    verified = run(settling, "verify", "statement", str(statement))
    assert "verified: 1 line against the chain" in verified.stdout
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
