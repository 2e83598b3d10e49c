"""README.md's "Derivative works that pay upstream" walk-through, run alone as written (see
tests/helpers/readme.py) against a service started by scripts/run on PostgreSQL: a real Anvil
node, on loopback. tests/ledger/cli/test_readme_walk.py runs the same block on SQLite after the
README's earlier sections and checks it with `check_the_upstream_lines` too. The dispute window
is 3 seconds. The block's dates are literal: the licences run to 2028-12-01."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from ledger.settlement.allocation import allocate
from tests.helpers.readme import REELLEDGER, Reader, readme_block

HEADING = "### Derivative works that pay upstream"


def check_the_upstream_lines(reader: Reader, cwd: Path, since: int = 0) -> None:
    """What the block says it does, from what its commands printed (those from `since` on in the
    reader's transcript) and the statement files they wrote to `cwd`."""
    block = Reader(reader.service, cwd, transcript=reader.transcript[since:])
    # The README's numbers: 100,000 valid plays at 0.1 fen = 10,000 fen, less 10 % commission:
    # 9,000 payable; 30 % of it (2,700) goes up, split 70/30 by the drama's split.
    payable = 100_000 * 100_000 // 1_000_000 * 9_000 // 10_000
    producer_due, investor_due = allocate(payable * 3_000 // 10_000, [7_000, 3_000], ["p", "i"])
    assert (producer_due, investor_due) == (1_890, 810)

    drama, re_edit = reader.works["drama"], reader.works["re-edit"]
    for name, due in (("producer", producer_due), ("investor", investor_due)):
        doc = json.loads((cwd / f"{name}.json").read_text())
        assert [(line["work_id"], line["via_work_id"], int(line["amount"])) for line in doc["lines"]] == [
            (drama, re_edit, due)
        ]
    assert "90.00 CNY" in block.printed("periods", "close")[0]  # every line's total: nothing created or lost
    statements = block.printed("periods", "statement")
    assert re.search(r"1 lines?, 18\.90 CNY", statements[0]) and re.search(r"1 lines?, 8\.10 CNY", statements[1])
    assert "work 'Spring Tide'" in statements[0]
    assert "through derivative 'Spring Tide: the clinic scenes'" in statements[0]
    verified = block.printed("verify", "statement")
    assert len(verified) == 2 and all(re.search(r"verified: 1 lines?\b", out) for out in verified)
    assert "18.90 CNY ok" in verified[0] and "8.10 CNY ok" in verified[1]
    claims = block.printed("periods", "claim")
    assert len(claims) == 2 and all("confirmed" in out for out in claims)
    assert "identical" in block.printed("audit", "period")[0]

    family = block.printed("works", "family")[0]
    assert re.search(r"re_edit of Spring Tide: 30 % upstream, licence \d+\n\s+" + drama, family)
    assert max(len(line) for line in family.splitlines()) <= 80


def test_the_readme_derivative_walk_through_pays_the_dramas_payees_30_percent_of_the_re_edit(
    settling_on_postgresql, tmp_path
):
    reader = Reader(settling_on_postgresql, tmp_path)
    reader.follow(readme_block(HEADING))
    check_the_upstream_lines(reader, tmp_path)


def test_works_family_shows_the_tree_from_the_parent_and_as_json_in_minor_units(settling, tmp_path):
    """From the drama's side the re-edit is a child; --json gives the service's answer, the
    minimum in micro-units; someone outside the family is told the work is not found."""
    reader = Reader(settling, tmp_path)
    block = readme_block(HEADING)
    reader.follow(block[: next(i for i, line in enumerate(block) if line.startswith("reelledger works family"))])
    drama, re_edit = reader.works["drama"], reader.works["re-edit"]

    reader.key = reader.accounts["drama-producer"][2]
    reader.run(["works", "family", drama])
    tree = reader.printed("works", "family")[-1]
    assert "derives from (pays upstream to)\n  none" in tree
    assert re.search(r"re_edit by Spring Tide: the clinic scenes: 30 % upstream, licence \d+\n\s+" + re_edit, tree)

    reader.run(["works", "family", re_edit, "--json"])
    body = json.loads(reader.printed("works", "family")[-1])
    [edge] = body["parents"]
    assert (edge["parent"]["work_id"], edge["share_bps"], edge["min_per_valid_play_micro"]) == (drama, 3_000, 0)
    assert body["children"] == [] and edge["chain"]["status"] == "confirmed"

    env = dict(settling.env, REELLEDGER_URL=settling.url)
    env["REELLEDGER_API_KEY"] = reader.accounts["shorts-platform"][2]
    outsider = subprocess.run(
        [str(REELLEDGER), "works", "family", drama], env=env, capture_output=True, text=True, timeout=60
    )
    assert outsider.returncode == 1 and "404" in outsider.stderr
