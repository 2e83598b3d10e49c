"""Queue workers asked for JSON logs (REELLEDGER_LOG_FORMAT=json) write nothing but JSON lines:
their own, Dramatiq's main and worker processes' (which Dramatiq would write in its own text
format, through a pipe of its own), each line written while a message is handled naming the
message, its job and the request that sent it. Real `reelledger media worker` and
`reelledger crawl worker` processes on a Redis of their own, their output read back."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path

import dramatiq
import pytest

from ledger.accounts import create_account
from ledger.crawl.jobs import PAGES_QUEUE, make_broker
from ledger.db import make_engine, migrate
from ledger.keys import KeyStore
from ledger.logs import request_id
from ledger.media_jobs import records
from ledger.media_jobs.queue import enqueue
from ledger.media_jobs.queue import make_broker as media_broker
from ledger.models import JobStatus, Role
from tests.helpers.crawl import QueueWorker, RedisServer
from tests.helpers.media_jobs import REELLEDGER, MediaWorker
from tests.helpers.settings import make_settings


@pytest.fixture(scope="module")
def queue_redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture
def json_logs(monkeypatch):
    monkeypatch.setenv("REELLEDGER_LOG_FORMAT", "json")


def lines_once(log: Path, until: str, timeout: float = 60) -> list[dict]:
    """The worker's output as JSON objects, once a line's message contains `until`; a line that is
    not a JSON object fails the test."""
    deadline = time.monotonic() + timeout
    while True:
        text = log.read_text(encoding="utf-8", errors="replace")
        if until in text:
            break
        assert time.monotonic() < deadline, f"no line with {until!r} in:\n{text}"
        time.sleep(0.2)
    parsed = [json.loads(line) for line in text.splitlines()]  # raises on a line of any other format
    assert all(isinstance(p, dict) and {"time", "level", "logger", "message"} <= p.keys() for p in parsed)
    return parsed


def test_a_media_worker_writes_json_lines_naming_the_message_its_job_and_the_request(json_logs, queue_redis, tmp_path):
    settings = make_settings(tmp_path / "data", media_job_lease=600.0)
    settings.data_dir.mkdir(parents=True)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    owner = create_account(engine, KeyStore(engine, secrets.token_bytes(32)), name="studio", role=Role.rights_holder)
    job, _ = records.create(engine, kind="hash_master", owner_id=owner.account.id, request={}, idempotency_key=None)
    records.take(engine, job.id, JobStatus.running, "a runner elsewhere", lease_s=600)  # the worker must wait
    worker = MediaWorker(settings, queue_redis.url, tmp_path / "worker.log")
    try:
        token = request_id.set("req-media-7")
        try:
            enqueue(media_broker(queue_redis.url), job.id)  # sent as the service sends it, in a request
        finally:
            request_id.reset(token)
        lines = lines_once(tmp_path / "worker.log", "Retrying message")
    finally:
        worker.stop()
        engine.dispose()
    assert any(line["logger"] == "dramatiq.MainProcess" for line in lines)  # Dramatiq's main process
    assert any(line["logger"].startswith("dramatiq.WorkerProcess") for line in lines)  # and a worker process
    failed = next(line for line in lines if line["message"].startswith("Failed to process message"))
    retrying = next(line for line in lines if line["message"].startswith("Retrying message"))
    for line in (failed, retrying):
        assert (line["request_id"], line["actor"], line["job"]) == ("req-media-7", "run_media_job", job.id)
        assert line["message_id"] in retrying["message"]
    assert "is held by another runner" in failed["exception"]  # the traceback inside its line


def test_a_crawl_worker_writes_json_lines_naming_the_message_and_its_crawl(json_logs, queue_redis, tmp_path):
    worker = QueueWorker(
        [str(REELLEDGER), "crawl", "worker", "--processes", "1", "--threads", "1"],
        {
            **os.environ,
            "REELLEDGER_REDIS_URL": queue_redis.url,
            "REELLEDGER_API_KEY": "rl_unused",
            "REELLEDGER_CRAWL_WORK_DIR": str(tmp_path / "downloads"),
        },
        tmp_path / "worker.log",
    )
    try:
        message: dramatiq.Message[None] = dramatiq.Message(
            queue_name=PAGES_QUEUE,
            actor_name="crawl_page",
            args=("no-such-crawl", "http://127.0.0.1:9/", 0),
            kwargs={},
            options={},
        )
        broker = make_broker(queue_redis.url)
        broker.declare_queue(PAGES_QUEUE)
        broker.enqueue(message)
        lines = lines_once(tmp_path / "worker.log", "Retrying message")
    finally:
        worker.stop()
    failed = next(line for line in lines if line["message"].startswith("Failed to process message"))
    assert (failed["message_id"], failed["actor"], failed["job"]) == (message.message_id, "crawl_page", "no-such-crawl")
    assert failed["request_id"] is None  # submitted from the command line, not in a request
    assert "no crawl job no-such-crawl" in failed["exception"]
