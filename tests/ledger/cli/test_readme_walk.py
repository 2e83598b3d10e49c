"""README.md's walk-through, every section's shell block in the README's order, run as written by
one reader: one service started by scripts/run (a real Anvil node, SQLite), one data directory,
the files in one working directory. Each block is followed as tests/helpers/readme.py says; what
the README's example output comments show is checked here by its key facts (statuses, amounts,
names), not its wording."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.helpers.readme import HEADING_DERIVATIVES as DERIVATIVES
from tests.helpers.readme import REELLEDGER, Reader, check_the_upstream_lines, readme_block
from tests.helpers.scripts_run import Service

SECTIONS = (
    "## Walk-through",
    "### Play reports and 分账 settlement",
    "### Disputes",
    DERIVATIVES,
    "### Watermarked distributions and tracing a leak",
    "### Matching a suspect copy to its work",
    "### Crawling for leaks",
)


@pytest.fixture
def service(tmp_path):
    """scripts/run's service; its dispute window is long enough for the Disputes section to
    dispute a line of a period it has just closed, and short enough to wait for twice."""
    service = Service(tmp_path / "data")
    service.extra_env.update(REELLEDGER_DISPUTE_WINDOW="15")
    try:
        service.start()
        yield service
    finally:
        if service.process is not None:
            service.stop()


def test_the_readme_walk_through_runs_as_written_from_registration_to_a_matched_excerpt(service, tmp_path):
    reader = Reader(service, tmp_path)
    derivatives_from = 0
    try:
        for heading in SECTIONS:
            if heading == DERIVATIVES:
                derivatives_from = len(reader.transcript)
            reader.follow(readme_block(heading))
    finally:
        reader.stop_sites()
    film = reader.works["film"]

    # Walk-through: registered once, confirmed, licensed, split, found on chain by the file alone.
    film_registered = reader.printed("works", "register", "film.mp4")[0]
    assert "confirmed" in film_registered and "video-phash64-1fps" in film_registered
    assert "confirmed" in reader.printed("licences", "grant")[0]
    assert "confirmed" in reader.printed("splits", "set")[0]
    verified = reader.printed("verify", "work")[0]
    assert film in verified and reader.accounts["studio"][1] in verified
    env = dict(service.env, REELLEDGER_URL=service.url)
    unregistered = subprocess.run(  # the marked copy is no registered work
        [str(REELLEDGER), "verify", "work", "copy.mp4"], env=env, cwd=reader.cwd, capture_output=True, text=True
    )
    assert unregistered.returncode == 1 and "no match" in unregistered.stdout
    registered = reader.printed("works", "register")
    assert len(registered) == 4 and not any("near duplicate" in out for out in registered)

    # Play reports: 8,100 valid plays at 0.02 fen less 10 % commission: 146 fen, 70/30.
    assert "2 rows, no problems" in reader.printed("reports", "check")[0]
    week_47 = reader.printed("reports", "submit")[0]
    assert "accepted, 2 rows (0 held)" in week_47 and "confirmed" in week_47
    closed = reader.printed("periods", "close")[0]
    assert "committed" in closed and "1.46 CNY" in closed and re.search(r"unsettled works\s+none", closed)
    assert "finalised" in reader.printed("periods", "show")[0]
    assert "confirmed" in reader.printed("periods", "fund")[0]
    assert re.search(r"1 lines?, 0\.44 CNY", reader.printed("periods", "statement")[0])
    assert re.search(r"verified: 1 lines?\b", reader.printed("verify", "statement")[0])
    assert "confirmed" in reader.printed("periods", "claim")[0]
    assert "identical" in reader.printed("audit", "period")[0]

    # Disputes: the next week's line disputed within the window, the seat handed over, upheld.
    assert "committed" in reader.printed("periods", "close")[1]
    disputed = reader.printed("periods", "dispute")[0]
    assert "confirmed" in disputed and re.search(r"open \(line held\)", disputed)
    assert "accepted: confirmed" in reader.printed("arbiter", "accept")[0]
    assert f"account {reader.accounts['rights-society'][0]}" in reader.printed("arbiter", "show")[0]
    decided = reader.printed("periods", "decide")[0]
    assert "confirmed" in decided and re.search(r"upheld \(line voided\)", decided)

    # Derivative works: the same facts as when the block runs alone.
    check_the_upstream_lines(reader, reader.cwd, since=derivatives_from)

    # Watermarked distributions: the excerpt of the marked copy names its distribution.
    made = reader.printed("distributions", "create")[0]
    assert "ready" in made
    payload = re.search(r"payload\s+(0x[0-9a-f]{12})", made).group(1)
    traced = reader.printed("watermark", "detect")
    assert "distribution 1" in traced[0] and "streamer" in traced[0] and "premiere-42" in traced[0]
    assert payload in traced[0] and "matches" in traced[0]
    assert "payload 0x5eed0badf00d" in traced[1]

    # Matching: the cropped, re-encoded excerpt is Harbour Lights, from 0:02.
    found = reader.printed("match")[0]
    assert reader.works["harbour"] in found and "Harbour Lights" in found
    offset = float(re.search(r"offset\s+0:00:(\d+\.\d+)", found).group(1))
    assert abs(offset - 2) <= 1.0 and "confirmed in WorkRegistry" in found

    # Crawling: the site on loopback holds the leaked excerpt and the suspect copy: a case each,
    # the excerpt traced to the streamer's premiere; evidence checked on chain; a copy taken down.
    crawled = reader.printed("crawl", "run")[0]
    assert re.search(r"\b2 matched a registered work, 2 new cases", crawled), crawled
    assert "The Long Night" in crawled and "Harbour Lights" in crawled and "streamer" in crawled
    listed = reader.printed("cases", "list")[0]
    assert "The Long Night" in listed and "Harbour Lights" in listed
    assert reader.printed("cases", "notice")[0].strip()
    assert (reader.cwd / "case-1.json").exists() and (reader.cwd / "case-1.copy").exists()
    checked = reader.printed("verify", "evidence")[0]
    assert "anchored" in checked and "copy matches" in checked
    first, second = reader.printed("crawl", "recheck")
    assert "gone" not in first and first.count("alive") == 2, first
    assert re.search(r"leaked-excerpt\.mp4\n\s+gone: 404", second) and second.count("alive") == 1, second
