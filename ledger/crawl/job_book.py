"""Where a queued crawl job's record lives in Redis, and how it is read: its spec, its
counters (which the workers bump), and who submitted it. Kept apart from `jobs` so that the
service can show jobs without loading the task queue."""

from __future__ import annotations

import json

from redis.commands.core import Script

PREFIX = "reelledger:crawl"
JOBS_BY = f"{PREFIX}:jobs-by"  # + ":<submitter address>": a sorted set of job ids by submission time
JOBS_ALL = f"{PREFIX}:jobs"


TOTALS = f"{PREFIX}:totals"  # every job's counters added together, for the service's metrics
COUNTED = f"{PREFIX}:counted"  # + ":<message id>": there while that message's counts stand added
COUNTED_TTL = 8 * 24 * 3600  # longer than a message lives on the queue (jobs.MESSAGE_TTL)

# Adds a message's counts to its job and to the totals unless they were added already: a message
# handled twice (a retry after a crash or an outage, a redelivery) counts once. One script, so all
# or nothing.
# Made once (as bytes, its SHA-1 needs no client) and run on whichever client is given.
_ADD_ONCE = Script(
    None,  # type: ignore[arg-type]  # no client of its own: each call names one
    b"""
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  for i = 2, #ARGV, 2 do
    redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])
    redis.call('HINCRBY', KEYS[3], ARGV[i], ARGV[i + 1])
  end
  return 1
end
return 0
""",
)


def job_key(job_id: str) -> str:
    return f"{PREFIX}:job:{job_id}"


def submitter_key(address: str) -> str:
    return f"{JOBS_BY}:{address.lower()}"


def record_job(client, job_id: str, spec: dict, submitted_at: float, submitter: str | None) -> None:
    pipe = client.pipeline()
    pipe.hset(
        job_key(job_id),
        mapping={"spec": json.dumps(spec), "submitted_at": submitted_at, "submitter": (submitter or "").lower()},
    )
    pipe.zadd(JOBS_ALL, {job_id: submitted_at})
    if submitter:
        pipe.zadd(submitter_key(submitter), {job_id: submitted_at})
    pipe.execute()


def add_counts_once(client, job_id: str, message_id: str, deltas: dict[str, int]) -> bool:
    """Adds `deltas` to the job's counters for message `message_id`, once; False if they were.
    `message_id` may name another one-off event (`queued:<id>`: that message was sent). Safe to
    retry after a lost answer, as the patient client does: a bare HINCRBY is not."""
    args: list[int | str] = [COUNTED_TTL]
    for name, delta in deltas.items():
        args += [name, delta]
    added = _ADD_ONCE(keys=[job_key(job_id), f"{COUNTED}:{message_id}", TOTALS], args=args, client=client)
    return bool(added)


def crawl_totals(client) -> dict[str, int]:
    """Every job's counters added together (pages, media, matched, cases, ...), since Redis began."""
    return {k.decode(): int(v) for k, v in client.hgetall(TOTALS).items()}


def counts_of(raw: dict) -> dict:
    """The counters of a job's hash: pages, media, bytes, matched, cases, queued, done,
    failed, skipped:<reason>; finished once every queued task settled."""
    found = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v) for k, v in raw.items()
    }
    counts = {k: int(v) for k, v in found.items() if k != "spec" and v.lstrip("-").isdigit()}
    settled = counts.get("done", 0) + counts.get("failed", 0)
    counts["finished"] = counts.get("queued", 0) > 0 and settled >= counts.get("queued", 0)
    return counts


def read_job(client, job_id: str) -> dict | None:
    """A job as the console shows it; None when there is no such job."""
    raw = client.hgetall(job_key(job_id))
    if not raw:
        return None
    text = {k.decode(): v.decode() for k, v in raw.items()}
    spec = json.loads(text.get("spec", "{}"))
    return {
        "job_id": job_id,
        "submitted_at": float(text.get("submitted_at", 0)),
        "submitter": text.get("submitter") or None,
        "seeds": spec.get("seeds", []),
        "rescan_every": spec.get("rescan_every"),
        "counts": counts_of(raw),
    }


def list_jobs(client, submitter: str | None, limit: int = 100) -> list[dict]:
    """The newest jobs first: one submitter's, or everyone's (submitter None)."""
    key = submitter_key(submitter) if submitter else JOBS_ALL
    ids = [i.decode() for i in client.zrevrange(key, 0, limit - 1)]
    return [job for job in (read_job(client, i) for i in ids) if job is not None]
