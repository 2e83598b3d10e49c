"""The CLI's commands that need no service: refusals of a malformed API key, a service that does
not answer, a database that cannot be opened or a statement file nested too deep, each said in one
line without the key or a traceback; the crawl's messages; the attack list; how upstream terms read.
The walk-throughs against a service started by scripts/run are in test_cli_settlement.py,
test_cli_works.py and test_cli_watermark.py (test_readme_walk.py runs the README's as written)."""

from __future__ import annotations

import socket
import subprocess

import pytest

from tests.helpers.cli import REELLEDGER


def test_a_crawl_worker_without_a_crawler_key_does_not_start(tmp_path):
    """It would take jobs off the queue and fail every one of them."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "REELLEDGER_API_KEY"}
    result = subprocess.run([str(REELLEDGER), "crawl", "worker"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "REELLEDGER_API_KEY" in result.stderr


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
    video, image = listed.stdout.split("image attacks:\n")
    assert video.startswith("video attacks:\n  crf30")
    names = [line.split()[0] for line in video.splitlines()[1:]]
    assert "crop10+crf30" in names and "crop10each+crf30" in names
    assert "jpeg50" in [line.split()[0] for line in image.splitlines()]
    assert all(line.startswith("  ") and len(line) <= 80 for line in (video + image).splitlines()[1:])
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


def test_upstream_terms_read_as_a_percentage_and_a_minimum_in_its_unit():
    from ledger.cli.client import upstream_terms

    assert upstream_terms(3_000, 0) == "30 % upstream"
    assert upstream_terms(2_550, 20_000, "CNY") == "25.5 % upstream, at least 0.0002 CNY per valid play"
    # a licence's minimum before the derivative names a currency
    assert upstream_terms(3_000, 500) == "30 % upstream, at least 500 micro-units of the minor unit per valid play"
