"""The same crawl on a real Redis task queue (Dramatiq): `reelledger crawl submit` and
`reelledger crawl worker`, against the piracy site and a real service. The job finds every
leak; a worker killed in the middle of a job leaves nothing undone and no case twice (its
messages go to the next worker); Redis stopped in the middle makes the workers wait, and the
job finishes, whole, once it is back.

Redis here is a server of our own (appendonly, as a queue's Redis must run), started and
stopped by the tests."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

from tests.helpers.crawl import QueueWorker, RedisServer
from tests.helpers.leaks import LEAK_NAMES, REELLEDGER, publish_leaks, site, world  # noqa: F401  (module fixtures)


@pytest.fixture(scope="module")
def queue_redis(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


def env_for(world, queue_redis, work_dir: Path) -> dict:
    return dict(
        os.environ,
        REELLEDGER_URL=world.service.url,
        REELLEDGER_API_KEY=world.crawler_key,
        COLUMNS="250",
        REELLEDGER_REDIS_URL=queue_redis.url,
        REELLEDGER_QUEUE_HEARTBEAT_MS="2000",
        REELLEDGER_QUEUE_MAINTENANCE_CHANCE="1000000",
        REELLEDGER_CRAWL_WORK_DIR=str(work_dir),
        dramatiq_restart_delay="500",
    )


class Worker(QueueWorker):
    def __init__(self, env: dict, log: Path) -> None:
        super().__init__([str(REELLEDGER), "crawl", "worker", "--processes", "1", "--threads", "2"], env, log)


def submit(world, queue_redis, tmp_path, urls) -> tuple[str, dict]:
    env = env_for(world, queue_redis, tmp_path / "downloads")
    (tmp_path / "seeds.txt").write_text(urls["index"] + "\n")
    done = subprocess.run(
        [
            str(REELLEDGER),
            "crawl",
            "submit",
            "--seeds",
            str(tmp_path / "seeds.txt"),
            "--interval",
            "0.02",
            "--deadline",
            "4",
            "--max-media-mb",
            "64",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.strip(), env


def wait_for_cases(world, urls, timeout: float = 240) -> dict:
    wanted = {urls[name] for name in LEAK_NAMES}
    deadline = time.monotonic() + timeout
    while True:
        cases = {
            c["url"]: c
            for c in world.crawler.get("/cases", params={"limit": 500}).json()["items"]
            if c["url"] in wanted
        }
        if set(cases) == wanted:
            return cases
        assert time.monotonic() < deadline, f"found {sorted(cases)} of {sorted(wanted)}"
        time.sleep(0.5)


def job_status(env, job_id: str, wait: bool = True) -> str:
    args = [str(REELLEDGER), "crawl", "status", job_id] + (["--wait"] if wait else [])
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_a_worker_finds_every_leak_and_traces_it(world, site, queue_redis, tmp_path):
    urls = publish_leaks(site, world, "/queued")
    job_id, env = submit(world, queue_redis, tmp_path, urls)
    worker = Worker(env, tmp_path / "worker.log")
    try:
        cases = wait_for_cases(world, urls)
        assert all(c["leak"]["platform"]["name"] == world.platform_name for c in cases.values())
        assert urls["unrelated"] not in cases
        out = job_status(env, job_id)
        assert out.startswith("finished") and "5 new cases" in out, out
        assert not [r for r in site.log if r.path.startswith("/private")]
    finally:
        worker.stop()
    assert not any((tmp_path / "downloads").rglob("*.*"))


def test_a_worker_killed_mid_job_loses_nothing_and_duplicates_nothing(world, site, queue_redis, tmp_path):
    urls = publish_leaks(site, world, "/killed")
    job_id, env = submit(world, queue_redis, tmp_path, urls)
    first = Worker(env, tmp_path / "first.log")
    deadline = time.monotonic() + 120
    while not any(r.path.startswith("/killed/media") or r.path.startswith("/killed/dl") for r in site.log):
        assert time.monotonic() < deadline, "the worker never fetched a medium"
        time.sleep(0.05)
    first.kill()  # in the middle of examining media
    second = Worker(env, tmp_path / "second.log")
    try:
        cases = wait_for_cases(world, urls)
        assert len(cases) == len(LEAK_NAMES)
        assert world.crawler.get("/cases").json()["total"] == len(
            {c["url"] for c in world.crawler.get("/cases", params={"limit": 500}).json()["items"]}
        )  # one case per URL, whatever was reported twice
    finally:
        second.stop()


def test_redis_stopped_mid_job_makes_workers_wait_and_loses_nothing(world, site, queue_redis, tmp_path):
    urls = publish_leaks(site, world, "/outage")
    job_id, env = submit(world, queue_redis, tmp_path, urls)
    worker = Worker(env, tmp_path / "worker.log")
    try:
        deadline = time.monotonic() + 120
        while not any(r.path.startswith("/outage/watch") for r in site.log):
            assert time.monotonic() < deadline, "the worker never started"
            time.sleep(0.05)
        queue_redis.stop()
        time.sleep(4)
        assert worker.proc.poll() is None  # waiting, not dead
        queue_redis.start()
        # Whatever was in flight as Redis went down is this same worker's to finish: it does
        # not wait for a successor to take over its stranded messages.
        wait_for_cases(world, urls)
        assert job_status(env, job_id).startswith("finished")
    finally:
        worker.stop()
