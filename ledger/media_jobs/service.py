"""The service's side of media jobs: it sends each new job on its way (to the queue, or to its
own media thread), runs the ledger step of every job whose media step is done, and takes up
what a stop left unfinished. Every replica runs this; the job rows' leases keep them apart."""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from typing import TYPE_CHECKING

from ledger.logs import carried
from ledger.media_jobs import records
from ledger.media_jobs.runner import Outcome, context, run_ledger, run_media
from ledger.models import JobStatus

if TYPE_CHECKING:
    import dramatiq

    from ledger.service import Ledger

log = logging.getLogger("reelledger.media_jobs")

UNCLAIMED_AFTER = 10  # leases' length after which an untaken queued job is sent again


class MediaJobs:
    def __init__(self, ledger: Ledger, stop: threading.Event) -> None:
        self.ledger = ledger
        self._stop = stop
        self._process = f"service:{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._lock = threading.Lock()
        self._here: set[int] = set()  # jobs on this process's media thread
        self._resent: set[int] = set()  # jobs this process sent again, unclaimed
        self._broker: dramatiq.Broker | None = None
        self._thread: threading.Thread | None = None

    @property
    def queued(self) -> bool:
        """Media steps go to queue workers (`media_jobs = "queue"`); else they run here."""
        return self.ledger.settings.media_jobs == "queue"

    def holder(self) -> str:
        return f"{self._process}:{threading.get_ident()}"

    def start(self) -> MediaJobs:
        if self.queued:
            for status in (JobStatus.queued, JobStatus.running):  # a message may have been lost with a stop
                for job_id in records.unfinished(self.ledger.engine, status):
                    self._send(job_id)
        self._thread = threading.Thread(target=self._follow, name="media-jobs", daemon=True)
        self._thread.start()
        return self

    def submit(self, job_id: int) -> None:
        """A new job: to the queue, or to this process's media thread. The upload is answered at
        once even while Redis is away (an enqueue waits for it): the job is sent on a thread."""
        if self.queued:
            send = carried(self._send)  # its lines, and the message, carry the request's id
            threading.Thread(target=send, args=(job_id,), name=f"media-job-{job_id}", daemon=True).start()
        else:
            self._run_here(job_id)

    def _send(self, job_id: int) -> None:
        from ledger.media_jobs.queue import enqueue, make_broker

        with self._lock:
            if self._broker is None:
                self._broker = make_broker(self.ledger.settings.redis_url)
            broker = self._broker
        try:
            enqueue(broker, job_id)
        except Exception as exc:  # kept in the table: sent again at the next start
            log.error("media job %s could not be queued (%s); it is queued again at the next start", job_id, exc)

    def _run_here(self, job_id: int) -> None:
        if self.ledger.stopping:
            return
        with self._lock:
            if job_id in self._here:
                return
            self._here.add(job_id)
        self.ledger.submit_media(self._both_steps, job_id)

    def _both_steps(self, job_id: int) -> None:
        try:
            ctx = context(self.ledger, stopping=lambda: self.ledger.stopping)
            if run_media(ctx, job_id, self.holder()) == Outcome.done:
                run_ledger(self.ledger, job_id, self.holder())
        except Exception:
            log.exception("media job %s: a step failed; it is tried again", job_id)
        finally:
            with self._lock:
                self._here.discard(job_id)

    def _follow(self) -> None:
        """Every `media_poll` seconds: the ledger step of jobs whose media step is done, and
        (without a queue) the media step of jobs nobody holds (a stop or a dead replica left them)."""
        while not self._stop.wait(self.ledger.settings.media_poll):
            try:
                for job_id in records.unfinished(self.ledger.engine, JobStatus.finishing):
                    self._ledger_step(job_id)
                if self.queued:
                    self._send_unclaimed()
                else:
                    for status in (JobStatus.queued, JobStatus.running):
                        for job_id in records.unfinished(self.ledger.engine, status):
                            self._run_here(job_id)
            except Exception:
                log.exception("media job pass failed")

    def _send_unclaimed(self) -> None:
        """Send again, once per process, a job no worker has taken for a while: its message may
        have been lost (Redis away when it was sent, and this process stopped before it came
        back). A second message for a job that is taken meanwhile does nothing."""
        waited = UNCLAIMED_AFTER * self.ledger.settings.media_job_lease
        for job_id in records.never_taken(self.ledger.engine, older_than=waited):
            if job_id not in self._resent:
                self._resent.add(job_id)
                self._send(job_id)

    def _ledger_step(self, job_id: int) -> None:
        """One job's ledger step; what stops it (the chain or the database away) is tried again
        on the next pass, without holding up the other jobs."""
        from ledger.chain.errors import ChainError

        try:
            run_ledger(self.ledger, job_id, self.holder())
        except ChainError as exc:
            log.warning("media job %s waits for the chain: %s", job_id, exc)
        except Exception:
            log.exception("media job %s: its ledger step failed; it is tried again", job_id)

    def close(self) -> None:
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._broker is not None:
            self._broker.close()
