"""The service over real HTTP on loopback (uvicorn in a thread) with its own port and managed Anvil
node, clients with an account's key, and the outbox settled as the reconciler would."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from contextlib import contextmanager

import httpx
import uvicorn

from api.main import create_app
from ledger.accounts import create_account
from ledger.models import Role
from tests.helpers.settings import make_settings


def wait_status(
    client, path: str, final: tuple[str, ...], timeout: float, every: float, status=lambda answer: answer["status"]
) -> dict:
    """GET `path` until the answer's `status` (or what `status` reads of it) is one of `final`; that answer."""
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get(path).json()
        if status(answer) in final:
            return answer
        assert time.monotonic() < deadline, f"{path} stuck: {answer}"
        time.sleep(every)


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


def confirmed(client, response, url: str, timeout: float = 60.0) -> dict:
    """A write's answer once the chain has confirmed it: a 202 (a loaded machine took longer
    than the service's write_wait) is followed at `url` as a client would, until confirmed."""
    assert response.status_code in (201, 202), response.text
    body = response.json()
    if body["chain"]["status"] != "confirmed":
        body = wait_status(client, url, ("confirmed", "failed"), timeout, 0.2, lambda answer: answer["chain"]["status"])
    assert body["chain"]["status"] == "confirmed", body
    return body


class Client(httpx.Client):
    def as_(self, api_key: str) -> Client:
        return Client(base_url=self.base_url, headers={"Authorization": f"Bearer {api_key}"}, timeout=30)


class Service:
    def __init__(self, settings, sock: socket.socket | None = None) -> None:
        """`sock`: bound to settings.port already, so that no other process takes the port
        between choosing it and serving on it."""
        self.settings = settings
        self.app = create_app(settings)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=settings.port, log_level="warning")
        self.server = uvicorn.Server(config)
        run = {"sockets": [sock]} if sock is not None else {}
        self.thread = threading.Thread(target=self.server.run, kwargs=run, daemon=True)

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


def bound_socket() -> tuple[socket.socket, int]:
    """A loopback socket bound to a free port, and the port: handed to `Service` so that no
    other process (an outgoing connection's ephemeral port, say) takes it before it serves."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


@contextmanager
def running_service(data_dir, database_url: str | None = None, **overrides):
    """A service on its own port and Anvil node with these settings, stopped afterwards."""
    sock, port = bound_socket()
    try:
        svc = Service(make_settings(data_dir, database_url, port=port, **overrides), sock).start()
        try:
            yield svc
        finally:
            svc.stop()
    finally:
        sock.close()
