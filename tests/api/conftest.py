"""The service over real HTTP on loopback (uvicorn in a thread), once on SQLite and once on
PostgreSQL, each with its own managed Anvil node."""

from __future__ import annotations

import pytest

from ledger.models import Role
from tests.helpers.service import running_service
from tests.helpers.settings import temporary_database


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, tmp_path_factory):
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("module_postgres_url")
    with running_service(tmp_path_factory.mktemp("svc") / "data", url, write_wait=10) as svc:
        yield svc


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def settlement_service(request, tmp_path_factory):
    """A service whose settlement periods finalise two seconds after they are committed."""
    url = request.getfixturevalue("module_postgres_url") if request.param == "postgresql" else None
    with running_service(tmp_path_factory.mktemp("svc") / "data", url, write_wait=10, dispute_window=2) as svc:
        yield svc


@pytest.fixture(scope="module")
def module_postgres_url(postgres_server):
    with temporary_database(postgres_server) as url:
        yield url


@pytest.fixture(scope="module")
def admin(service):
    return service.new_account(Role.admin)[2]


@pytest.fixture
def studio(service):
    return service.new_account(Role.rights_holder)
