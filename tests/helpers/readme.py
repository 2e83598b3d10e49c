"""README.md's shell blocks, followed as a reader would: each block is taken by its heading and
each `reelledger` command is run through the entry point against a service started by
scripts/run, so the README cannot drift from what works.

Placeholders are filled from what the commands before printed: `rlk_...` in an `export
REELLEDGER_API_KEY=rlk_...  # the NAME's key` line with the key of account NAME, `0x<NAME
address>` and `<NAME account id>` from `accounts create --name NAME`, `0x<FILE id>` from `works
register FILE.mp4`, `<licence id>`, `0x<period id>`, `<line index>` and `<dispute id>` from the
last grant, close, statement and dispute. `periods show` is repeated until the period is final,
as a reader would wait for its dispute window."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from ledger.config import REPO_ROOT
from ledger.settlement.allocation import allocate
from tests.helpers.scripts_run import Service
from tests.helpers.settings import free_port

REELLEDGER = Path(sys.executable).parent / "reelledger"

# What the reader sets up in its shell: the service's own environment gives the test the same.
SHELL_SETUP = {"PATH", "REELLEDGER_DATA_DIR"}


def readme_block(heading: str) -> list[str]:
    """The first shell block after `heading` in README.md, its continuation lines joined."""
    text = (REPO_ROOT / "README.md").read_text()
    start = text.index("\n" + heading)
    block = re.search(r"```sh\n(.*?)```", text[start:], re.S)
    assert block, f"no shell block under {heading!r}"
    return block.group(1).replace("\\\n", " ").splitlines()


@dataclass
class Reader:
    """Someone following the README's blocks in one working directory: the keys, ids and
    addresses printed so far, and what each command printed (command, stdout)."""

    service: Service
    cwd: Path
    accounts: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # name -> id, address, key
    works: dict[str, str] = field(default_factory=dict)  # file stem -> work id
    found: dict[str, str] = field(default_factory=dict)  # placeholder -> value
    key: str | None = None
    transcript: list[tuple[list[str], str]] = field(default_factory=list)
    sites: list[subprocess.Popen] = field(default_factory=list)  # web servers the README starts

    def __post_init__(self) -> None:  # scripts/run's Anvil, as the README names it, is on a port of the test's
        self.found.setdefault("127.0.0.1:8545", f"127.0.0.1:{self.service.anvil_port}")

    def fill(self, text: str) -> str:
        for placeholder, value in self.found.items():
            text = text.replace(placeholder, value)
        text = re.sub(r"0x<([\w-]+) address>", lambda m: self.accounts[m.group(1)][1], text)
        text = re.sub(r"<([\w-]+) account id>", lambda m: self.accounts[m.group(1)][0], text)
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
            exported = re.fullmatch(
                r"export REELLEDGER_API_KEY=rlk_\.\.\.\s+# (?:the )?([\w-]+?)(?: account)?'s key", line.strip()
            )
            if exported:
                self.key = self.accounts[exported.group(1)][2]
                continue
            workdir = re.fullmatch(r"mkdir -p (\S+) && cd \1", line.strip())
            if workdir:  # a directory of the walk's own: here, one under the test's
                self.cwd = self.cwd / Path(workdir.group(1)).name
                self.cwd.mkdir(exist_ok=True)
                continue
            if self.shell(line.strip()):
                continue
            args = shlex.split(self.fill(line), comments=True)
            env = {}
            while "=" in args[0] and args[0].partition("=")[0].isupper():  # VAR=value before a command
                name, _, value = args.pop(0).partition("=")
                env[name] = value
            if args[0] == "export":
                names = {word.partition("=")[0] for word in args[1:]}
                assert names <= SHELL_SETUP, f"the README exports what this reader does not know: {line}"
                continue
            assert args[0] == "reelledger", f"the README's block runs a command this reader does not know: {line}"
            self.run(args[1:], env)

    def shell(self, line: str) -> bool:
        """The few shell commands the README's blocks use around `reelledger`, done as the shell
        would; a web server started in the background serves on a free port instead of the
        README's, which later lines are read with. False for any other line."""
        line = re.sub(r"\s+#.*$", "", line)
        copied = re.fullmatch(r"mkdir -p (\S+) && cp ((?:\S+ )+)\1/", line)
        if copied:
            (self.cwd / copied.group(1)).mkdir(parents=True, exist_ok=True)
            for name in copied.group(2).split():
                shutil.copy(self.cwd / name, self.cwd / copied.group(1) / name)
            return True
        served = re.fullmatch(r"python3 -m http\.server (\d+) --bind 127\.0\.0\.1 --directory (\S+) &", line)
        if served:
            port = free_port()
            self.found[f"127.0.0.1:{served.group(1)}"] = f"127.0.0.1:{port}"
            command = [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"]
            self.sites.append(
                subprocess.Popen(
                    [*command, "--directory", served.group(2)],
                    cwd=self.cwd,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            wait_for_port(port)
            return True
        printed = re.fullmatch(r"printf '(.*)' > (\S+)", line)
        if printed:
            (self.cwd / printed.group(2)).write_text(self.fill(printed.group(1)).replace("\\n", "\n"))
            return True
        if line == "kill %1":  # the web server started first
            self.stop_sites()
            return True
        removed = re.fullmatch(r"rm (\S+)", line)
        if removed:
            (self.cwd / removed.group(1)).unlink()
            return True
        return False

    def stop_sites(self) -> None:
        for site in self.sites:
            site.terminate()
            site.wait(timeout=30)
        self.sites.clear()

    def run(self, args: list[str], extra_env: dict[str, str] | None = None) -> None:
        env = dict(self.service.env, REELLEDGER_URL=self.service.url, COLUMNS="200", **(extra_env or {}))
        if self.key:
            env["REELLEDGER_API_KEY"] = self.key
        deadline = time.monotonic() + 120
        while True:
            result = subprocess.run(
                [str(REELLEDGER), *args], env=env, cwd=self.cwd, capture_output=True, text=True, timeout=600
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
            self.found["<line index>"] = re.search(r"\bline (\d+)\b", out).group(1)
        elif args[:2] == ["periods", "dispute"]:
            self.found["<dispute id>"] = re.search(r"dispute (\d+): line", out).group(1)
        elif args[:2] == ["cases", "notice"]:
            registry = re.search(r"存证合约 (0x[0-9a-fA-F]{40})|evidence registry (0x[0-9a-fA-F]{40})", out)
            self.found["0x<EvidenceRegistry address>"] = registry.group(1) or registry.group(2)

    def printed(self, *command: str) -> list[str]:
        """What each run of the command printed, in order."""
        return [out for args, out in self.transcript if tuple(args[: len(command)]) == command]


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on port {port}"
            time.sleep(0.1)


HEADING_DERIVATIVES = "### Derivative works that pay upstream"


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
