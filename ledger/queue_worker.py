"""Dramatiq's worker command (`reelledger crawl worker`, `reelledger media worker`) writing the
service's log lines, and the middleware that names the message each line was written for.

Dramatiq's main process forks its worker processes, gives each a pipe for stdout and stderr
that it copies to its own stderr, and sets up logging in all of them in a text format of its
own. With REELLEDGER_LOG_FORMAT=json every line must be a JSON object instead, so `main` logs
the main process through `ledger.logs` and tells Dramatiq to skip its set-up (`--skip-logging`);
each worker process, once it has its pipe, does the same on the pipe and turns whatever is
printed rather than logged into records (`WorkerLogs.after_process_boot`). Every worker process
writes its lines to the pipe whole, one write each, so the main process never mixes two. One
thing is written as text all the same: the thread dump a crawl worker writes on SIGUSR1
(`faulthandler`, straight to the file descriptor, for a person reading it).

While a message is handled, its lines carry the message's id and actor, the job it belongs to
(an actor declared with `job_arg=<position>` names it among its arguments) and, when the message
was sent while the service handled a request, that request's id (`send_options`). With the
text format Dramatiq's own lines stay as Dramatiq writes them."""

from __future__ import annotations

import logging
import sys
from typing import Any

from dramatiq import Middleware
from dramatiq.errors import ActorNotFound

from ledger import logs


def log_format() -> logs.LogFormat:
    from ledger.config import Settings

    return Settings().log_format


def send_options() -> dict[str, Any]:
    """Options for a message sent now: the id of the request being handled, if any."""
    rid = logs.request_id.get()
    return {} if rid is None else {"request_id": rid}


class WorkerLogs(Middleware):
    """In a worker process: the log format set up on Dramatiq's pipe, and each message's id, actor,
    job and request id on the lines written while it is handled. First among the broker's
    middleware, so its `before` hooks run first and its `after` hooks last: the lines of the
    others (a retry scheduled, a message skipped) carry the message too."""

    actor_options = {"job_arg"}

    def after_process_boot(self, broker: Any) -> None:
        if log_format() != "json":
            return
        pipe = sys.stderr  # Dramatiq's pipe to the main process by now
        root = logging.getLogger()
        for old in list(root.handlers):  # the main process's handler, inherited through the fork
            root.removeHandler(old)
        root.addHandler(logs.handler("json", pipe))
        logging.captureWarnings(True)
        sys.stdout = logs.LinesAsRecords(logging.getLogger("stdout"), logging.INFO, pipe)
        sys.stderr = logs.LinesAsRecords(logging.getLogger("stderr"), logging.WARNING, pipe)

    def before_process_message(self, broker: Any, message: Any) -> None:
        job = None
        try:
            position = broker.get_actor(message.actor_name).options.get("job_arg")
        except ActorNotFound:
            position = None
        if position is not None and len(message.args) > position:
            job = message.args[position]
        logs.request_id.set(message.options.get("request_id"))
        logs.queue_message.set(logs.QueueMessage(message.message_id, message.actor_name, job))

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None, exception: Any = None) -> None:
        logs.request_id.set(None)
        logs.queue_message.set(None)

    after_skip_message = after_process_message


def main(argv: list[str]) -> None:
    """Dramatiq's command line with `argv` (a broker module, then Dramatiq's options)."""
    from dramatiq.cli import main as dramatiq_main
    from dramatiq.cli import make_argument_parser

    if log_format() == "json":
        logs.configure("json")
        argv = [*argv, "--skip-logging"]
    args = make_argument_parser().parse_args(argv)  # type: ignore[no-untyped-call]  # Dramatiq's CLI is untyped
    sys.exit(dramatiq_main(args))  # type: ignore[no-untyped-call]


if __name__ == "__main__":
    main(sys.argv[1:])
