"""Media jobs on the crawl's Redis queue: the queue's name, the message a job is sent as, and
the broker the service sends it through (the crawl's broker configuration, at the service's
Redis URL). The worker's actor is in `ledger.media_jobs.worker`; the service never imports it."""

from __future__ import annotations

import dramatiq

MEDIA_QUEUE = "reelledger-media"
ACTOR = "run_media_job"


def make_broker(redis_url: str) -> dramatiq.Broker:
    from ledger.crawl.jobs import make_broker as crawl_broker

    broker = crawl_broker(redis_url)
    broker.declare_queue(MEDIA_QUEUE)
    return broker


def enqueue(broker: dramatiq.Broker, job_id: int) -> None:
    """Send the job's media step to the workers, with the id of the request that asked for it
    (the worker's lines carry it); a duplicate message does no harm (the job's row says whether
    its step is still to do)."""
    from ledger.queue_worker import send_options

    message: dramatiq.Message[None] = dramatiq.Message(
        queue_name=MEDIA_QUEUE, actor_name=ACTOR, args=(job_id,), kwargs={}, options=send_options()
    )
    broker.enqueue(message)
