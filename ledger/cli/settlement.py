"""Commands for play reports, settlement rules, periods, statements and claims (over HTTP)."""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from ledger.chain.hexes import to_0x
from ledger.cli.client import Fitted, _call, console, counted, err, facts_table, hanging, moment, print_problems, said
from ledger.cli.files import ProgressReader, progress
from ledger.days import day_number

reports = typer.Typer(no_args_is_help=True, help="Send and read play reports.")
rules = typer.Typer(no_args_is_help=True, help="Set and list settlement rule versions of a work.")
periods = typer.Typer(no_args_is_help=True, help="Close periods, read statements, fund and claim.")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        err.print(f"[red]reelledger:[/red] {option} {text!r} is not a YYYY-MM-DD date")
        raise typer.Exit(2) from None


def _kind(path: Path) -> str:
    from ledger.reports.prepare import CONTENT_TYPES

    kind = path.suffix.lower().lstrip(".")
    if kind not in CONTENT_TYPES:
        err.print(f"[red]reelledger:[/red] {path.name}: name the file .ndjson, .jsonl, .csv or .json")
        raise typer.Exit(2)
    return kind


@reports.command("submit")
def submit(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    report_id: str = typer.Option(..., help="Your own id for the report; resending it is harmless."),
    start: str = typer.Option(..., help="First day of the period, YYYY-MM-DD."),
    end: str = typer.Option(..., help="Last day of the period, inclusive."),
    currency: str = typer.Option("CNY"),
    supersedes: str = typer.Option(None, help="The report id this one corrects."),
    key_env: str = typer.Option(
        "REELLEDGER_PLATFORM_KEY", help="Environment variable holding the platform's private key, if it has its own."
    ),
) -> None:
    """Send a report. With the platform's own key it is summed, rooted and signed here first."""
    first, last = _day(start, "--start"), _day(end, "--end")
    kind = _kind(file)
    from ledger.reports.prepare import CONTENT_TYPES

    headers = {"content-type": CONTENT_TYPES[kind]}
    private_key = os.environ.get(key_env)
    if private_key:
        from eth_account import Account

        from ledger.reports.prepare import check_file, sign_summary, summary_of_digest

        signer = Account.from_key(private_key)
        domain = _call("GET", "/reports/signing-domain")["domain"]
        digest, problems = check_file(
            file, kind, first_day=day_number(first), end_day=day_number(last) + 1, currency=currency.upper()
        )
        if problems:
            err.print(f"[red]reelledger:[/red] {file.name}: not sent, nothing was signed")
            print_problems(problems.as_dict())
            raise typer.Exit(1)
        summary = summary_of_digest(digest, platform=signer.address, report_id=report_id, supersedes=supersedes)
        headers["X-Report-Signature"] = sign_summary(summary, signer.key, domain)
        said(
            f"signed {counted(summary.row_count, 'row')}",
            ("rows root", to_0x(summary.rows_root)),
            ("signed by", signer.address),
        )
    query = {"report_id": report_id, "period_start": str(first), "period_end": str(last), "currency": currency.upper()}
    if supersedes:
        query["supersedes"] = supersedes
    with progress() as bar:
        reader = ProgressReader(file, bar, "sending")
        try:
            body = _call("POST", "/reports", params=query, content=iter(lambda: reader.read(), b""), headers=headers)
        finally:
            reader.close()
    _show_report(body)


@reports.command("check")
def check(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True)) -> None:
    """Check a report with the service, keeping nothing: every bad row, one per line."""
    from ledger.reports.prepare import CONTENT_TYPES

    headers = {"content-type": CONTENT_TYPES[_kind(file)]}
    with progress() as bar:
        reader = ProgressReader(file, bar, "checking")
        try:
            body = _call("POST", "/reports/check", content=iter(lambda: reader.read(), b""), headers=headers)
        finally:
            reader.close()
    if body["problems"]:
        print_problems(body)
        raise typer.Exit(1)
    console.print(Text(f"{file.name}: {counted(body['rows'], 'row')}, no problems"))


def _show_report(body: dict[str, Any]) -> None:
    anchor = body.get("anchor") or {}
    said(
        Text(
            f"report {body['report_id']}: {body['status']}, {counted(body['rows'], 'row')} "
            f"({body['held_rows']} held), {body['period']['first_day']} to {body['period']['last_day']} "
            f"{body['currency']}"
        ),
        ("rows root", body["rows_root"] or "-"),
        ("anchored", f"on chain: {anchor.get('status', '-')}"),
        ("anchor tx", anchor.get("tx_hash") or "-"),
    )


@reports.command("list")
def list_reports() -> None:
    for body in _call("GET", "/reports"):
        _show_report(body)


@reports.command("held")
def held(
    state: str = typer.Option(None, help="held: only rows still held; released: only rows a later period settled."),
    offset: int = typer.Option(0, min=0),
    limit: int = typer.Option(100, min=1, max=1000),
) -> None:
    """Rows no licence covered when they arrived: why each is held and what it would earn, or the
    period that settled it once a licence covered it."""
    if state not in (None, "held", "released"):
        err.print(f"[red]reelledger:[/red] --state {state!r}: give held or released")
        raise typer.Exit(2)
    query: dict[str, Any] = {"offset": offset, "limit": limit, **({"state": state} if state else {})}
    found = _call("GET", "/reports/held", params=query)
    for row in found:
        said(
            Text(f"{row['report_id']} {row['territory']} {row['date']} valid plays {row['valid_plays']}"),
            ("work id", row["work_id"]),
            ("state", _held_state(row)),
        )
    if not found:
        console.print(_nothing_held(state, offset))


def _nothing_held(state: str | None, offset: int) -> str:
    """Said rather than printing nothing, which reads as a command that did not run."""
    rows = {"held": "no rows held", "released": "no rows released"}.get(state or "", "no rows held or released")
    if offset:
        return f"{rows} from row {offset} on"
    return rows + (": a licence covered every row of the reports" if state != "released" else "")


def _held_state(row: dict[str, Any]) -> str:
    if row["released_into"]:
        return f"released into period {row['released_into']}"
    earning = row["would_earn"]
    worth = f"would earn {money(earning['amount'], earning['currency'])}" if earning else "no rule in force"
    return f"held, {worth}: {row['reason']} ({row['reason_code']})"


@rules.command("set")
def set_rule(
    work_id: str,
    effective_from: str = typer.Option(..., help="First day the version is in force, YYYY-MM-DD."),
    rule_json: str = typer.Option(
        ...,
        "--rule",
        help='JSON, e.g. {"valid_play_tiers": [{"from_plays": 0, "price_micro": 10000}], "commission_bps": 1000}',
    ),
    platform_id: int = typer.Option(None, help="The deal with one platform; omit for every platform."),
) -> None:
    """Add a settlement rule version (prices in millionths of a minor unit)."""
    try:
        rule = json.loads(rule_json)
    except json.JSONDecodeError:
        err.print("[red]reelledger:[/red] --rule is not JSON")
        raise typer.Exit(2) from None
    body = {"effective_from": str(_day(effective_from, "--effective-from")), "rule": rule, "platform_id": platform_id}
    created = _call("POST", f"/works/{work_id}/rules", json=body)
    said(
        f"rule version {created['version']}, from {created['effective_from']}",
        ("work id", work_id),
        ("hash", created["content_hash"]),
    )


@rules.command("list")
def list_rules(
    work_id: str,
    as_json: bool = typer.Option(
        False, "--json", help="The service's answer as JSON (prices in millionths of the minor unit, as set)."
    ),
) -> None:
    """A work's rule versions, prices as money in the rule's currency."""
    found = _call("GET", f"/works/{work_id}/rules")
    if as_json:
        print(json.dumps(found, indent=1))
        return
    for rule in found:
        hanging(
            Text(
                f"v{rule['version']} from {rule['effective_from']} platform {rule['platform_id'] or 'any'}: "
                f"{rule_terms(rule['rule'], rule['currency'])}"
            ),
            first="",
            rest="  ",
        )


def rule_terms(rule: dict[str, Any], currency: str | None) -> str:
    """A rule as people read it: "0.0002 CNY per valid play; the platform keeps 10 %". As set
    (JSON, prices in micro-units) when it names no currency to read them in."""
    if not currency:
        return json.dumps(rule)
    from ledger.currencies import major, major_micro

    tiers = rule.get("valid_play_tiers") or []
    terms = [
        f"{major_micro(t['price_micro'], currency)} per valid play"
        + (f" beyond {t['from_plays']:,}" if t["from_plays"] else "")
        for t in tiers
    ]
    if rule.get("watch_minute_price_micro"):
        terms.append(f"{major_micro(rule['watch_minute_price_micro'], currency)} per watch minute")
    if rule.get("ad_revenue_bps"):
        terms.append(f"{_percent(rule['ad_revenue_bps'])} of ad revenue")
    if rule.get("pool"):
        terms.append(f"a share of pool {rule['pool']!r} by watch minutes")
    if rule.get("commission_bps"):
        terms.append(f"the platform keeps {_percent(rule['commission_bps'])}")
    if rule.get("advance"):
        terms.append(f"an advance of {major(rule['advance'], currency)} recouped first")
    return "; ".join(terms) or "earns nothing"


def _percent(bps: int) -> str:
    from decimal import Decimal

    return f"{Decimal(bps) / 100:f} %"


def _show_period(p: dict[str, Any]) -> None:
    """A period as its platform sees it, or as a payee does (without the platform's own fields)."""
    table = facts_table()
    rows = [
        ("period id", p["period_id"]),
        ("days", f"{p['period']['first_day']} to {p['period']['last_day']}"),
        ("status", p["status"]),
        ("root", p["root"] or "-"),
        ("total", money(p["total"], p["currency"])),
        ("lines", str(p["line_count"])),
        ("commit tx", (p.get("commit") or {}).get("tx_hash") or "-"),
    ]
    if p.get("dispute_ends"):
        rows.append(("disputes until", moment(p["dispute_ends"])))
    if p.get("finalise"):
        rows.append(("finalise tx", f"{p['finalise'].get('tx_hash') or '-'} ({p['finalise'].get('status')})"))
    if "unsettled_works" in p:  # the platform's own view: each work left out, and why
        unsettled = [f"{work}: {why}" for work, why in (p["unsettled_works"] or {}).items()]
        rows += [("unsettled works" if i == 0 else "", line) for i, line in enumerate(unsettled or ["none"])]
    for key, value in rows:
        table.add_row(key, value)
    console.print(table)


@periods.command("close")
def close(
    start: str = typer.Option(...),
    end: str = typer.Option(..., help="Last day, inclusive."),
    currency: str = typer.Option("CNY"),
    pool: list[str] = typer.Option(
        [], help="NAME=AMOUNT of a revenue pool, in minor units (fen for CNY: 1.46 CNY is 146); repeatable."
    ),
) -> None:
    """Settle the period's reports and commit the root on chain (once)."""
    pools = {}
    for item in pool:
        name, _, amount = item.partition("=")
        if not name or not amount.isdigit():
            err.print(f"[red]reelledger:[/red] --pool {item!r} is not NAME=AMOUNT")
            raise typer.Exit(2)
        pools[name] = int(amount)
    body = {
        "period_start": str(_day(start, "--start")),
        "period_end": str(_day(end, "--end")),
        "currency": currency.upper(),
        "pools": pools,
    }
    _show_period(_call("POST", "/periods/close", json=body))


@periods.command("list")
def list_periods() -> None:
    """Your periods, each its days, status and total, then its id on a line of its own."""
    for p in _call("GET", "/periods"):
        console.print(
            f"{p['period']['first_day']} to {p['period']['last_day']}: {p['status']}, "
            f"total {money(p['total'], p['currency'])}"
        )
        console.print(f"  {p['period_id']}")


@periods.command("show")
def show(period_id: str) -> None:
    _show_period(_call("GET", f"/periods/{period_id}"))


@periods.command("statement")
def statement(
    period_id: str,
    out: Path = typer.Option(
        ...,
        "--out",
        "-o",
        help="Where to write the statement JSON: for `verify statement` and programs, its amounts in minor units "
        "(fen for CNY), as the chain holds them.",
    ),
    payee: str = typer.Option(None, help="Platforms and auditors: whose lines."),
) -> None:
    """Download your lines of a period, each with its Merkle proof."""
    body = _call("GET", f"/periods/{period_id}/statement", params={"payee": payee} if payee else None)
    out.write_text(json.dumps(body, indent=1) + "\n")
    total = money(body["payee_total"], body["currency"])
    console.print(Fitted(Text(f"{counted(len(body['lines']), 'line')}, {total} ->"), str(out)))
    for line in body["lines"]:
        hanging(Text(f"line {line['index']}: {money(line['amount'], body['currency'])}, {line_source(line)}"))


def money(amount: int | str, currency: str) -> str:
    """Minor units in major units with the currency ("18.90 CNY"); as minor units when the
    currency is not one the ledger knows (a statement file may say anything)."""
    from ledger.currencies import major

    try:
        return major(int(amount), currency)
    except ValueError:
        return f"{amount} minor units of {currency!r}"


def line_source(line: dict[str, Any]) -> str:
    """The work a line pays the payees of and, for an upstream line, the derivative it came through."""
    source = f"work {_work_name(line['work_id'], line.get('work_title'))}"
    if line.get("via_work_id"):
        source += f" through derivative {_work_name(line['via_work_id'], line.get('via_title'))}"
    return source


def _work_name(work_id: str, title: str | None) -> str:
    return f"{title!r} ({work_id[:10]}…)" if title else work_id


@periods.command("fund")
def fund(
    period_id: str,
    amount: int = typer.Option(None, help="In minor units (fen for CNY: 1.46 CNY is 146); default: all still owed."),
) -> None:
    """Pay what the period owes into the settlement contract (platform)."""
    body = _call("POST", f"/periods/{period_id}/fund", json={"amount": amount} if amount else {})
    funded = money(body["funded"], body["currency"])
    said(f"funded {funded}: {body['chain']['status']}", ("tx", body["chain"].get("tx_hash") or "-"))


@periods.command("claim")
def claim(
    period_id: str, index: int = typer.Argument(..., help="The line's index, as `periods statement` prints it.")
) -> None:
    """Claim a line of yours once the period is finalised; the tokens go to your address."""
    body = _call("POST", f"/periods/{period_id}/lines/{index}/claim")
    said(f"claimed line {index}: {body['chain']['status']}", ("tx", body["chain"].get("tx_hash") or "-"))


@periods.command("audit")
def audit_remote(period_id: str) -> None:
    """Ask the service to recompute the period (auditor); `reelledger audit period` does it here."""
    body = _call("GET", f"/periods/{period_id}/audit")
    _print_audit(body)
    if not body["ok"]:
        raise typer.Exit(1)


def _print_audit(body: dict[str, Any]) -> None:
    said("the period's root", ("recomputed", body["recomputed_root"] or "-"), ("on chain", body["chain_root"] or "-"))
    console.print(f"total {money(body['total'], body['currency'])} over {counted(body['line_count'], 'line')}")
    for problem in body["problems"]:
        console.print(f"[red]problem:[/red] {problem}")
    console.print("[green]identical[/green]" if body["ok"] else "[red]does not match[/red]")
