"""`reelledger verify`: re-hash a file here and look its registration up on the chain itself."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import typer
from rich.console import Console
from rich.text import Text

from ledger.chain.hexes import to_0x
from ledger.cli.client import Facts, Fitted, counted, hanging, moment, wrapped
from ledger.cli.files import sha256_file

console = Console(soft_wrap=True)  # lines whole (ids, keys, hashes are copied from them); the terminal wraps
err = Console(stderr=True, soft_wrap=True)
app = typer.Typer(no_args_is_help=True, help="Check registrations against the chain directly.")


def _default_rpc() -> str:
    return os.environ.get("REELLEDGER_RPC_URL") or f"http://127.0.0.1:{os.environ.get('REELLEDGER_ANVIL_PORT', '8545')}"


def _registry_from_service(name: str = "WorkRegistry", option: str = "--registry") -> str:
    """Ask the service where a contract is; the address is then checked by its code on chain."""
    import httpx

    url = os.environ.get("REELLEDGER_URL", "http://127.0.0.1:8000")
    try:
        address: str = httpx.get(f"{url}/health", timeout=10).json()["contracts"][name]
        return address
    except (httpx.HTTPError, KeyError, ValueError):
        err.print(f"[red]reelledger:[/red] give {option} (the {name} address) or run the service")
        raise typer.Exit(2) from None


def _registry(given: str | None, name: str, variable: str) -> str:
    """The contract address to check against, and a line saying where it came from: given (by
    the option, or the environment variable), or asked of the service, which is then its word."""
    if given:
        source = f"from {variable}" if os.environ.get(variable) == given else "from --registry"
        console.print(Text(f"{name} {given} ({source})"))
        return given
    address = _registry_from_service(name)
    url = _without_credentials(os.environ.get("REELLEDGER_URL", "http://127.0.0.1:8000"))
    console.print(Text(f"{name} {address}"))
    advice = f"(asked the service at {url}; pass --registry or set {variable} to check against an address you trust)"
    for line in wrapped(advice, max(console.width - 2, 40)):
        console.print(Text(f"  {line}"))
    return address


def _without_credentials(url: str) -> str:
    """The service's address as printed: a user and password written in it stay out of the output."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


@app.command("work")
def work(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    rpc_url: str = typer.Option(None, help="EVM JSON-RPC endpoint; default REELLEDGER_RPC_URL or the local node."),
    registry: str = typer.Option(None, envvar="REELLEDGER_WORK_REGISTRY", help="WorkRegistry address."),
) -> None:
    """Does the chain hold a registration of exactly this file? Exit code 0 if so, 1 if not."""
    from ledger.chain.errors import ChainError
    from ledger.chain.verify import find_registration

    digest = sha256_file(file)
    try:
        address = _registry(registry, "WorkRegistry", "REELLEDGER_WORK_REGISTRY")
        found = find_registration(rpc_url or _default_rpc(), address, digest)
    except ChainError as exc:
        err.print(f"[red]reelledger:[/red] {exc}")
        raise typer.Exit(2) from None
    if found is None:
        console.print("[red]no match[/red]: the file's SHA-256 is not registered on this chain")
        console.print(f"  {to_0x(digest)}")
        raise typer.Exit(1)
    console.print(Text.assemble(("match", "green"), ": the chain holds a registration of exactly this file"))
    _facts(
        ("file", str(file)),
        ("work id", found.work_id),
        ("owner", found.owner),
        ("registered", f"{moment(found.registered_at)}, block {found.block_number}"),
        ("tx", found.tx_hash),
        ("metadata", found.metadata_hash),
        ("at", found.metadata_uri),
    )


def _facts(*rows: tuple[str, str]) -> None:
    facts = Facts(indent=2)
    for label, value in rows:
        facts.add_row(label, str(value))
    console.print(facts)


@app.command("statement")
def statement(
    file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
    rpc_url: str = typer.Option(None, help="EVM JSON-RPC endpoint; default REELLEDGER_RPC_URL or the local node."),
    registry: str = typer.Option(
        None,
        envvar="REELLEDGER_SETTLEMENT_REGISTRY",
        help="The SettlementRegistry address you trust (published by the operator); default: ask the service.",
    ),
) -> None:
    """Check each line of a statement against the settlement contract alone. Exit 0 if all hold."""
    import json

    from ledger.chain.errors import ChainError
    from ledger.chain.verify import verify_statement
    from ledger.cli.settlement import line_source, money
    from ledger.errors import TooDeep
    from ledger.json_limits import check_depth

    try:
        text = file.read_text()
        check_depth(text, file.name)  # before the decoder, which recurses a level per bracket
        doc = json.loads(text)
        check = verify_statement(
            rpc_url or _default_rpc(),
            doc,
            _registry(registry, "SettlementRegistry", "REELLEDGER_SETTLEMENT_REGISTRY"),
        )
    except (ValueError, KeyError, TypeError, TooDeep) as exc:
        err.print(f"[red]reelledger:[/red] {file.name} is not a statement: {exc}")
        raise typer.Exit(2) from None
    except ChainError as exc:
        err.print(f"[red]reelledger:[/red] {exc}")
        raise typer.Exit(2) from None
    state = {0: "not committed", 1: "committed (dispute window)", 2: "finalised"}.get(check.period_state, "?")
    console.print(f"period {state} on chain {doc['chain_id']}")
    _facts(("period id", str(doc["period_id"])), ("contract", str(doc["contract"])))
    console.print(
        f"  root {'matches' if check.root_matches else 'DIFFERS'}, token "
        f"{'matches' if check.token_matches else 'DIFFERS'}, total {'matches' if check.total_matches else 'DIFFERS'}"
    )
    for problem in check.problems:
        console.print(f"  [red]problem:[/red] {problem}")
    for line, stated in zip(check.lines, doc["lines"], strict=True):
        mark = ("ok", "green") if line.proof_ok and line.contract_ok else ("FAILS", "red")
        hanging(
            Text.assemble(
                f"line {line.index}: {money(line.amount, doc['currency'])} ",
                mark,
                f"{' (settled)' if line.settled else ''}, {line_source(stated)}",
            )
        )
    if not check.ok:
        console.print("[red]the statement does not match the chain[/red]")
        raise typer.Exit(1)
    console.print(f"[green]verified[/green]: {counted(len(check.lines), 'line')} against the chain")


@app.command("evidence")
def evidence(
    bundle: Path = typer.Argument(
        None, exists=True, dir_okay=False, readable=True, help="The evidence bundle (JSON); or give --case."
    ),
    copy: Path = typer.Option(
        None, "--copy", exists=True, dir_okay=False, help="The copy it describes, to re-hash too."
    ),
    case: int = typer.Option(
        None, "--case", help="Check every anchored step of this case (fetched from the service with your key)."
    ),
    rpc_url: str = typer.Option(None, help="EVM JSON-RPC endpoint; default REELLEDGER_RPC_URL or the local node."),
    registry: str = typer.Option(None, envvar="REELLEDGER_EVIDENCE_REGISTRY", help="EvidenceRegistry address."),
) -> None:
    """Is this evidence bundle (or each anchored step of a case: its evidence, its counter-notice)
    anchored on chain, unaltered? Exit code 0 if so, 1 if not."""
    if (bundle is None) == (case is None):
        err.print("[red]reelledger:[/red] give an evidence bundle or --case, one of them")
        raise typer.Exit(2)
    rpc = rpc_url or _default_rpc()
    address = _registry(registry, "EvidenceRegistry", "REELLEDGER_EVIDENCE_REGISTRY")
    if bundle is not None:
        ok = _check_document(bundle.read_bytes(), str(bundle), rpc, address, copy)
    else:
        checked = [_check_document(data, label, rpc, address) for label, data in _case_documents(case)]
        ok = all(checked)  # every step checked and reported, not only up to the first that fails
    if not ok:
        raise typer.Exit(1)


# Where the service keeps the document each anchored step of a case hashes to.
STEP_DOCUMENTS = {"found": "evidence", "countered": "counter-notice/document"}


def _case_documents(case_id: int) -> list[tuple[str, bytes]]:
    """The documents of a case's anchored steps, byte for byte as the service holds them."""
    from ledger.cli.client import _call, _client

    steps = [s for s in _call("GET", f"/cases/{case_id}/timeline")["steps"] if s["anchored_hash"]]
    documents = []
    with _client() as client:
        for step in steps:
            answer = client.get(f"/cases/{case_id}/{STEP_DOCUMENTS[step['kind']]}")
            if answer.status_code != 200:
                err.print(f"[red]refused ({answer.status_code}):[/red] {answer.text}")
                raise typer.Exit(1)
            documents.append((f"case {case_id} {step['kind']}", answer.content))
    return documents


def _check_document(data: bytes, label: str, rpc: str, registry: str, copy: Path | None = None) -> bool:
    import json

    from ledger.chain.errors import ChainError
    from ledger.chain.verify import find_evidence

    try:
        found = find_evidence(rpc, registry, data)
    except ChainError as exc:
        err.print(f"[red]reelledger:[/red] {exc}")
        raise typer.Exit(2) from None
    if not found.anchored:
        missing = Text.assemble(("not anchored", "red"), f": {label}: the chain holds no anchor of")
        console.print(Fitted(missing, found.evidence_hash))
        console.print("  this document was altered or never anchored")
        return False
    console.print(Fitted(Text.assemble(("anchored", "green"), f": {label} hashes to"), found.evidence_hash))
    _facts(
        ("anchored", f"{moment(found.anchored_at)}, block {found.block_number}"),
        ("tx", found.tx_hash or "-"),
        ("by", found.anchored_by or "-"),
        ("work id", f"{found.work_id}" + ("" if found.work_registered else " (not registered)")),
    )
    ok = found.work_matches and found.work_registered
    if not found.work_matches:
        console.print("[red]the document names another work than its anchor[/red]")
    if copy is not None:
        expected = json.loads(data)["content"]["sha256"].lower()
        actual = to_0x(sha256_file(copy))
        if actual == expected:
            console.print(Text.assemble(("copy matches", "green"), f": {copy} has the SHA-256 the bundle says"))
            _facts(("SHA-256", actual))
        else:
            console.print(Text.assemble(("copy differs", "red"), f": {copy} has another SHA-256 than the bundle says"))
            _facts(("SHA-256", actual), ("the bundle", expected))
            ok = False
    return ok
