"""Idempotency-Key on a write route whose domain keeps no key of its own (`ledger.request_keys`
keeps them): the route takes `once: Once` (which declares the header) and hands it its work.

    @router.post("/licences/{licence_id}/revoke")
    def revoke_licence(licence_id: RowId, ledger: LedgerDep, account: CurrentAccount, once: Once):
        return once(lambda: ...)

The request compared is the route, its path and query parameters as sent, and the parsed body
the route passes (a pydantic model, or an upload's fields and its file's SHA-256). The answer
kept is the one FastAPI would send (the route's response model and status); a replay sends the
same bytes again, marked `Idempotent-Replayed: true`. Without a key the work simply runs."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from functools import cache
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter

from api.deps import CurrentAccount, IdempotencyKey, LedgerDep
from ledger.idempotency import request_digest
from ledger.request_keys import Answer, Claim, Earlier, Held

REPLAYED = "Idempotent-Replayed"


@cache
def _adapter(model) -> TypeAdapter:
    return TypeAdapter(model)


def _canonical(body: Any) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json")
    return jsonable_encoder(body)


def _send(answer: Answer, replayed: bool = False) -> Response:
    return Response(
        answer.body, answer.status, headers={REPLAYED: "true"} if replayed else None, media_type="application/json"
    )


class KeyedWrite:
    def __init__(self, request: Request, ledger, account, key: str | None) -> None:
        self._route = request.scope["route"]
        self._keys = ledger.request_keys
        self.held = Held(account.id, key, f"{request.method} {self._route.path}") if key else None
        self._sent = {"path": dict(request.path_params), "query": sorted(request.query_params.multi_items())}

    def digest(self, body: Any) -> str:
        assert self.held is not None  # only a keyed request is digested
        return request_digest(self.held.route, **self._sent, body=_canonical(body))

    def __call__(self, run: Callable[[], Any], body: Any = None):
        """Run `run()` under the key, or answer what it answered the first time (synchronous:
        call it from a worker thread in an async route)."""
        if self.held is None:
            return run()
        digest = self.digest(body)
        got = self._keys.claim(self.held, digest)
        if isinstance(got, Earlier):
            return _send(self._keys.replay(got, digest), replayed=True)
        try:
            answer = self._answer(run())
        except BaseException:
            self._keys.release(got)
            raise
        self._keep(got, digest, answer)
        return _send(answer)

    async def streamed(self, request: Request, work: Callable[[Any], Awaitable[Any]], sent: dict):
        """For a body streamed into the work as it arrives (a play report): the key is taken before
        the body is read, and the request compared by `sent` (what else the route reads: headers)
        and the body's SHA-256 once it has been. `work(sha256)` feeds every chunk of the body to
        `sha256` (a hashlib object, or None)."""
        if self.held is None:
            return await work(None)
        got = await run_in_threadpool(self._keys.claim, self.held, None)
        sha256 = hashlib.sha256()
        if isinstance(got, Earlier):
            async for chunk in request.stream():
                sha256.update(chunk)
            return _send(self._keys.replay(got, self.digest({**sent, "sha256": sha256.hexdigest()})), replayed=True)
        try:
            answer = self._answer(await work(sha256))
        except BaseException:
            await run_in_threadpool(self._keys.release, got)
            raise
        await run_in_threadpool(self._keep, got, self.digest({**sent, "sha256": sha256.hexdigest()}), answer)
        return _send(answer)

    def _keep(self, claim: Claim, digest: str, answer: Answer) -> None:
        if answer.status < 400:
            self._keys.finish(claim, digest, answer)
        else:  # refused: nothing was done, a retry runs again
            self._keys.release(claim)

    def _answer(self, result: Any) -> Answer:
        """The answer as FastAPI would send it: a route's own response as it is, else its
        result through the route's response model."""
        if isinstance(result, Response):
            return Answer(result.status_code, bytes(result.body))
        route = self._route
        adapter = _adapter(route.response_model)
        body = adapter.dump_json(
            adapter.validate_python(result, from_attributes=True),
            by_alias=route.response_model_by_alias,
            exclude_unset=route.response_model_exclude_unset,
            exclude_defaults=route.response_model_exclude_defaults,
            exclude_none=route.response_model_exclude_none,
        )
        return Answer(route.status_code or 200, body)


def keyed_write(
    request: Request, ledger: LedgerDep, account: CurrentAccount, idempotency_key: IdempotencyKey = None
) -> KeyedWrite:
    return KeyedWrite(request, ledger, account, idempotency_key)


Once = Annotated[KeyedWrite, Depends(keyed_write)]
