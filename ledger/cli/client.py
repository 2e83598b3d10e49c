"""Commands that talk to a running ReelLedger service over HTTP."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import typer
from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from ledger.choices import WorkKind
from ledger.cli.files import ProgressReader, progress, sha256_file

console = Console(soft_wrap=True)  # lines whole (ids, keys, hashes are copied from them); the terminal wraps
err = Console(stderr=True, soft_wrap=True)
works = typer.Typer(no_args_is_help=True, help="Register and read works.")
licences = typer.Typer(no_args_is_help=True, help="Grant, sub-license and revoke licences.")
splits = typer.Typer(no_args_is_help=True, help="Set and list revenue split versions.")


def service_url() -> str:
    return os.environ.get("REELLEDGER_URL", "http://127.0.0.1:8000")


def without_key(text: str) -> str:
    """`text` with the API key, should an error quote it (httpx's may quote the header), withheld."""
    key = os.environ.get("REELLEDGER_API_KEY", "")
    return text.replace(key, "<REELLEDGER_API_KEY>") if len(key.strip()) >= 4 else text


def unanswered(exc: Exception) -> str:
    """Which service did not answer, and how to point at another (a service started with
    REELLEDGER_PORT set is not at the default URL)."""
    return without_key(
        f"the service at {service_url()} does not answer ({exc}); set REELLEDGER_URL if it runs elsewhere"
    )


def key_problem(key: str) -> str | None:
    """What makes `key` unfit for an Authorization header, in words that never quote it."""
    if key != key.strip():
        return "starts or ends with whitespace"
    bad = next((i for i, c in enumerate(key) if not "!" <= c <= "~"), None)
    if bad is not None:
        return f"holds a space, a control or a non-ASCII character (character {bad + 1} of {len(key)})"
    return None


def api_key(whose: str = "your account's API key") -> str:
    """REELLEDGER_API_KEY, once it is there and well-formed; a malformed key is refused by
    saying what is wrong with it, never by printing it."""
    key = os.environ.get("REELLEDGER_API_KEY")
    if not key:
        err.print(f"[red]reelledger:[/red] set REELLEDGER_API_KEY to {whose}")
        raise typer.Exit(2)
    problem = key_problem(key)
    if problem:
        err.print(f"[red]reelledger:[/red] REELLEDGER_API_KEY {problem}: set it to the key exactly as it was printed")
        raise typer.Exit(2)
    return key


def _client() -> httpx.Client:
    url = service_url()
    key = api_key()
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=httpx.Timeout(60, read=600))


def _call(method: str, path: str, **kwargs: Any) -> Any:
    """The service's JSON answer (an object or a list, shaped by the route's response model)."""
    try:
        with _client() as client:
            response = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        err.print(f"[red]reelledger:[/red] {unanswered(exc)}")
        raise typer.Exit(1) from None
    body = response.json() if response.headers.get("content-type", "").startswith("application/json") else {}
    if response.status_code >= 400:
        error = body.get("error", {}) if isinstance(body, dict) else {}
        err.print(
            f"[red]refused ({response.status_code} {error.get('code', '')}):[/red] "
            f"{error.get('message', response.text)}"
        )
        print_problems(error.get("details", {}))
        raise typer.Exit(1)
    return body


def print_problems(details: dict[str, Any]) -> None:
    """Each problem on a line of its own (as text, never markup), then how many there are in all."""
    from ledger.reports.problems import problem_line

    listed = details.get("problems", [])
    for problem in listed:
        err.print(Text(f"  {problem_line(problem)}"))
    total = details.get("total", len(listed))
    if total > len(listed):
        err.print(f"  ... {total - len(listed)} more ({total} problems in all; the first {len(listed)} are listed)")


def _when(text: str) -> int:
    """Unix seconds from an ISO date or datetime (UTC when no zone is given), or from seconds."""
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def counted(n: int, noun: str) -> str:
    """ "1 new case", "2 new cases"."""
    return f"{n} {noun}" + ("" if n == 1 else "s")


class PlainTable(Table):
    """Cells are text, never markup: titles, names and URLs come from users and from hostile
    sites, and "[/b]" in a URL would otherwise stop the command (or "[link=...]" spoof it).
    No word of a cell is ever broken: ids, addresses and URLs are there to be copied, so a column
    is at least as wide as its longest word, and a table that cannot fit is printed wider than
    the terminal (which wraps the line, and copies it as one) rather than folded."""

    def add_row(self, *cells: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells), **kwargs)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        unbounded = options.update_width(sys.maxsize)
        for column in self.columns:
            cells = [column.header, *column.cells] if self.show_header else list(column.cells)
            longest_word = max((Measurement.get(console, unbounded, cell).minimum for cell in cells), default=0)
            column.min_width = max(column.min_width or 0, longest_word)
        yield from super().__rich_console__(console, options)


class Facts:
    """Label and value, a pair a line: the labels padded to one width, the value after them
    whole and with nothing after it, so a double-click or a copy takes an id, a hash or an
    address entire (a line longer than the terminal is wrapped by the terminal, which copies it
    as one line). Values are text, never markup."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str]] = []

    def add_row(self, label: str, value: str) -> None:
        self.rows.append((label, value))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max((len(label) for label, _ in self.rows), default=0)
        for label, value in self.rows:
            first, *more = value.split("\n")
            line = Text(" ", no_wrap=True, overflow="ignore")
            line.append(label.ljust(width), style="bold")
            line.append(f"  {first}")
            yield line
            for continued in more:  # a value of several lines keeps to the value's column
                yield Text(" " * (width + 3) + continued, no_wrap=True, overflow="ignore")


def facts_table() -> Facts:
    """The facts of one thing (a work, a period, a case), a label and its value a line."""
    return Facts()


def listing(*headers: str) -> Table:
    """A table of things, one a row: prose folds within its column, ids and URLs never break."""
    table = PlainTable()
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def _near_duplicate(work_id: str, distance: int) -> str:
    """What a near duplicate means: the other work's title when it is yours to read (another
    rights holder's work is named by its id only)."""
    try:
        with _client() as client:
            other = client.get(f"/works/{work_id}")
        title = f' ("{other.json()["title"]}")' if other.status_code == 200 else ""
    except httpx.HTTPError:
        title = ""
    return (
        f"its fingerprint matches work {work_id}{title} at a distance of {distance} bits of 64: "
        "probably the same footage; registered anyway"
    )


def _show_work(work: dict[str, Any]) -> None:
    table = facts_table()
    chain = work["chain"]
    rows = [
        ("work id", work["work_id"]),
        ("title", work["title"]),
        ("kind", work["kind"]),
        ("status", f"{chain['status']}" + (f" ({chain['error']})" if chain.get("error") else "")),
        ("transaction", chain.get("tx_hash") or "-"),
        ("block", str(chain.get("block_number") or "-")),
        ("fingerprint", f"{work['fingerprint']['kind'] or 'none'} {work['fingerprint']['digest']}"),
        ("metadata hash", work["metadata_hash"]),
    ]
    if work.get("near_duplicate_of"):
        rows.append(("near duplicate", _near_duplicate(work["near_duplicate_of"], work["near_duplicate_distance"])))
    if work.get("on_chain"):
        rows.append(("owner on chain", work["on_chain"]["owner"]))
    for row in rows:
        table.add_row(row[0], row[1])
    console.print(table)
    for licence in work.get("licences", []):
        console.print(
            f"  licence {licence['id']} -> account {licence['licensee_account_id']} "
            f"{','.join(licence['territories'][:8])} {','.join(licence['rights'])} [{licence['status']}]"
        )
    for split in work.get("splits", []):
        shares = ", ".join(f"{p['address']}={p['bps']}" for p in split["payees"])
        console.print(f"  split v{split['version']} from {split['effective_from']}: {shares}")


def _check_registrar() -> None:
    """Refused before a master is hashed or uploaded (minutes for a feature film): only a
    rights holder's key registers works."""
    me = _call("GET", "/accounts/me")
    if me["role"] != "rights_holder":
        reason = (
            f" only a rights holder registers works; REELLEDGER_API_KEY is the key of {me['name']!r}, "
            f"a {me['role']}: use a rights holder's key"
        )
        err.print(Text.assemble(("refused:", "red"), reason))  # the name is the user's text, not markup
        raise typer.Exit(1)


@works.command("register")
def register(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    title: str = typer.Option(...),
    kind: WorkKind = typer.Option(WorkKind.film),
    parent: str = typer.Option(None, help="Work id of the series, for an episode."),
    party: list[str] = typer.Option([], help="NAME:ROLE, repeatable (e.g. 'Studio A:producer')."),
    hash_only: bool = typer.Option(
        False, help="Send only the SHA-256, fingerprint and frame hashes; the file stays here."
    ),
    idempotency_key: str = typer.Option(None, help="Retrying with the same key registers nothing twice."),
    wait: bool = typer.Option(True, help="Follow the service's hashing job until the work is registered."),
) -> None:
    """Register FILE: uploaded and hashed by the service (a job, followed with a progress bar),
    or hashed here with --hash-only."""
    parties = []
    for item in party:
        name, _, role = item.rpartition(":")
        if not name or not role:
            err.print(f"[red]reelledger:[/red] --party {item!r} is not NAME:ROLE")
            raise typer.Exit(2)
        parties.append({"name": name, "role": role})
    meta: dict[str, Any] = {"title": title, "kind": kind.value, "parent": parent, "parties": parties}
    headers = {"Idempotency-Key": idempotency_key} if idempotency_key else {}
    _check_registrar()
    if hash_only:
        from watermark.fingerprint import fingerprint_file

        digest = sha256_file(file)
        fingerprint = fingerprint_file(file)
        body = {**meta, "sha256": digest.hex()}
        if fingerprint:
            from ledger.cli.matching import hash_with_progress

            body["fingerprint"] = {"kind": fingerprint.kind, "hashes": fingerprint.hex_hashes()}
            body["frames"] = hash_with_progress(file, registered=True).to_json()
        work = _call("POST", "/works", json=body, headers=headers)
    else:
        with progress() as bar:
            reader = ProgressReader(file, bar, "uploading")
            try:
                job = _call(
                    "POST",
                    "/works/jobs",
                    files={"file": (file.name, reader)},
                    data={"metadata": json.dumps(meta)},
                    headers=headers,
                )
            finally:
                reader.close()
        if not wait:
            console.print(job["id"])  # alone on stdout, for scripts; the hint on stderr
            err.print(f"hashing; follow it: reelledger jobs show {job['id']} --wait")
            return
        from ledger.cli.jobs import follow, refused

        job = follow(job)
        if job["status"] == "failed":
            refused(job)
        work = _call("GET", f"/works/{job['result']['work_id']}")
    _show_work(work)


@works.command("show")
def show(work_id: str) -> None:
    """A work with its on-chain state, licences and split versions."""
    _show_work(_call("GET", f"/works/{work_id}"))


@works.command("derive")
def derive(
    work_id: str,
    parent: list[str] = typer.Option(
        ..., help="LICENCE_ID:KIND, repeatable (1 to 4): a derive licence you hold on the parent, and the kind."
    ),
) -> None:
    """Register your work as a derivative (二创, dub, remake...) of the works your derive licences cover."""
    parents = []
    for item in parent:
        licence, _, kind = item.partition(":")
        if not licence.isdigit() or not kind:
            err.print(f"[red]reelledger:[/red] --parent {item!r} is not LICENCE_ID:KIND")
            raise typer.Exit(2)
        parents.append({"licence_id": int(licence), "kind": kind})
    result = _call("POST", f"/works/{work_id}/parents", json={"parents": parents})
    console.print(f"derivative {result['work_id']}: {result['chain']['status']}, tx {result['chain'].get('tx_hash')}")
    for edge in result["parents"]:
        console.print(
            f"  {edge['kind']} of {edge['parent_work_id']} under licence {edge['licence_id']}: "
            + upstream_terms(edge["share_bps"], edge["min_per_valid_play_micro"], edge.get("currency"))
        )


@works.command("family")
def family(
    work_id: str,
    as_json: bool = typer.Option(
        False, "--json", help="The service's answer as JSON (minimums in micro-units of the minor unit)."
    ),
) -> None:
    """A work's derivative tree: the works it derives from up to their roots and the works derived
    from it, each edge with its kind, licence and upstream terms."""
    body = _call("GET", f"/works/{work_id}/family")
    if as_json:
        print(json.dumps(body, indent=1))
        return
    console.print(Text(body["work"]["title"]))
    console.print(body["work"]["work_id"])
    for heading, edges, up in (
        ("derives from (pays upstream to)", body["parents"], True),
        ("derived into (earns upstream from)", body["children"], False),
    ):
        console.print(heading)
        lines = _family_lines(edges, body["work"]["work_id"], up=up, depth=1)
        for line in lines or ["  none"]:
            console.print(Text(line))
    if body["truncated"]:
        console.print("(the family is larger than shown)")


def _family_lines(edges: list[dict[str, Any]], work_id: str, *, up: bool, depth: int) -> list[str]:
    """The edges reached from `work_id` as a tree, two lines each (the edge, then the other work's
    id alone), indented by level: at the registry's depth bound of 3 an id still fits 80 columns."""
    near, far = ("derivative", "parent") if up else ("parent", "derivative")
    lines = []
    for edge in sorted((e for e in edges if e[near]["work_id"] == work_id), key=lambda e: e["position"]):
        other = edge[far]
        indent = "  " * depth
        lines.append(f"{indent}{edge['kind']} {'of' if up else 'by'} {other['title']}: {_edge_terms(edge)}")
        lines.append(f"{indent}  {other['work_id']}")
        lines += _family_lines(edges, other["work_id"], up=up, depth=depth + 1)
    return lines


def upstream_terms(share_bps: int, minimum_micro: int, currency: str | None = None) -> str:
    """A parent's terms as people read them: "30 % upstream, at least 0.0002 CNY per valid play".
    A licence's minimum is in millionths of a minor unit of whatever currency the derivative will
    earn in; shown in major units once that currency is known, and said to be micro-units until then."""
    from decimal import Decimal

    from ledger.currencies import major_micro

    terms = f"{Decimal(share_bps) / 100:f} % upstream"
    if minimum_micro:
        each = major_micro(minimum_micro, currency) if currency else f"{minimum_micro} micro-units of the minor unit"
        terms += f", at least {each} per valid play"
    return terms


def _edge_terms(edge: dict[str, Any]) -> str:
    terms = upstream_terms(edge["share_bps"], edge["min_per_valid_play_micro"], edge["currency"])
    status = edge["chain"]["status"]
    return f"{terms}, licence {edge['licence_id']}" + ("" if status == "confirmed" else f" ({status})")


@works.command("list")
def list_works(
    kind: WorkKind = typer.Option(None),
    title: str = typer.Option(None),
    offset: int = typer.Option(0),
    limit: int = typer.Option(50),
) -> None:
    params = {
        k: v
        for k, v in {"kind": kind.value if kind else None, "title": title, "offset": offset, "limit": limit}.items()
        if v is not None
    }
    page = _call("GET", "/works", params=params)
    table = listing("work id", "title", "kind", "status")
    for work in page["items"]:
        table.add_row(work["work_id"], work["title"], work["kind"], work["chain"]["status"])
    console.print(table)
    console.print(f"{len(page['items'])} of {page['total']}")


def _terms(
    licensee: int, territory: list[str], right: list[str], start: str, end: str, exclusive: bool, sublicensable: bool
) -> dict[str, Any]:
    return {
        "licensee_id": licensee,
        "territories": territory,
        "rights": right,
        "start": _when(start),
        "end": _when(end),
        "exclusive": exclusive,
        "sublicensable": sublicensable,
    }


def _show_licence(licence: dict[str, Any]) -> None:
    console.print(
        f"licence {licence['id']} (chain id {licence['chain_licence_id']}) on {licence['work_id']}: "
        f"{licence['status']}, tx {licence['chain'].get('tx_hash')}"
    )
    upstream = licence.get("derivative")
    if upstream:
        terms = upstream_terms(upstream["share_bps"], upstream["min_per_valid_play_micro"], upstream.get("currency"))
        console.print(f"  derive {','.join(upstream['kinds'])}: {terms}")


def _upstream(derive: str | None, bps: int | None, min_micro: int) -> dict[str, Any] | None:
    """The licence's upstream terms from --derive, --upstream-bps and --upstream-min-micro."""
    if derive is None:
        if bps is not None or min_micro:
            err.print("[red]reelledger:[/red] --upstream-bps and --upstream-min-micro go with --derive KIND[,KIND]")
            raise typer.Exit(2)
        return None
    if bps is None:
        err.print("[red]reelledger:[/red] --derive needs --upstream-bps (the parent's share, 0 to 10000)")
        raise typer.Exit(2)
    kinds = [kind.strip() for kind in derive.split(",") if kind.strip()]
    return {"kinds": kinds, "share_bps": bps, "min_per_valid_play_micro": min_micro}


@licences.command("grant")
def grant(
    work_id: str,
    licensee: int = typer.Option(..., help="The licensee's account id."),
    territory: list[str] = typer.Option(..., help="ISO 3166-1 alpha-2 code, repeatable; WW for all."),
    right: list[str] = typer.Option(["streaming"], help="streaming, download, broadcast, theatrical; repeatable."),
    start: str = typer.Option(..., help="ISO date or unix seconds."),
    end: str = typer.Option(..., help="ISO date or unix seconds (exclusive)."),
    exclusive: bool = typer.Option(False),
    sublicensable: bool = typer.Option(False),
    derive: str = typer.Option(
        None,
        help="KIND[,KIND]: allow derivatives of these kinds (re_edit, dub, subtitle, remake, trailer, "
        "compilation); adds the derive right.",
    ),
    upstream_bps: int = typer.Option(None, help="With --derive: the work's share of each derivative's earnings."),
    upstream_min_micro: int = typer.Option(
        0, help="With --derive: minimum owed per valid play, millionths of the minor unit."
    ),
) -> None:
    """Grant a licence on your work (授权); with --derive, to make derivatives that pay upstream."""
    body = _terms(licensee, territory, right, start, end, exclusive, sublicensable)
    upstream = _upstream(derive, upstream_bps, upstream_min_micro)
    if upstream is not None:
        body["rights"] = [*right, "derive"] if "derive" not in right else right
        body["derivative"] = upstream
    _show_licence(_call("POST", f"/works/{work_id}/licences", json=body))


@licences.command("sublicense")
def sublicense(
    licence_id: int,
    licensee: int = typer.Option(...),
    territory: list[str] = typer.Option(...),
    right: list[str] = typer.Option(["streaming"]),
    start: str = typer.Option(...),
    end: str = typer.Option(...),
    exclusive: bool = typer.Option(False),
    sublicensable: bool = typer.Option(False),
) -> None:
    """Sub-license a licence you hold (转授), within its scope."""
    _show_licence(
        _call(
            "POST",
            f"/licences/{licence_id}/sublicences",
            json=_terms(licensee, territory, right, start, end, exclusive, sublicensable),
        )
    )


@licences.command("revoke")
def revoke(licence_id: int) -> None:
    """Revoke a licence and with it every sub-licence under it."""
    _show_licence(_call("POST", f"/licences/{licence_id}/revoke"))


@splits.command("set")
def set_split(
    work_id: str,
    payee: list[str] = typer.Option(..., help="ADDRESS:BPS, repeatable; basis points sum to 10000."),
    effective_from: str = typer.Option("0", help="ISO date or unix seconds; 0 means when mined."),
) -> None:
    """Add a new split version (分账 rule) for your work."""
    payees = []
    for item in payee:
        address, _, bps = item.partition(":")
        if not bps.isdigit():
            err.print(f"[red]reelledger:[/red] --payee {item!r} is not ADDRESS:BPS")
            raise typer.Exit(2)
        payees.append({"address": address, "bps": int(bps)})
    result = _call("POST", f"/works/{work_id}/splits", json={"payees": payees, "effective_from": _when(effective_from)})
    console.print(f"split version {result['version']} of {result['work_id']}: {result['chain']['status']}")


@splits.command("list")
def list_splits(work_id: str) -> None:
    for version in _call("GET", f"/works/{work_id}/splits"):
        shares = ", ".join(f"{p['address']}={p['bps']}" for p in version["payees"])
        console.print(f"v{version['version']} from {version['effective_from']}: {shares}")
