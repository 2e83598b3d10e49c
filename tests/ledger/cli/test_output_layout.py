"""What the CLI prints at 80 columns (a narrow terminal, or any piped output): every id,
address and hash on one line, whole, so a double-click or a copy takes it entire."""

from __future__ import annotations

import io
import re

from rich.console import Console
from typer.testing import CliRunner

from ledger.cli import app, client, settlement
from ledger.cli.client import facts_table, listing

WORK_ID = "0x" + "ab12" * 16
TX_HASH = "0x" + "cd34" * 16
ADDRESS = "0x" + "ef56" * 10
WHOLE = {WORK_ID, TX_HASH, ADDRESS}


def narrow(renderable: object) -> str:
    """`renderable` as the CLI's consoles print it on an 80-column terminal."""
    console = Console(width=80, file=io.StringIO(), soft_wrap=True)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def assert_whole(out: str, *values: str) -> None:
    """Each of `values` is in `out` on one line, and no line holds a piece of one."""
    for value in values:
        assert any(value in line for line in out.splitlines()), f"{value} not whole in:\n{out}"
    pieces = set(re.findall(r"[0-9a-fx]{6,}", out)) - WHOLE
    assert not pieces, f"pieces of ids {pieces} in:\n{out}"


def test_facts_print_ids_and_addresses_whole_with_nothing_after_them():
    facts = facts_table()
    facts.add_row("work id", WORK_ID)
    facts.add_row("on chain", f"confirmed in WorkRegistry {ADDRESS}, tx {TX_HASH}")
    facts.add_row("speed", "10.5 / s")
    out = narrow(facts)
    assert_whole(out, WORK_ID, ADDRESS, TX_HASH)
    assert re.search(rf"^ work id   {WORK_ID}$", out, re.M)
    assert re.search(r"^ speed     10\.5 / s$", out, re.M)
    assert all(line == line.rstrip() for line in out.splitlines())


def test_facts_keep_their_values_as_text_and_a_second_line_under_the_value():
    facts = facts_table()
    facts.add_row("title", "[b]The Long Night")
    facts.add_row("unsettled works", f"{WORK_ID}: no settlement rule in force\nand another")
    out = narrow(facts)
    assert " title            [b]The Long Night\n" in out
    assert out.endswith("\n                  and another\n")


def test_a_listing_never_breaks_an_id_and_still_folds_prose():
    table = listing("id", "work id", "platform", "session", "payload", "status")
    table.add_row("1", WORK_ID, "A platform with a name long enough to fold", "-", ADDRESS, "confirmed")
    out = narrow(table)
    assert_whole(out, WORK_ID, ADDRESS)
    assert "│ confirmed │" in out and "A platform with a name long enough to fold" not in out


def test_a_short_listing_stays_within_the_terminal():
    table = listing("id", "kind", "status", "progress", "created")
    table.add_row("7", "fingerprint", "running", "40%", "2026-12-07 03:00")
    assert all(len(line) <= 80 for line in narrow(table).splitlines())


def period(period_id: str, **fields: object) -> dict[str, object]:
    return {
        "period_id": period_id,
        "period": {"first_day": "2026-11-01", "last_day": "2026-11-30"},
        "status": "committed",
        "root": TX_HASH,
        "total": 146,
        "currency": "CNY",
        "line_count": 1,
        "commit": {"tx_hash": TX_HASH},
        "unsettled_works": {},
        **fields,
    }


def test_periods_show_at_80_columns_prints_the_period_id_whole(monkeypatch):
    monkeypatch.setattr(settlement, "_call", lambda method, path, **kw: period(path.rpartition("/")[2]))
    result = CliRunner().invoke(app, ["periods", "show", WORK_ID], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert_whole(result.output, WORK_ID, TX_HASH)
    assert re.search(rf"period id\s+{WORK_ID}\n", result.output)
    assert re.search(r"total\s+1\.46 CNY\n", result.output)


def test_works_list_at_80_columns_prints_each_work_id_whole(monkeypatch):
    work = {"work_id": WORK_ID, "title": "The Long Night", "kind": "film", "chain": {"status": "confirmed"}}
    monkeypatch.setattr(client, "_call", lambda method, path, **kw: {"items": [work], "total": 1})
    result = CliRunner().invoke(app, ["works", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert_whole(result.output, WORK_ID)
    assert "The Long Night" in result.output and "1 of 1" in result.output
