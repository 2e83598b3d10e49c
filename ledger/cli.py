"""The `reelledger` command."""

from __future__ import annotations

import argparse
import json
import logging
import sys


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.main import create_app
    from ledger.config import Settings, redact_url

    overrides = {k: v for k, v in {"host": args.host, "port": args.port}.items() if v is not None}
    settings = Settings(**overrides)
    print(f"reelledger: data in {settings.data_dir.resolve()}, "
          f"{'managed Anvil on port ' + str(settings.anvil_port) if settings.managed_chain else 'chain at ' + redact_url(settings.rpc_url)}, "
          f"API on http://{settings.host}:{settings.port}", flush=True)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="info")
    return 0


def _compile(args: argparse.Namespace) -> int:
    from ledger.chain import artifacts

    compiled = artifacts.compile_contracts()
    if args.check:
        stale = [
            name for name, artifact in compiled.items()
            if not (artifacts.ARTIFACTS_DIR / f"{name}.json").exists()
            or (artifacts.ARTIFACTS_DIR / f"{name}.json").read_text() != artifact.to_json()
        ]
        if stale:
            print(f"artifacts differ from a fresh compile: {', '.join(sorted(stale))}; run `reelledger compile`")
            return 1
        print(f"artifacts match a fresh compile ({len(compiled)} contracts)")
        return 0
    for path in artifacts.write_artifacts(compiled):
        print(f"wrote {path}")
    return 0


def _status(args: argparse.Namespace) -> int:
    from ledger.service import Ledger

    ledger = Ledger()
    try:
        ledger.start()
        print(json.dumps(ledger.health(), indent=2))
    finally:
        ledger.stop()
    return 0


def _create_account(args: argparse.Namespace) -> int:
    """Works on the database directly, so that the first admin can exist before any API key does."""
    from ledger.accounts import create_account
    from ledger.config import Settings
    from ledger.db import make_engine, migrate
    from ledger.errors import LedgerError
    from ledger.keys import KeyStore, load_master_key
    from ledger.models import Role

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    keys = KeyStore(engine, load_master_key(settings.data_dir, settings.master_key))
    try:
        created = create_account(engine, keys, name=args.name or args.role, role=Role(args.role), address=args.address)
    except LedgerError as exc:
        print(f"reelledger: {exc.message}", file=sys.stderr)
        return 1
    account = created.account
    print(f"created {account.role.value} account {account.id} ({account.name}), address {account.address}")
    print(f"API key (shown once, store it now): {created.api_key}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="reelledger", description="Copyright and revenue-share ledger")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="start the chain, deploy if needed, and serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=_serve)
    comp = sub.add_parser("compile", help="compile contracts/src into the committed artifacts")
    comp.add_argument("--check", action="store_true", help="only check that the artifacts are up to date")
    comp.set_defaults(func=_compile)
    status = sub.add_parser("status", help="start the chain once and print the health report")
    status.set_defaults(func=_status)
    accounts = sub.add_parser("accounts", help="manage accounts").add_subparsers(dest="action", required=True)
    create = accounts.add_parser("create", help="create an account and print its API key once")
    create.add_argument("--role", required=True, choices=["rights_holder", "platform", "crawler", "auditor", "admin"])
    create.add_argument("--name", help="defaults to the role")
    create.add_argument("--address", help="the account's own EVM address; omit for a custodial key")
    create.set_defaults(func=_create_account)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.func(args)
    except Exception as exc:  # a CLI user gets the reason, not a traceback
        from ledger.chain.errors import ChainError
        from ledger.chain.node import NodeError

        if isinstance(exc, (ChainError, NodeError)):
            print(f"reelledger: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
