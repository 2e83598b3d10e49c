"""Commands for disputes of statement lines (`periods dispute|disputes|decide`) and the arbiter
seat (`arbiter show|handover|accept`), over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import typer

from ledger.cli.client import _call, console, facts_table
from ledger.cli.settlement import money, periods

arbiter = typer.Typer(no_args_is_help=True, help="Who decides disputes, and handing that seat over.")


def _when(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _line(d: dict[str, Any]) -> str:
    outcome = d["state"] + (" by default" if d["by_default"] else "")
    corrected = (
        f", corrected {money(d['corrected_amount'], d['currency'])}" if d.get("corrected_amount") is not None else ""
    )
    pays, claimed = money(d["line_amount"], d["currency"]), money(d["claimed_amount"], d["currency"])
    return (
        f"{d['period_id']} dispute {d['dispute_id']}: line {d['line_index']} of {d['payee']} "
        f"pays {pays}, claimed {claimed}; {outcome} (line {d['line_state']}){corrected}; "
        f"deadline {_when(d['deadline'])}"
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
    console.print(f"disputed line {index}: {body['chain']['status']} {body['chain'].get('tx_hash') or ''}")
    if body.get("dispute"):
        console.print(_line(body["dispute"]))


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
    for d in found:
        console.print(_line(d))
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
    console.print(f"decided dispute {dispute_id}: {body['chain']['status']} {body['chain'].get('tx_hash') or ''}")
    console.print(_line(body["dispute"]))


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
        else f" (account {seat['arbiter_account_id']})"
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


@arbiter.command("handover")
def handover(account_id: int = typer.Option(..., help="The arbiter account to offer the seat to.")) -> None:
    """Offer the service signer's seat to an arbiter account (admin); it then accepts."""
    body = _call("POST", "/arbiter/handover", json={"account_id": account_id})
    console.print(f"seat offered to account {account_id}: {body['chain']['status']}")


@arbiter.command("accept")
def accept() -> None:
    """Take the arbiter seat offered to this arbiter account."""
    body = _call("POST", "/arbiter/accept")
    console.print(f"arbiter seat accepted: {body['chain']['status']} {body['chain'].get('tx_hash') or ''}")
