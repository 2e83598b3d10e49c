"""Media jobs over HTTP: a master uploaded as a job (POST /works/jobs), the job followed
to its end, and a `reelledger media worker` process on a test's own Redis."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from tests.helpers.crawl import QueueWorker
from tests.helpers.service import wait_status

REELLEDGER = Path(sys.executable).parent / "reelledger"


def register_as_job(client, path: Path, title: str, headers: dict | None = None):
    with open(path, "rb") as fh:
        return client.post(
            "/works/jobs",
            files={"file": (path.name, fh, "video/mp4")},
            data={"metadata": json.dumps({"title": title, "kind": "film"})},
            headers=headers or {},
        )


def wait_job(client, job_id: int, timeout: float = 120) -> dict:
    return wait_status(client, f"/jobs/{job_id}", ("done", "failed"), timeout, every=0.1)


class MediaWorker(QueueWorker):
    """`reelledger media worker` with the service's database, data directory and master key."""

    def __init__(self, settings, redis_url: str, log: Path) -> None:
        env = dict(
            os.environ,
            REELLEDGER_DATA_DIR=str(settings.data_dir),
            REELLEDGER_DATABASE_URL=settings.resolved_database_url,
            REELLEDGER_MASTER_KEY=settings.master_key,
            REELLEDGER_REDIS_URL=redis_url,
            REELLEDGER_MEDIA_JOB_LEASE=str(settings.media_job_lease),
            REELLEDGER_QUEUE_HEARTBEAT_MS="2000",
            REELLEDGER_QUEUE_MAINTENANCE_CHANCE="1000000",
            dramatiq_restart_delay="500",
        )
        super().__init__([str(REELLEDGER), "media", "worker", "--processes", "1", "--threads", "1"], env, log)
