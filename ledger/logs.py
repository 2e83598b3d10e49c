"""Log lines as text (the default) or as one JSON object each (REELLEDGER_LOG_FORMAT=json), and the
id of the request they were written for.

A request's id lives in a context variable: the API sets it as a request comes in
(`api.observe`), and every line logged while that request is handled carries it, on the event
loop and on the threads the request hands work to (FastAPI's thread pool copies the context;
`Ledger.submit_media` runs its work `carried`). Lines logged outside any request carry none.

The code that logs never puts a key, a password or a URL's credentials in a message
(`ledger.config.redact_url` for URLs); the settings that hold secrets are `repr=False`, so not
even a logged `Settings` shows them. One secret arrives in a request's address, where uvicorn's
access line would print it: a counter-notice link's `token`; `SecretQueryFilter` blanks it.

Queue workers (`ledger.queue_worker`) put the message they handle in `queue_message`: its lines
then carry the message's id, actor and job, and the id of the request that sent it, if one did.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import threading
from collections.abc import Callable
from contextvars import ContextVar, copy_context
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, ParamSpec, TextIO, TypeVar

LogFormat = Literal["text", "json"]
P = ParamSpec("P")
T = TypeVar("T")

request_id: ContextVar[str | None] = ContextVar("reelledger_request_id", default=None)


@dataclass(frozen=True)
class QueueMessage:
    """The queue message a worker's thread is handling: its id, its actor, and the job it is part
    of (a crawl's id, a media job's number) when its actor names one."""

    id: str
    actor: str
    job: str | int | None = None


queue_message: ContextVar[QueueMessage | None] = ContextVar("reelledger_queue_message", default=None)

TEXT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def carried(fn: Callable[P, T]) -> Callable[P, T]:
    """`fn`, to run on another thread in the caller's context: its lines carry the caller's request id."""
    context = copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return context.run(fn, *args, **kwargs)

    return run


class RequestIdFilter(logging.Filter):
    """Puts the current request's id on every record (None outside a request), and the queue
    message being handled, if any."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        record.queue_message = queue_message.get()
        return True


SECRET_QUERY = re.compile(r"([?&]token=)[^&\s]+")


class SecretQueryFilter(logging.Filter):
    """Blanks the value of a `token` query parameter in a record's arguments (an access line's path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "token=" in a for a in record.args):
            record.args = tuple(SECRET_QUERY.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args)
        return True


class TextFormatter(logging.Formatter):
    """The plain lines the service always wrote, with `[request <id>]` when there is one."""

    def __init__(self) -> None:
        super().__init__(TEXT)

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        if rid is None:
            return line
        head, _, rest = line.partition("\n")  # a traceback follows the first line
        return f"{head} [request {rid}]" + (f"\n{rest}" if rest else "")


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, and
    `exception` (the traceback as text) when the record has one; in a queue worker, `message_id`,
    `actor` and `job` while a message is handled."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        handled: QueueMessage | None = getattr(record, "queue_message", None)
        if handled is not None:
            line.update(message_id=handled.id, actor=handled.actor, job=handled.job)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def handler(log_format: LogFormat, stream: TextIO | None = None) -> logging.Handler:
    """A handler writing lines of `log_format`, each with its request id."""
    made = logging.StreamHandler(stream or sys.stderr)
    made.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    made.addFilter(RequestIdFilter())
    made.addFilter(SecretQueryFilter())
    return made


def configure(log_format: LogFormat, level: int = logging.INFO) -> None:
    """Send every logger's lines (uvicorn's too, when it is told not to configure its own) through
    one handler on the root logger, replacing whatever handlers it had."""
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler(log_format))
    root.setLevel(level)
    logging.captureWarnings(True)  # Python's warnings become lines of the same format


class LinesAsRecords(io.TextIOBase):
    """A stream whose every line becomes a record of `logger` at `level`: a worker's stdout and
    stderr, so that what a library prints instead of logging comes out in the log's format too.
    Each thread's partial line waits for its end; a line written while a record of this stream is
    being emitted (a handler's own complaint) goes to `fallback` as it is, not round again."""

    def __init__(self, logger: logging.Logger, level: int, fallback: TextIO) -> None:
        super().__init__()
        self._logger, self._level, self._fallback = logger, level, fallback
        self._local = threading.local()

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        local = self._local
        if getattr(local, "emitting", False):
            self._fallback.write(text)
            return len(text)
        *done, local.pending = (getattr(local, "pending", "") + text).split("\n")
        local.emitting = True
        try:
            for line in done:
                if line.strip():
                    self._logger.log(self._level, line.rstrip())
        finally:
            local.emitting = False
        return len(text)

    def flush(self) -> None:
        self._fallback.flush()
