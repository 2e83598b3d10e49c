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
from rich.cells import cell_len
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
        message = str(error.get("message", response.text))
        print_refusal(f"refused ({response.status_code} {error.get('code', '')}):", message)
        print_problems(error.get("details", {}), said=message)
        raise typer.Exit(1)
    return body


def print_refusal(headline: str, message: str) -> None:
    """A refusal on stderr: its headline in red, then the message (text, never markup) broken
    between words to the terminal's width, its lines after the first indented."""
    first, *more = wrapped(f"{headline} {message}", max(err.width - 2, 40))
    line = Text(first, no_wrap=True, overflow="ignore")
    line.stylize("red", 0, len(headline))
    err.print(line)
    for text in more:
        err.print(Text(f"  {text}", no_wrap=True, overflow="ignore"))


def print_problems(details: dict[str, Any], said: str = "") -> None:
    """Each problem on a line of its own (as text, never markup), then how many there are in all;
    not the one problem a refusal's message has `said` already."""
    from ledger.reports.problems import problem_line

    listed = details.get("problems", [])
    if len(listed) == 1 and said and listed[0].get("problem") == said and not listed[0].get("row"):
        listed = []
    for problem in listed:
        err.print(Text(f"  {problem_line(problem)}"))
    total = details.get("total", len(listed))
    if total > len(listed):
        err.print(
            f"  ... {total - len(listed)} more ({counted(total, 'problem')} in all; "
            f"the first {len(listed)} {'is' if len(listed) == 1 else 'are'} listed)"
        )


def _when(text: str) -> int:
    """Unix seconds from an ISO date or datetime (UTC when no zone is given), or from seconds."""
    if text.isdigit():
        return int(text)
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def counted(n: int | str, noun: str, plural: str | None = None) -> str:
    """ "1 new case", "2 new cases"; "1 medium", "2 media" with `plural`."""
    one = str(n) in ("1", "1.0")
    return f"{n} {noun if one else plural or noun + 's'}"


def moment(value: str | float | None) -> str:
    """A time as people read it, to the minute and in UTC: "2026-12-21 12:40 UTC", from an ISO
    8601 text (as the API sends times) or from unix seconds (as the chain holds them)."""
    if value is None or value == "":
        return "-"
    if isinstance(value, str) and not value.isdigit():
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
        at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    else:
        at = datetime.fromtimestamp(int(value), UTC)
    return at.strftime("%Y-%m-%d %H:%M UTC")


def wrapped(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` cells, broken between words only: an id, a hash or a
    URL longer than the width is a line of its own, whole."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            if line and cell_len(line) + 1 + cell_len(word) > width:
                lines.append(line)
                line = word
            else:
                line = f"{line} {word}" if line else word
        lines.append(line)
    return lines


class Fitted:
    """A headline and a value to be copied ("API key ...: rlk_..."): on one line when the two fit
    the terminal, else the value alone on the next line, indented, whole."""

    def __init__(self, headline: str | Text, value: str | Text) -> None:
        self.headline = Text.from_markup(headline) if isinstance(headline, str) else headline
        self.value = Text(value) if isinstance(value, str) else value

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.headline.cell_len + 1 + self.value.cell_len <= options.max_width:
            yield Text.assemble(self.headline, " ", self.value, no_wrap=True, overflow="ignore")
        else:
            yield Text.assemble(self.headline, no_wrap=True, overflow="ignore")
            yield Text.assemble("  ", self.value, no_wrap=True, overflow="ignore")


def hanging(text: str | Text, first: str = "  ", rest: str = "    ") -> None:
    """A line of prose broken between words to the terminal's width, its later lines indented
    under the first (text is markup when a str)."""
    text = Text.from_markup(text) if isinstance(text, str) else text
    width = max(console.width - len(rest), 20)
    for i, line in enumerate(text.wrap(console, width, overflow="fold")):
        line.rstrip()
        console.print(Text.assemble(first if i == 0 else rest, line, no_wrap=True, overflow="ignore"))


def said(headline: str | Text, *rows: tuple[str, str]) -> None:
    """A result: its headline (markup allowed), then its facts a label and value a line, indented
    under it, ids and hashes whole."""
    console.print(headline)
    facts = Facts(indent=2)
    for label, value in rows:
        facts.add_row(label, value)
    if facts.rows:
        console.print(facts)


class PlainTable(Table):
    """Cells are text, never markup: titles, names and URLs come from users and from hostile
    sites, and "[/b]" in a URL would otherwise stop the command (or "[link=...]" spoof it).
    No word of a cell is ever broken: ids, addresses and URLs are there to be copied, so a column
    is at least as wide as its longest word. A table too wide for the terminal with its box is
    printed without it; too wide even then, each row is printed as facts, a label and value a
    line, rows apart by a blank line."""

    def add_row(self, *cells: RenderableType | None, **kwargs: Any) -> None:
        super().add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells), **kwargs)

    def _narrowest(self) -> int:
        widths = sum(column.min_width or 0 for column in self.columns)
        padding = sum(self._get_padding_width(i) for i in range(len(self.columns)))
        return widths + padding + self._extra_width

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        unbounded = options.update_width(sys.maxsize)
        for column in self.columns:
            cells = [column.header, *column.cells] if self.show_header else list(column.cells)
            measured = [Measurement.get(console, unbounded, cell) for cell in cells]
            # a column that never wraps (a time, a step's name) is as wide as its widest cell
            longest = max((m.maximum if column.no_wrap else m.minimum for m in measured), default=0)
            column.min_width = max(column.min_width or 0, longest)
        if self._narrowest() > options.max_width and self.box is not None:
            self.box, self.pad_edge = None, False
            self.header_style = "bold"
        if self._narrowest() > options.max_width:
            yield from self._as_facts(console, options)
            return
        yield from super().__rich_console__(console, options)

    def _as_facts(self, console: Console, options: ConsoleOptions) -> RenderResult:
        headers = [str(column.header) for column in self.columns]
        for row in range(self.row_count):
            if row:
                yield Text("")
            facts = Facts()
            for header, column in zip(headers, self.columns, strict=True):
                cell = list(column.cells)[row]
                facts.add_row(header, cell.plain if isinstance(cell, Text) else str(cell))
            yield from facts.__rich_console__(console, options)


class Facts:
    """Label and value, a pair a line: the labels padded to one width, the value after them with
    nothing after it, so a double-click or a copy takes an id, a hash or an address entire. A
    value too long for the terminal is broken between words, its lines kept to the value's
    column; one with a word (an id, a URL) too long for that column starts on the next line,
    indented, where a 66-character hash fits 80 columns. Values are text, never markup."""

    def __init__(self, indent: int = 1, style: str = "bold") -> None:
        self.rows: list[tuple[str, str]] = []
        self.indent = indent
        self.style = style

    def add_row(self, label: str, value: str) -> None:
        self.rows.append((label, value))

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        width = max((cell_len(label) for label, _ in self.rows), default=0)
        column = self.indent + width + 2
        limit = options.max_width

        def line(text: str, label: str = "") -> Text:
            out = Text(" " * self.indent, no_wrap=True, overflow="ignore")
            if label:
                out.append(label.ljust(width) if text else label, style=self.style)
            if text:
                out.append(("  " if label else " " * (width + 2)) + text)
            return out

        for label, value in self.rows:
            lines = value.split("\n")
            if all(cell_len(text) <= limit - column for text in lines):
                yield line(lines[0], label or " " * width)
                yield from (line(text) for text in lines[1:])
                continue
            words = [word for text in lines for word in text.split(" ")]
            if max(cell_len(word) for word in words) <= limit - column:
                first, *more = wrapped(value, limit - column)
                yield line(first, label or " " * width)
                yield from (line(text) for text in more)
                continue
            if label:
                yield line("", label)
            for text in wrapped(value, limit - self.indent - 2):
                yield Text(" " * (self.indent + 2) + text, no_wrap=True, overflow="ignore")


def facts_table() -> Facts:
    """The facts of one thing (a work, a period, a case), a label and its value a line."""
    return Facts()


def listing(*headers: str) -> Table:
    """A table of things, one a row: prose folds within its column, ids and URLs never break."""
    table = PlainTable()
    for header in headers:
        table.add_column(header, overflow="fold")
    return table


def work_titles(work_ids: set[str]) -> dict[str, str]:
    """The titles of these works, by id, as far as your key may read them (another rights
    holder's work is named by its id only)."""
    titles: dict[str, str] = {}
    try:
        with _client() as client:
            for work_id in sorted(work_ids):
                answer = client.get(f"/works/{work_id}")
                if answer.status_code == 200:
                    titles[work_id] = answer.json()["title"]
    except (httpx.HTTPError, ValueError, KeyError):
        pass
    return titles


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
        ("metadata", work["metadata_hash"]),
    ]
    if work.get("near_duplicate_of"):
        rows.append(("near duplicate", _near_duplicate(work["near_duplicate_of"], work["near_duplicate_distance"])))
    if work.get("on_chain"):
        rows.append(("chain owner", work["on_chain"]["owner"]))
    for row in rows:
        table.add_row(row[0], row[1])
    console.print(table)
    for licence in work.get("licences", []):
        console.print(
            Text(
                f"  licence {licence['id']} -> account {licence['licensee_account_id']} "
                f"{','.join(licence['territories'][:8])} {','.join(licence['rights'])} [{licence['status']}]"
            )
        )
    for split in work.get("splits", []):
        print_split(split, indent="  ")


def print_split(split: dict[str, Any], indent: str = "") -> None:
    """A split version: when it takes effect, then each payee's share, a payee a line."""
    console.print(f"{indent}split v{split['version']} {_effective(split['effective_from'])}:")
    for payee in split["payees"]:
        console.print(f"{indent}  {percent(payee['bps']):>7}  {payee['address']}")


def _effective(seconds: int) -> str:
    return f"from {moment(seconds)}" if seconds else "from the start"


def percent(bps: int) -> str:
    """Basis points as a percentage: 7000 is "70 %", 3333 "33.33 %"."""
    from decimal import Decimal

    return f"{Decimal(bps) / 100:f} %"


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
    said(
        f"derivative: {result['chain']['status']}",
        ("work id", result["work_id"]),
        ("tx", result["chain"].get("tx_hash") or "-"),
    )
    titles = _titles(result["work_id"])
    for edge in result["parents"]:
        parent_id: str = edge["parent_work_id"]
        console.print(
            Text(
                f"  {edge['kind']} of {titles.get(parent_id, parent_id)} under licence {edge['licence_id']}: "
                + upstream_terms(edge["share_bps"], edge["min_per_valid_play_micro"], edge.get("currency"))
            )
        )
        if parent_id in titles:
            console.print(f"    {parent_id}")


def _titles(work_id: str) -> dict[str, str]:
    """The titles of a work's family, by work id, as far as the service shows them to you."""
    try:
        with _client() as client:
            answer = client.get(f"/works/{work_id}/family")
        family = answer.json() if answer.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return {}
    edges = [*family.get("parents", []), *family.get("children", [])]
    return {w["work_id"]: w["title"] for edge in edges for w in (edge["parent"], edge["derivative"])}


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
    said(
        f"licence {licence['id']} (chain id {licence['chain_licence_id']}): {licence['status']}",
        ("work id", licence["work_id"]),
        ("tx", licence["chain"].get("tx_hash") or "-"),
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
    effective_from: str = typer.Option(
        "0",
        help="ISO date or unix seconds; 0: from the start for the work's first version, when mined for a later one.",
    ),
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
    said(f"split version {result['version']}: {result['chain']['status']}", ("work id", result["work_id"]))


@splits.command("list")
def list_splits(work_id: str) -> None:
    """A work's split versions, each payee's share as a percentage."""
    for version in _call("GET", f"/works/{work_id}/splits"):
        print_split(version)
