"""Every request gets an id and is counted and timed by its route.

The id is the client's `X-Request-ID` when it is a short token of safe characters (a proxy's
or a caller's own, so that their logs and ours meet), else a new one; it is sent back in the
answer's `X-Request-ID` and carried by every log line written while the request is handled
(`ledger.logs.request_id`). Each request runs in a task of its own, with its own copy of the
context, so the id ends with it; it is not reset here, so that the line the outermost error
handler logs for an unexpected error still carries it.

Requests are counted by method, route template (`/works/{work_id}`, never the path asked for,
so that the number of series stays bounded) and status class (2xx, 4xx, ...), and timed by
method and route template, in the ledger's own registry (`ledger.metrics`).
"""

from __future__ import annotations

import re
import time
import uuid
from weakref import WeakKeyDictionary

from fastapi.routing import iter_route_contexts
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.routing import Mount, compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ledger.logs import request_id

HEADER = b"x-request-id"
VALID_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # no route: the path itself is never a label
# Seconds; uploads of masters and reports run for minutes, so the buckets go past the usual 10 s.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)


class RequestMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.requests = Counter(
            "reelledger_http_requests",
            "HTTP requests answered, by method, route template and status class.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.seconds = Histogram(
            "reelledger_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer, by method and route template.",
            ["method", "route"],
            buckets=BUCKETS,
            registry=registry,
        )


def incoming_id(scope: Scope) -> str:
    """The client's request id if it is fit for our logs, else a fresh one."""
    given = next((value for name, value in scope["headers"] if name.lower() == HEADER), b"")
    text = given.decode("latin-1")
    return text if VALID_ID.fullmatch(text) else uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The template of the route that took the request; looked up by its path when the request
    was answered before routing (a body refused for its size, say)."""
    route = scope.get("route")
    if isinstance(route, Mount):
        return f"{route.path}/{{path}}"
    path = getattr(route, "path", None)
    if isinstance(path, str) and path:
        return path
    app = scope.get("app")
    return _lookup(app, scope["path"]) if app is not None else UNMATCHED


_TABLES: WeakKeyDictionary[object, list[tuple[re.Pattern[str], str]]] = WeakKeyDictionary()


def _lookup(app: object, path: str) -> str:
    """The template of the first of the app's routes whose path matches `path`."""
    table = _TABLES.get(app)
    if table is None:
        table = []
        for context in iter_route_contexts(getattr(app, "routes", [])):
            if context.path is None:
                continue
            if isinstance(context.original_route, Mount):
                table.append((re.compile(re.escape(context.path) + "/.*"), f"{context.path}/{{path}}"))
            else:
                table.append((compile_path(context.path)[0], context.path))
        _TABLES[app] = table
    return next((template for pattern, template in table if pattern.fullmatch(path)), UNMATCHED)


class Observe:
    """ASGI middleware: outermost of ours, so that everything inside is timed and has the id."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._metrics: RequestMetrics | None = None

    def _metrics_for(self, scope: Scope) -> RequestMetrics | None:
        ledger = getattr(getattr(scope.get("app"), "state", None), "ledger", None)
        if ledger is None:
            return None
        registry = ledger.metrics.registry
        if self._metrics is None or self._metrics.registry is not registry:
            self._metrics = RequestMetrics(registry)
        return self._metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = incoming_id(scope)
        request_id.set(rid)
        started = time.perf_counter()
        status = 500  # unless an answer starts: an exception escaped, the outer handler answers 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, rid.encode())]}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            metrics = self._metrics_for(scope)
            if metrics is not None:
                method = scope["method"] if scope["method"] in METHODS else "other"
                route = route_template(scope)
                metrics.requests.labels(method, route, f"{status // 100}xx").inc()
                metrics.seconds.labels(method, route).observe(time.perf_counter() - started)
