"""The `reelledger` command.

Server-side commands (serve, compile, status, accounts) work on this machine's data; the
client commands (works, licences, splits, reports, rules, periods, distributions, match, cases,
crawl) talk to a running service over HTTP with REELLEDGER_URL and REELLEDGER_API_KEY;
`verify` asks the chain itself; `watermark embed` and `watermark detect --key-file` need
neither.
"""

from __future__ import annotations

import inspect
import sys

import typer

from ledger.cli import cases, client, crawl, disputes, jobs, matching, server, settlement, verify, watermarking
from ledger.json_limits import restore_recursion_limit

app = typer.Typer(
    no_args_is_help=True, add_completion=False, help="Copyright and revenue-share ledger for film and TV."
)
server.register(app)
app.add_typer(server.accounts, name="accounts")
app.add_typer(client.works, name="works")
app.add_typer(client.licences, name="licences")
app.add_typer(client.splits, name="splits")
app.add_typer(settlement.reports, name="reports")
app.add_typer(settlement.rules, name="rules")
app.add_typer(settlement.periods, name="periods")
app.add_typer(disputes.arbiter, name="arbiter")
app.add_typer(verify.app, name="verify")
app.add_typer(watermarking.distributions, name="distributions")
app.add_typer(watermarking.watermark, name="watermark")
app.add_typer(server.audit, name="audit")
app.command("match")(matching.match)
app.add_typer(cases.cases, name="cases")
app.add_typer(crawl.crawl, name="crawl")
app.add_typer(jobs.jobs, name="jobs")
app.add_typer(jobs.media, name="media")


def _paragraphs(text: str) -> str:
    """`text` with each paragraph on one line, for the help to rewrap to the terminal's width
    (a docstring's own line breaks would otherwise break the help's lines mid-sentence)."""
    return "\n\n".join(
        paragraph if paragraph.startswith("\b") else " ".join(paragraph.split())
        for paragraph in inspect.cleandoc(text).split("\n\n")
    )


def _rewrap_help(group: typer.Typer) -> None:
    for command in group.registered_commands:
        text = command.help or inspect.getdoc(command.callback)
        if text:
            command.help = _paragraphs(text)
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _rewrap_help(sub.typer_instance)


_rewrap_help(app)


def main(argv: list[str] | None = None) -> int:
    # The Ethereum libraries the commands import raise the recursion limit to 100,000 (see
    # ledger/json_limits.py): put it back first, so that a hostile file or answer ends in a
    # RecursionError, never in a crash.
    restore_recursion_limit()
    try:
        app(args=argv, prog_name="reelledger", standalone_mode=True)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
