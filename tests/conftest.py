"""Fixtures: a real Anvil node per ledger, SQLite in a temporary directory, and PostgreSQL
(a fresh database per test on the local server, started if it is down)."""

from __future__ import annotations

import base64
import os
import secrets
import socket
import subprocess
import uuid
from contextlib import contextmanager

import psycopg
import pytest

from ledger.chain.node import ManagedAnvil
from ledger.config import Settings, native_foundry_binary
from ledger.service import Ledger

PG_ADMIN_DSN = os.environ.get("REELLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
# Anvil's first development account (its well-known mnemonic), given 10,000 ether at genesis:
# on an external node the tests' funding key, as an operator's own funded key would be.
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_answers() -> bool:
    try:
        with psycopg.connect(PG_ADMIN_DSN, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The admin DSN of a running PostgreSQL; started with the machine's command if it is down."""
    if not _postgres_answers():
        subprocess.run(PG_START, shell=True, check=False, capture_output=True)
    if not _postgres_answers():
        pytest.skip(f"PostgreSQL does not answer at {PG_ADMIN_DSN} and could not be started ({PG_START})")
    return PG_ADMIN_DSN


@contextmanager
def temporary_database(admin_dsn: str):
    """A fresh PostgreSQL database for one test or module, dropped afterwards; yields its URL."""
    name = f"reelledger_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = admin_dsn.rsplit("/", 1)[0]
    try:
        yield f"{base.replace('postgresql://', 'postgresql+psycopg://')}/{name}"
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def postgres_url(postgres_server):
    with temporary_database(postgres_server) as url:
        yield url


def make_settings(data_dir, database_url: str | None = None, **overrides) -> Settings:
    values = {
        "data_dir": data_dir,
        "database_url": database_url,
        "anvil_port": free_port(),
        "master_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "reconcile_interval": 0.2,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def ledger(settings):
    """A started ledger on its own managed Anvil node and SQLite database."""
    running = Ledger(settings).start()
    yield running
    running.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_ledger(request, tmp_path):
    """The same, once on SQLite and once on PostgreSQL."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    running = Ledger(make_settings(tmp_path / "data", url)).start()
    yield running
    running.stop()


class Accounts:
    """Custodial accounts for tests: keys held by the ledger's key store, funded on the dev node."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger

    def new(self, label: str | None = None) -> str:
        address = self.ledger.keys.ensure(label or f"test-{uuid.uuid4().hex[:8]}")
        self.ledger.chain.fund(address)
        return address


@pytest.fixture
def accounts(ledger) -> Accounts:
    return Accounts(ledger)


@contextmanager
def external_anvil(directory):
    """An Anvil node started here, not by the service: the service is given only its URL
    (REELLEDGER_RPC_URL), as it would be a chain someone else runs, and has no anvil_setBalance."""
    node = ManagedAnvil(binary=native_foundry_binary("anvil"), port=free_port(), state_file=directory / "external.json")
    node.start()
    try:
        yield node
    finally:
        node.stop()


def ether_flows(w3, address: str) -> tuple[int, int, set[str]]:
    """Wei sent to `address` by transactions, wei it spent (values and fees), and who sent it
    ether, from every block of the chain. On a node where nothing sets balances by fiat, the
    balance is exactly what came in minus what went out."""
    received = spent = 0
    senders = set()
    for number in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(number, full_transactions=True)["transactions"]:
            if tx["to"] == address and tx["value"]:
                received += tx["value"]
                senders.add(tx["from"])
            if tx["from"] == address:
                receipt = w3.eth.get_transaction_receipt(tx["hash"])
                spent += tx["value"] + receipt["gasUsed"] * receipt["effectiveGasPrice"]
    return received, spent, senders
