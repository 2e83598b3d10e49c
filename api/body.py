"""A request body handed to synchronous code as a file, chunk by chunk as it arrives.

The event loop reads the body and puts chunks on a small queue; a worker thread reads them
as a stream. If the client goes away the reader sees an error, so the worker stops and
cleans up; if the worker stops first, the rest of the body is not read.
"""

from __future__ import annotations

import asyncio
import io
import queue
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, TypeVar

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

T = TypeVar("T")


class _End:
    """Put after the last chunk: the body is complete."""


_END = _End()


class Digest(Protocol):
    """A hashlib object the body is fed to as it arrives."""

    def update(self, data: bytes, /) -> None: ...

    def hexdigest(self) -> str: ...


class BodyBroken(IOError):
    """The client stopped sending before the body was complete."""


class BodyPipe(io.RawIOBase):
    def __init__(self, depth: int = 32) -> None:
        self._queue: queue.Queue[bytes | BaseException | _End] = queue.Queue(maxsize=depth)
        self._pending = b""
        self._closed_by_reader = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        while not self._pending:
            item = self._queue.get()
            if isinstance(item, _End):
                self._queue.put(_END)
                return 0
            if isinstance(item, BaseException):
                self._queue.put(item)
                raise BodyBroken(str(item) or "the upload was cut off") from item
            self._pending = item
        view = memoryview(buffer).cast("B")
        n = min(len(view), len(self._pending))
        view[:n] = self._pending[:n]
        self._pending = self._pending[n:]
        return n

    def stop_reading(self) -> None:
        """The worker is done; drain whatever the feeder still puts."""
        self._closed_by_reader = True
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return

    async def feed(self, request: Request, worker: asyncio.Future[T], sha256: Digest | None = None) -> None:
        try:
            async for chunk in request.stream():
                if worker.done() or self._closed_by_reader:
                    return
                if chunk:
                    if sha256 is not None:
                        sha256.update(chunk)
                    while True:
                        try:
                            self._queue.put_nowait(chunk)
                            break
                        except queue.Full:
                            if worker.done():
                                return
                            await asyncio.sleep(0.001)
            await run_in_threadpool(self._queue.put, _END)
        except BaseException as exc:  # ClientDisconnect and the like: the worker must not count the report
            self._queue.put(exc if isinstance(exc, Exception) else BodyBroken("cancelled"))
            raise


async def stream_to(request: Request, work: Callable[[BodyPipe], T], sha256: Digest | None = None) -> T:
    """Run `work(pipe)` on a thread while the body streams into `pipe`; return its result.
    `sha256` (a hashlib object), when given, is fed the body as it arrives."""
    pipe = BodyPipe()

    def run() -> T:
        try:
            return work(pipe)
        finally:
            pipe.stop_reading()

    worker = asyncio.ensure_future(run_in_threadpool(run))
    try:
        await pipe.feed(request, worker, sha256)
    except Exception:
        await asyncio.wait([worker])
        raise
    return await worker
