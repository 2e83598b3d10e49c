"""The service over real HTTP on loopback (uvicorn in a thread), once on SQLite and once on
PostgreSQL, each with its own managed Anvil node."""

from __future__ import annotations

import threading
import time
import uuid
from contextlib import contextmanager

import httpx
import pytest
import uvicorn

from api.main import create_app
from ledger.accounts import create_account
from ledger.models import Role
from tests.conftest import free_port, make_settings, temporary_database


def settle(outbox, timeout: float = 60.0) -> None:
    """What the reconciler does every few seconds, until nothing is left in flight."""
    deadline = time.monotonic() + timeout
    while True:
        outbox.reconcile()
        if outbox.unfinished() == 0:
            return
        assert time.monotonic() < deadline, "the outbox did not settle"
        time.sleep(0.05)


def written(service, response) -> httpx.Response:
    """A write's answer, its chain operation final: 201 at once, or a 202 (a loaded machine took
    longer than the service's write_wait) settled here, as these tests' services may not."""
    assert response.status_code in (201, 202), response.text
    if response.status_code == 202:
        settle(service.ledger.chain.outbox)
    return response


class Client(httpx.Client):
    def as_(self, api_key: str) -> Client:
        return Client(base_url=self.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)


class Service:
    def __init__(self, settings) -> None:
        self.settings = settings
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=settings.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    @property
    def ledger(self):
        return self.app.state.ledger

    def start(self) -> Service:
        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("service did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)

    def client(self, api_key: str | None = None) -> Client:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        return Client(base_url=self.url, headers=headers, timeout=30)

    def new_account(self, role: Role, address: str | None = None) -> tuple[int, str, Client]:
        """An account made the way an admin would; returns its id, address and a client with its key."""
        created = create_account(
            self.ledger.engine,
            self.ledger.keys,
            name=f"{role.value}-{uuid.uuid4().hex[:8]}",
            role=role,
            address=address,
        )
        return created.account.id, created.account.address, self.client(created.api_key)


@contextmanager
def running_service(data_dir, database_url: str | None = None, **overrides):
    """A service on its own port and Anvil node with these settings, stopped afterwards."""
    svc = Service(make_settings(data_dir, database_url, port=free_port(), **overrides)).start()
    try:
        yield svc
    finally:
        svc.stop()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def service(request, tmp_path_factory):
    url = None
    if request.param == "postgresql":
        url = request.getfixturevalue("module_postgres_url")
    settings = make_settings(tmp_path_factory.mktemp("svc") / "data", url, port=free_port(), write_wait=10)
    svc = Service(settings).start()
    yield svc
    svc.stop()


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
