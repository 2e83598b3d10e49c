"""Fixtures: a real Anvil node per ledger, SQLite in a temporary directory, and PostgreSQL
(a fresh database per test on the local server, started if it is down)."""

from __future__ import annotations

import os
import subprocess
import uuid

import psycopg
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from ledger.config import Settings
from ledger.service import Ledger
from tests.helpers.file_order import long_files_first
from tests.helpers.settings import make_settings, temporary_database

# xdist's workers set COLUMNS=80, and a rich Console made while it is set keeps that width for
# good. The CLI's consoles are made at import and read the width as each run finds it; a test
# gives the width it means in the environment of its CLI run.
os.environ.pop("COLUMNS", None)

PG_ADMIN_DSN = os.environ.get("REELLEDGER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PG_START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"

# The suite runs beside other work on two cores: Hypothesis's own clocks (how long an example
# takes, how long drawing one takes) measure the machine's load, not the code under test.
hypothesis_settings.register_profile("loaded", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("loaded")


def pytest_configure(config):
    """xdist would hand out the files with the most tests first, undoing the order below."""
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(config, items):
    """The long files first (tests/helpers/file_order.py): with two processes taking whole files,
    the short ones then fill in the end."""
    long_files_first(items)


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


@pytest.fixture
def postgres_url(postgres_server):
    with temporary_database(postgres_server) as url:
        yield url


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
