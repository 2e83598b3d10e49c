"""Commands that run the service or work on its own data directory."""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console

from ledger.choices import Role

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from ledger.config import Settings

console = Console(soft_wrap=True)  # lines whole (ids, keys, hashes are copied from them); the terminal wraps
err = Console(stderr=True, soft_wrap=True)
accounts = typer.Typer(no_args_is_help=True, help="Manage accounts on this machine's database.")


def _fail(message: str) -> NoReturn:
    err.print(f"[red]reelledger:[/red] {message}")
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command()(serve)
    app.command(name="compile")(compile_contracts)
    app.command()(status)


def serve(
    host: str = typer.Option(None, help="Default: REELLEDGER_HOST or 127.0.0.1."),
    port: int = typer.Option(None, help="Default: REELLEDGER_PORT or 8000."),
) -> None:
    """Start the chain (managed Anvil unless REELLEDGER_RPC_URL is set), deploy if needed, serve the API."""
    import uvicorn

    from api.main import create_app
    from ledger import logs
    from ledger.config import Settings, redact_url

    given: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**given)
    logs.configure(settings.log_format)
    chain = (
        f"managed Anvil on port {settings.anvil_port}"
        if settings.managed_chain
        else f"chain at {redact_url(settings.rpc_url)}"
    )
    banner = f"data in {settings.data_dir.resolve()}, {chain}, API on http://{settings.host}:{settings.port}"
    if settings.log_format == "json":  # then every line the process writes is a JSON object
        logging.getLogger("reelledger").info(banner)
    else:
        console.print(f"reelledger: {banner}")
    # log_config=None: uvicorn's lines (access lines too) go through the handler configured above
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info", log_config=None)


def compile_contracts(check: bool = typer.Option(False, help="Only check that the artifacts are up to date.")) -> None:
    """Compile contracts/src into the committed artifacts under ledger/artifacts."""
    from ledger.chain import artifacts

    compiled = artifacts.compile_contracts()
    if check:
        stale = [
            name
            for name, artifact in compiled.items()
            if not (artifacts.ARTIFACTS_DIR / f"{name}.json").exists()
            or (artifacts.ARTIFACTS_DIR / f"{name}.json").read_text() != artifact.to_json()
        ]
        if stale:
            _fail(f"artifacts differ from a fresh compile: {', '.join(sorted(stale))}; run `reelledger compile`")
        console.print(f"artifacts match a fresh compile ({len(compiled)} contracts)")
        return
    for path in artifacts.write_artifacts(compiled):
        console.print(f"wrote {path}")


def status() -> None:
    """Start the chain once, print the health report, and stop."""
    from ledger.chain.errors import ChainError
    from ledger.chain.node import NodeError
    from ledger.service import Ledger

    ledger = Ledger()
    try:
        ledger.start()
        report = asdict(ledger.health())
        funding = report["funding"]  # wei as decimal strings, as GET /health sends them
        funding.update({k: None if funding[k] is None else str(funding[k]) for k in ("balance", "warn_below")})
        console.print_json(json.dumps(report))
    except (ChainError, NodeError) as exc:
        _fail(str(exc))
    finally:
        ledger.stop()


@accounts.command("create")
def create_account(
    role: Role = typer.Option(..., help="rights_holder, platform, crawler, auditor, admin or arbiter"),
    name: str = typer.Option(None, help="Defaults to the role."),
    address: str = typer.Option(None, help="The account's own EVM address; omit for a custodial key."),
) -> None:
    """Create an account and print its API key, once. Works before any API key exists."""
    from ledger.accounts import create_account as create
    from ledger.config import Settings
    from ledger.db import migrate
    from ledger.errors import LedgerError
    from ledger.keys import KeyStore, load_master_key

    settings = Settings()
    fresh = not settings.data_dir.exists()
    try:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"cannot make the data directory {settings.data_dir.resolve()} ({exc.strerror}): {DATABASE_HINT}")
    engine = open_database(settings, must_exist=False)
    migrate(engine)
    keys = KeyStore(engine, load_master_key(settings.data_dir, settings.master_key))
    try:
        created = create(engine, keys, name=name or role.value, role=role, address=address)
    except LedgerError as exc:
        _fail(exc.message)
    account = created.account
    from rich.text import Text

    from ledger.cli.client import Fitted

    made = Text(f"created {account.role.value} account {account.id} ({account.name}), address")
    console.print(Fitted(made, account.address))  # the name is the user's text, not markup
    console.print(Fitted("API key (shown once, store it now):", Text(created.api_key, style="bold")))
    # The account is in this machine's database, which the service must share: a key made in
    # another data directory is "not valid" to it.
    err.print(
        f"in {database_name(settings)} (data dir {settings.data_dir.resolve()})"
        + ("; that directory was new: the service must run with the same REELLEDGER_DATA_DIR" if fresh else "")
    )


DATABASE_HINT = "set REELLEDGER_DATA_DIR to the service's data directory (or REELLEDGER_DATABASE_URL to its database)"


def database_name(settings: Settings) -> str:
    """The database named without credentials (a password may sit in the URL's query)."""
    from sqlalchemy.engine import make_url

    url = make_url(settings.resolved_database_url)
    return f"{url.get_backend_name()} database {url.database}" + (f" on {url.host}" if url.host else "")


def open_database(settings: Settings, *, must_exist: bool) -> Engine:
    """The service's database, or one line saying where it was looked for and which variable
    points elsewhere: a command run from another directory must work on the service's data,
    never on a new database of its own (nor end in a traceback)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import SQLAlchemyError

    from ledger.db import make_engine

    url = make_url(settings.resolved_database_url)
    if must_exist and url.get_backend_name() == "sqlite" and not Path(url.database or "").is_file():
        _fail(f"no database at {url.database}: {DATABASE_HINT}")
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        _fail(f"cannot open the {database_name(settings)} ({first_line(exc)}): {DATABASE_HINT}")
    return engine


def first_line(exc: BaseException) -> str:
    """What the driver said, without SQLAlchemy's statement and background link."""
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]


audit = typer.Typer(no_args_is_help=True, help="Recompute committed periods from this machine's database.")


@audit.command("period")
def audit_period(
    period_id: str,
    rpc_url: str = typer.Option(None, help="The chain; default REELLEDGER_RPC_URL or the managed node's port."),
) -> None:
    """Recompute a committed period from the stored signed reports and rule versions, and
    compare the root with the one the chain holds, and the derivative terms it used with the
    chain's. Exit 0 when identical."""
    from sqlalchemy.exc import SQLAlchemyError

    from ledger.chain.errors import ChainError
    from ledger.chain.verify import derivatives_for_audit, registry_for_audit
    from ledger.config import Settings
    from ledger.errors import NotFound
    from ledger.settlement.audit import audit_period as recompute

    settings = Settings()
    engine = open_database(settings, must_exist=True)
    url = rpc_url or settings.rpc_url or f"http://127.0.0.1:{settings.anvil_port}"
    try:
        result = recompute(engine, registry_for_audit(engine, url), derivatives_for_audit(engine, url), period_id)
    except (ChainError, NotFound) as exc:
        _fail(str(exc))
    except SQLAlchemyError as exc:  # a database, but not one the service has made
        _fail(f"the {database_name(settings)} holds no ReelLedger data ({first_line(exc)}): {DATABASE_HINT}")
    from ledger.cli.client import counted, said
    from ledger.cli.settlement import money

    said(
        "the period's root",
        ("recomputed", str(result.recomputed_root or "-")),
        ("on chain", str(result.chain_root or "-")),
        ("inputs", str(result.recomputed_inputs_hash or "-")),
    )
    console.print(f"total {money(result.total, result.currency)} over {counted(result.line_count, 'line')}")
    for problem in result.problems:
        console.print(f"[red]problem:[/red] {problem}")
    if not result.ok:
        _fail("the period does not recompute to the committed root")
    console.print("[green]identical[/green]: the committed root is reproduced from the stored reports and rules")
