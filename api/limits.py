"""Every request body is held to a size and, when it is JSON, a nesting depth, as it streams in
and before anything parses it, authenticated or not (FastAPI reads a body before it checks the
key).

- JSON and NDJSON bodies (and bodies with no Content-Type) are scanned chunk by chunk and
  refused past MAX_JSON_DEPTH levels (ledger/json_limits.py); an NDJSON body line by line.
- A body that is parsed whole (every JSON body, and anything else not multipart) is refused past
  MAX_BODY_BYTES, or MAX_JSON_BYTES on the two routes that take frame hashes as JSON, and a
  JSON one past MAX_JSON_VALUES values (each becomes a Python object).
- Play reports (/reports, /reports/check) are parsed row by row as they arrive, so their size
  is not capped; multipart uploads stream their file part to disk and cap their own fields.

So what a hostile body can make the service build is bounded by its size cap times a
constant: at most 16 MiB of JSON, 32 levels deep, 100,000 values (scripts/bench-hostile
measures it).
"""

from __future__ import annotations

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import BodyRefused, error_body
from api.upload import MAX_JSON_BYTES
from ledger.errors import LedgerError, TooDeep, TooWide
from ledger.json_limits import MAX_JSON_DEPTH, MAX_JSON_VALUES, DepthScanner

MAX_BODY_BYTES = 1024 * 1024
LARGER = {"/works": MAX_JSON_BYTES, "/match": MAX_JSON_BYTES}  # read_json's: works registered by hash, match queries
STREAMED = frozenset({"/reports", "/reports/check"})
NDJSON = frozenset({"application/x-ndjson", "application/jsonl", "application/ndjson", "application/x-jsonlines"})


def too_large(limit: int) -> BodyRefused:
    return BodyRefused(
        413, "body_too_large", f"the body is larger than this route accepts ({limit} bytes)", field="body", limit=limit
    )


def as_refusal(exc: LedgerError) -> BodyRefused:
    return BodyRefused(413, exc.code, exc.message, **exc.details)


def _is_json(content_type: str) -> bool:
    """What FastAPI or our readers would parse as JSON, or what says nothing of its type."""
    if not content_type:
        return True
    kind = content_type.split(";")[0].strip().lower()
    return kind in NDJSON or kind == "application/json" or kind.endswith("+json")


class BodyLimits:
    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app, self.max_depth = app, max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.lower(): v for k, v in scope["headers"] if k.lower() in (b"content-type", b"content-length")}
        content_type = headers.get(b"content-type", b"").decode("latin-1")
        multipart = content_type.lower().startswith("multipart/")
        path = scope["path"].rstrip("/") or "/"
        limit = None if multipart or path in STREAMED else LARGER.get(path, MAX_BODY_BYTES)
        declared = headers.get(b"content-length", b"")
        if limit is not None and declared.isdigit() and int(declared) > limit:
            refused = too_large(limit)
            response = JSONResponse(
                error_body(refused.code, refused.message, **refused.details), 413, headers={"Connection": "close"}
            )
            await response(scope, receive, send)
            return
        lines = content_type.split(";")[0].strip().lower() in NDJSON
        # a body parsed whole also has its values counted: each becomes a Python object
        values = MAX_JSON_VALUES if limit is not None and not lines else None
        scanner = DepthScanner(self.max_depth, lines=lines, max_values=values) if _is_json(content_type) else None
        if limit is None and scanner is None:
            await self.app(scope, receive, send)
            return
        received = 0

        async def checked() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if limit is not None and received > limit:
                    raise too_large(limit)
                if scanner is not None:
                    try:
                        scanner.feed(chunk)
                    except (TooDeep, TooWide) as exc:
                        raise as_refusal(exc) from None
            return message

        await self.app(scope, checked, send)
