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
import inspect
from collections.abc import Awaitable, Callable, Generator
from functools import cache, partial
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter

from api.body import Digest
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep
from ledger.idempotency import request_digest
from ledger.models import Account
from ledger.request_keys import Answer, Claim, Earlier, Held
from ledger.service import Ledger

REPLAYED = "Idempotent-Replayed"
T = TypeVar("T")


@cache
def _adapter(model: Any) -> TypeAdapter[Any]:
    return TypeAdapter(model)


def _canonical(body: Any) -> Any:
    if isinstance(body, BaseModel):
        return body.model_dump(mode="json")
    return jsonable_encoder(body)


def _send(answer: Answer, replayed: bool = False) -> Response:
    return Response(
        answer.body, answer.status, headers={REPLAYED: "true"} if replayed else None, media_type="application/json"
    )


Step = Callable[[], Any]
"""One thing a keyed write has done, in its order: a call to the key store, the route's work, or
reading the request to know its digest. A driver runs it and sends its result back (or throws
what it raised)."""
Steps = Generator[Step, Any, Response]


class KeyedWrite:
    def __init__(
        self, request: Request, ledger: Ledger, account: Account, key: str | None, response: Response | None = None
    ) -> None:
        """`response`: the request's Response parameter, on which a route may set its status."""
        self._route = request.scope["route"]
        self._response = response
        self._keys = ledger.request_keys
        self.held = Held(account.id, key, f"{request.method} {self._route.path}") if key else None
        self._sent = {"path": dict(request.path_params), "query": sorted(request.query_params.multi_items())}

    def digest(self, body: Any) -> str:
        assert self.held is not None  # only a keyed request is digested
        return request_digest(self.held.route, **self._sent, body=_canonical(body))

    def __call__(self, run: Callable[[], T], body: Any = None) -> T | Response:
        """Run `run()` under the key, or answer what it answered the first time (synchronous:
        call it from a worker thread in an async route)."""
        if self.held is None:
            return run()
        digest = self.digest(body)
        return _drive(self._steps(run, lambda: digest, digest))

    async def streamed(
        self, request: Request, work: Callable[[Digest | None], Awaitable[T]], sent: dict[str, Any]
    ) -> T | Response:
        """For a body streamed into the work as it arrives (a play report): the key is taken before
        the body is read, and the request compared by `sent` (what else the route reads: headers)
        and the body's SHA-256 once it has been. `work(sha256)` feeds every chunk of the body to
        `sha256` (a hashlib object, or None) and answers what the route returns."""
        if self.held is None:
            return await work(None)
        sha256 = hashlib.sha256()
        body_read = False

        async def run() -> T:
            nonlocal body_read
            body_read = True
            return await work(sha256)

        async def read_digest() -> str:
            if not body_read:  # answered before: the body is read only to compare it
                async for chunk in request.stream():
                    sha256.update(chunk)
            return self.digest({**sent, "sha256": sha256.hexdigest()})

        return await _drive_async(self._steps(run, read_digest, None))

    def _steps(self, run: Step, read_digest: Step, known_digest: str | None) -> Steps:
        """A keyed write, in the one order both kinds of route follow: take the key; if a request
        under it finished before, answer that again; else run the work (the key released if it
        fails) and keep its answer, or release the key for a refusal. The key is taken with
        `known_digest`, None while the request is not read yet (a streamed body); `read_digest`
        gives it when it is needed."""
        assert self.held is not None
        got = yield partial(self._keys.claim, self.held, known_digest)
        if isinstance(got, Earlier):
            return _send((yield partial(self._keys.replay, got, (yield read_digest))), replayed=True)
        try:
            answer = self._answer((yield run))
        except BaseException:
            yield partial(self._keys.release, got)
            raise
        yield partial(self._keep, got, (yield read_digest), answer)
        return _send(answer)

    def _keep(self, claim: Claim, digest: str, answer: Answer) -> None:
        if answer.status < 400:
            self._keys.finish(claim, digest, answer)
        else:  # refused: nothing was done, a retry runs again
            self._keys.release(claim)

    def _answer(self, result: Any) -> Answer:
        """The answer as FastAPI would send it: a route's own response as it is, else its
        result through the route's response model, with the status the route set on its
        Response parameter or else its declared one."""
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
        chosen = self._response.status_code if self._response is not None else None
        return Answer(chosen or route.status_code or 200, body)


def _after(steps: Steps, result: Any = None, error: BaseException | None = None) -> Step | Response:
    """The step after one that gave `result` (or raised `error`), or the answer when none is left."""
    try:
        return steps.throw(error) if error is not None else steps.send(result)
    except StopIteration as done:
        answer: Response = done.value  # a generator's return value; StopIteration does not carry its type
        return answer


def _drive(steps: Steps) -> Response:
    """Run a keyed write's steps here, one after another."""
    step = _after(steps)
    while not isinstance(step, Response):
        try:
            result = step()
        except BaseException as exc:
            step = _after(steps, error=exc)
        else:
            step = _after(steps, result)
    return step


async def _drive_async(steps: Steps) -> Response:
    """Run a keyed write's steps from the event loop: the route's own coroutines awaited, the key
    store's calls (blocking) in a worker thread."""
    step = _after(steps)
    while not isinstance(step, Response):
        try:
            result = await (step() if inspect.iscoroutinefunction(step) else run_in_threadpool(step))
        except BaseException as exc:
            step = _after(steps, error=exc)
        else:
            step = _after(steps, result)
    return step


def keyed_write(
    request: Request,
    response: Response,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
) -> KeyedWrite:
    return KeyedWrite(request, ledger, account, idempotency_key, response)


Once = Annotated[KeyedWrite, Depends(keyed_write)]
