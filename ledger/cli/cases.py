"""`reelledger cases`: piracy cases, their evidence bundles and takedown notices."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import typer
from rich.text import Text

from ledger.cli.client import _call, _client, console, counted, err, facts_table, listing, moment
from ledger.piracy.notices import short_id

cases = typer.Typer(no_args_is_help=True, help="Piracy cases: evidence, notices, link lifetimes.")


def _lifetime(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m{rest % 60:02d}s"


def _minute(at: str) -> str:
    return moment(at)


def _life(life: dict[str, Any]) -> str:
    """One life of a re-found link: up, taken down, found again."""
    return (
        f"found {_minute(life['found_at'])}, gone {_minute(life['gone_at'])} (lifetime "
        f"{_lifetime(life['lifetime_seconds'])}), found again {_minute(life['found_again_at'])}"
    )


def _match(case: dict[str, Any]) -> str:
    """How the copy matched: a stretch of the work, or for a still the frame (or picture) it shows."""
    m = case["match"]
    confidence = f"confidence {m['confidence']:.2f}"
    if case["media_kind"] == "image":
        shown = (
            f"the work's frame at {m['offset_seconds']:.1f} s"
            if case["work_media_kind"] == "video"
            else "the work's picture"
        )
        return f"the picture matches {shown}, {confidence}"
    if m.get("whole_copy_compared") is False:  # decided on the copy's first seconds
        return (
            f"at least {m['duration_seconds']:.1f} s from {m['offset_seconds']:.1f} s "
            f"(the copy's first {m['seconds_compared']:.1f} s compared), {confidence}"
        )
    return f"{m['duration_seconds']:.1f} s from {m['offset_seconds']:.1f} s, {confidence}"


def _source(source: dict[str, Any] | None) -> str:
    """A derivative's case: the ancestor whose footage the copy shows, under its licence."""
    if source is None:
        return "-"
    chain = f", on chain {source['chain_licence_id']}" if source["chain_licence_id"] is not None else ""
    return (
        f"{source['title']} {source['work_id']} ({source['kind']} under licence {source['licence_id']}{chain}; "
        f"licensed footage, not a copy of it)"
    )


def work_name(case: dict[str, Any]) -> str:
    """The case's work as a reader tells two works of one title apart: title and shortened id."""
    return f"{case['title']} {short_id(case['work_id'])}"


def show_case(case: dict[str, Any]) -> None:
    table = facts_table()
    leak = case["leak"]
    leaked = "no watermark read"
    if leak["payload"]:
        platform = leak["platform"]["name"] if leak["platform"] else "no distribution on record"
        leaked = f"payload {leak['payload']} -> {platform}"
    rows = [
        ("case", f"{case['id']} ({case['status']})"),
        ("work", f"{case['title']} {case['work_id']}"),
        ("url", case["url"]),
        ("page", case["page_url"] or "-"),
        ("match", _match(case)),
        ("derivative of", _source(case.get("derivative_of"))),
        ("leaked by", leaked),
        (
            "evidence",
            f"{case['evidence_hash']} {case['anchor']['status']} in EvidenceRegistry "
            f"{case['evidence_registry']}, tx {case['anchor']['tx_hash']}",
        ),
        (
            "seen",
            f"{moment(case['first_seen_at'])} to {moment(case['last_seen_at'])} "
            f"({counted(case['sightings'], 'sighting')}, "
            f"{counted(case['checks'], 'check')})",
        ),
        ("lifetime", _lifetime(case["lifetime_seconds"])),
        *(("earlier life", _life(life)) for life in case["history"]),
        ("notices", ", ".join(f"{n['format']} {n['delivery']}" for n in case["notices"]) or "-"),
    ]
    for label, value in rows:
        table.add_row(label, str(value))
    console.print(table)


@cases.command("list")
def list_cases(
    status: str = typer.Option(None, help="open or closed"),
    work_id: str = typer.Option(None, help="Only this work's cases."),
    limit: int = typer.Option(50, min=1, max=500),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """The cases you may see: a rights holder's works', a crawler's own, an auditor all."""
    params = {k: v for k, v in {"status": status, "work_id": work_id, "limit": limit}.items() if v is not None}
    page = _call("GET", "/cases", params=params)
    if as_json:
        console.print_json(json.dumps(page))
        return
    table = listing("case", "status", "work", "url", "leaked by", "anchor", "lifetime")
    for c in page["items"]:
        platform = c["leak"]["platform"]["name"] if c["leak"]["platform"] else "-"
        table.add_row(
            str(c["id"]),
            c["status"],
            work_name(c),
            c["url"],
            platform,
            c["anchor"]["status"],
            _lifetime(c["lifetime_seconds"]),
        )
    console.print(table)
    console.print(f"{len(page['items'])} of {page['total']}")
    summary = _call("GET", "/cases/lifetimes")
    console.print(
        f"links: {summary['open']} open, {summary['closed']} gone, median lifetime "
        f"{_lifetime(summary['median_lifetime_seconds'])}"
    )


@cases.command("show")
def show(case_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """One case: its work, URL, match, the platform its watermark names, evidence and notices."""
    case = _call("GET", f"/cases/{case_id}")
    console.print_json(json.dumps(case)) if as_json else show_case(case)


@cases.command("evidence")
def evidence(
    case_id: int,
    output: Path = typer.Option(..., "-o", "--output", help="Where to write the bundle (JSON)."),
    copy: Path = typer.Option(None, "--copy", help="Also save the fetched copy here."),
    screenshot: Path = typer.Option(None, "--screenshot", help="Also save the page screenshot here."),
) -> None:
    """Save a case's evidence bundle, byte for byte as anchored; check it with `reelledger verify evidence`."""
    wanted = [
        (f"/cases/{case_id}/evidence", output),
        (f"/cases/{case_id}/evidence/copy", copy),
        (f"/cases/{case_id}/evidence/screenshot", screenshot),
    ]
    with _client() as client:
        for path, target in wanted:
            if target is None:
                continue
            with client.stream("GET", path) as response:
                if response.status_code != 200:
                    response.read()
                    err.print(f"[red]refused ({response.status_code}):[/red] {response.text}")
                    raise typer.Exit(1)
                with open(target, "wb") as fh:
                    for chunk in response.iter_bytes():
                        fh.write(chunk)
            console.print(f"wrote {target}")


@cases.command("notice")
def notice(
    case_id: int,
    notice_format: str = typer.Option("cn-notice", "--format", help="cn-notice (通知-删除) or dmca"),
    send: bool = typer.Option(False, "--send", help="Send it to the configured takedown endpoint."),
) -> None:
    """Print a case's drafted notice, or send it."""
    if send:
        case = _call("POST", f"/cases/{case_id}/notices/{notice_format}/send")
    else:
        case = _call("GET", f"/cases/{case_id}")
    for n in case["notices"]:
        if n["format"] == notice_format:
            # the letter itself on stdout, as drafted (no wrapping: `> notice.txt` is the notice);
            # its subject and delivery on stderr
            err.print(Text(f"{n['subject']}  ({n['delivery']}, {counted(n['attempts'], 'attempt')})", style="bold"))
            sys.stdout.write(n["body"] if n["body"].endswith("\n") else n["body"] + "\n")
            sys.stdout.flush()
            return
    err.print(f"[red]reelledger:[/red] case {case_id} has no {notice_format} notice")
    raise typer.Exit(1)


def show_timeline(timeline: dict[str, Any]) -> None:
    table = listing("when", "step", "by", "detail", "anchored")
    table.columns[0].no_wrap = True  # a time whole, on one line
    table.columns[1].no_wrap = True  # a step's name is what a reader scans for, whole at 80 columns too
    for step in timeline["steps"]:
        anchored = "-"
        if step["anchored_hash"]:  # in full in --json; `reelledger verify evidence --case` checks it
            anchored = f"{step['anchored_hash'][:10]}… {step['anchor']['status']}"
        table.add_row(_minute(step["at"]), _words(step["kind"]), step["actor"], step["detail"] or "-", anchored)
    console.print(table)
    if timeline["restoration"]:
        console.print(Text(f"restoration: {_restoration(timeline['restoration'], timeline['restoration_due_at'])}"))


def _words(name: str) -> str:
    """A step's name as words: "restoration_due" is "restoration due", "re_found" "re-found"."""
    return name.replace("re_", "re-", 1).replace("_", " ") if name.startswith("re_") else name.replace("_", " ")


def _restoration(state: str, due: str | None) -> str:
    """Where a countered takedown's restoration stands, in words."""
    if state == "waiting":
        return f"waiting, due {moment(due)} unless a court action is marked filed first"
    if state == "due":
        return f"due since {moment(due)}"
    if state == "action_filed":
        return "stopped: a court action was marked filed"
    return _words(state)


@cases.command("timeline")
def timeline(case_id: int, as_json: bool = typer.Option(False, "--json")) -> None:
    """A case's steps: found, notice sent, acknowledged, removed, countered, action filed,
    restoration due, restored, re-found; each with its time, actor and on-chain anchor."""
    answer = _call("GET", f"/cases/{case_id}/timeline")
    console.print_json(json.dumps(answer)) if as_json else show_timeline(answer)


MARKS = ("acknowledged", "action-filed", "restored", "re-found")


@cases.command("mark")
def mark(
    case_id: int,
    step: str = typer.Argument(..., help="acknowledged, action-filed, restored or re-found"),
    at: str = typer.Option(None, "--at", help="When it happened (ISO 8601 with a zone); now when left out."),
    note: str = typer.Option(None, "--note", help="A short note (500 characters at most)."),
) -> None:
    """Mark a step of your case: a court action filed stops its restoration."""
    if step not in MARKS:
        err.print(f"[red]reelledger:[/red] the steps to mark are {', '.join(MARKS)}")
        raise typer.Exit(2)
    body = {k: v for k, v in {"at": at, "note": note}.items() if v is not None}
    show_timeline(_call("POST", f"/cases/{case_id}/{step}", json=body))
