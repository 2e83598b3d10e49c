"""The media worker: `reelledger media worker` runs Dramatiq on this module.

It needs what the service's media step needs: the database (REELLEDGER_DATABASE_URL or
DATABASE_URL), the data directory the service stores uploads in (REELLEDGER_DATA_DIR, shared:
the same disk or a network volume), the master key for marking copies (REELLEDGER_MASTER_KEY,
or the key file in that directory) and the queue's Redis (REELLEDGER_REDIS_URL). The broker is
the crawl's, configured the same way (heartbeat, retries, outage patience).

A worker killed in the middle of a job loses nothing: the message was not acknowledged, so it
goes to another worker once this one's heartbeat is missed; that worker takes the step over
once the dead one's lease in the job's row lapses (until then the message is retried later)."""

from __future__ import annotations

import os
import socket
import threading

import dramatiq

from ledger.config import Settings
from ledger.crawl.jobs import RETRIES, TryAgain, broker
from ledger.db import make_engine
from ledger.media_jobs.queue import ACTOR, MEDIA_QUEUE
from ledger.media_jobs.runner import Outcome, run_media
from ledger.media_jobs.steps import MediaContext

TIME_LIMIT = 6 * 3_600_000  # marking a feature-length copy takes a while

_settings = Settings()
_context = MediaContext(
    make_engine(_settings.resolved_database_url),
    _settings.data_dir,
    _settings.master_key,
    _settings.media_job_lease,
)


def _holder() -> str:
    return f"worker:{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


@dramatiq.actor(broker=broker, actor_name=ACTOR, queue_name=MEDIA_QUEUE, time_limit=TIME_LIMIT, job_arg=0, **RETRIES)
def run_media_job(job_id: int) -> None:
    outcome = run_media(_context, job_id, _holder())
    if outcome != Outcome.done:
        raise TryAgain(f"media job {job_id} is held by another runner; tried again once its lease may have lapsed")
