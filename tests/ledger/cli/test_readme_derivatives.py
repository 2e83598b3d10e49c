"""README.md's "Derivative works that pay upstream" walk-through, run alone as written (see
tests/helpers/readme.py) against a service started by scripts/run on PostgreSQL: a real Anvil
node, on loopback. tests/ledger/cli/test_readme_walk.py runs the same block on SQLite after the
README's earlier sections and checks it with `check_the_upstream_lines` too. The dispute window
is 3 seconds. The block's dates are literal: the licences run to 2028-12-01."""

from __future__ import annotations

import json
import re
import subprocess

from tests.helpers.readme import HEADING_DERIVATIVES as HEADING
from tests.helpers.readme import REELLEDGER, Reader, check_the_upstream_lines, readme_block


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
