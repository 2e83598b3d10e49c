"""Commands for disputes of statement lines (`periods dispute|disputes|decide`) and the arbiter
seat (`arbiter show|handover|accept`), over HTTP."""

from __future__ import annotations

from typing import Any

import httpx
import typer

from ledger.cli.client import _call, console, facts_table, moment, said
from ledger.cli.settlement import money, periods

arbiter = typer.Typer(no_args_is_help=True, help="Who decides disputes, and handing that seat over.")


def _me() -> str:
    """Your own address, to tell your lines from others'."""
    return str(_call("GET", "/accounts/me").get("address") or "").lower()


def _show(d: dict[str, Any], me: str = "") -> None:
    """A dispute: the line, what it pays and what is claimed, then its facts a line each."""
    outcome = d["state"] + (" by default" if d["by_default"] else "") + f" (line {d['line_state']})"
    if d.get("corrected_amount") is not None:
        outcome += f", corrected {money(d['corrected_amount'], d['currency'])}"
    pays, claimed = money(d["line_amount"], d["currency"]), money(d["claimed_amount"], d["currency"])
    payee = f"you, {d['payee']}" if me and d["payee"].lower() == me else d["payee"]
    said(
        f"dispute {d['dispute_id']}: line {d['line_index']} pays {pays}, claimed {claimed}",
        ("outcome", outcome),
        ("deadline", moment(d["deadline"])),
        ("payee", payee),
        ("work id", d["work_id"]),
        ("period id", d["period_id"]),
    )


@periods.command("dispute")
def dispute(
    period_id: str,
    index: int,
    reason: str = typer.Option(..., help="Why the line is wrong."),
    claimed: int = typer.Option(
        ..., "--claimed", help="What the line should pay, in minor units (fen for CNY: 1.46 CNY is 146)."
    ),
) -> None:
    """Dispute a line of yours while the period's dispute window is open: it is held until decided."""
    body = _call(
        "POST", f"/periods/{period_id}/lines/{index}/dispute", json={"reason": reason, "claimed_amount": claimed}
    )
    said(f"disputed line {index}: {body['chain']['status']}", ("tx", body["chain"].get("tx_hash") or "-"))
    if body.get("dispute"):
        _show(body["dispute"], _me())


@periods.command("disputes")
def list_disputes(
    period_id: str = typer.Argument(None, help="One period's; default: every dispute you may see."),
    state: str = typer.Option(None, help="open, upheld or rejected."),
) -> None:
    """Disputes with their state, deadline and outcome."""
    if period_id:
        found = _call("GET", f"/periods/{period_id}/disputes")
        found = [d for d in found if state is None or d["state"] == state]
    else:
        found = _call("GET", "/disputes", params={"state": state} if state else None)
    me = _me() if found else ""
    for d in found:
        _show(d, me)
    if not found:
        console.print("no disputes")


@periods.command("decide")
def decide(
    period_id: str,
    dispute_id: int,
    outcome: str = typer.Option(..., help="upheld (the line is voided) or rejected (it is released)."),
    corrected: int = typer.Option(
        None, "--corrected", help="Upheld: what the line should pay, in minor units (fen for CNY: 1.46 CNY is 146)."
    ),
    reason: str = typer.Option(..., help="Why; its hash goes on chain."),
) -> None:
    """Decide a dispute (the arbiter account holding the seat), before its deadline."""
    request: dict[str, Any] = {"outcome": outcome, "reason": reason}
    if corrected is not None:
        request["corrected_amount"] = corrected
    body = _call("POST", f"/periods/{period_id}/disputes/{dispute_id}/decide", json=request)
    said(f"decided dispute {dispute_id}: {body['chain']['status']}", ("tx", body["chain"].get("tx_hash") or "-"))
    _show(body["dispute"])


def _bond(seat: dict[str, Any]) -> str:
    """What a payee puts up to dispute, in the currency and the token it is paid in."""
    if not seat["bond_token"]:
        return "none"
    return f"{money(seat['bond_amount'], seat['bond_currency'])} in token {seat['bond_token']}"


@arbiter.command("show")
def show() -> None:
    """The arbiter seat: holder, successor named, decision window, default outcome, bond."""
    seat = _call("GET", "/arbiter")
    table = facts_table()
    holder = seat["arbiter"] + (
        " (the service signer)"
        if seat["held_by_service"]
        else " (external: decides on chain)"
        if seat["external"]
        else f" ({_account_name(seat['arbiter_account_id'])})"
    )
    for key, value in (
        ("arbiter", holder),
        ("pending", seat["pending"] or "-"),
        ("decision window", f"{seat['decision_window']} s"),
        ("default outcome", seat["default_outcome"]),
        ("bond", _bond(seat)),
    ):
        table.add_row(key, value)
    console.print(table)


def _account_name(account_id: int) -> str:
    """'account 5, rights-society' when you may read the accounts (an admin, an auditor), else 'account 5'."""
    from ledger.cli.client import _client

    try:
        with _client() as client:
            answer = client.get("/accounts", params={"limit": 500})
        names = {a["id"]: a["name"] for a in answer.json()} if answer.status_code == 200 else {}
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        names = {}
    return f"account {account_id}" + (f", {names[account_id]}" if account_id in names else "")


@arbiter.command("handover")
def handover(account_id: int = typer.Option(..., help="The arbiter account to offer the seat to.")) -> None:
    """Offer the service signer's seat to an arbiter account (admin); it then accepts."""
    body = _call("POST", "/arbiter/handover", json={"account_id": account_id})
    console.print(f"seat offered to account {account_id}: {body['chain']['status']}")


@arbiter.command("accept")
def accept() -> None:
    """Take the arbiter seat offered to this arbiter account."""
    body = _call("POST", "/arbiter/accept")
    said(f"arbiter seat accepted: {body['chain']['status']}", ("tx", body["chain"].get("tx_hash") or "-"))
