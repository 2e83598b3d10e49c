"""Registering a video master as a job (POST /works/jobs): the upload is stored and answered at
once (202) with a job that hashes its frames and registers the work, followed at GET /jobs/{id}. The work comes
out with the fingerprint and frame hashes a synchronous registration computes. Inline (no
Redis, the embedded default) the service runs the job itself; with `media_jobs = "queue"` a
real `reelledger media worker` process takes it from a real Redis, and a worker killed with
SIGKILL in the middle of the job leaves it to the next worker, which finishes it once. A
distribution's copy is marked the same way, as a job of its own.

Media: short low-resolution footage from scikit-image's photographs (watermark.testvideos)."""

from __future__ import annotations

import hashlib
import signal
import time

import numpy as np
import pytest
from sqlmodel import col, select

from ledger.db import session
from ledger.models import ChainOp, JobStatus, MediaJob, Role, Work, WorkFrames
from ledger.works import fingerprints_of
from tests.helpers.crawl import RedisServer
from tests.helpers.distributions import distribute, register, wait_ready
from tests.helpers.media_jobs import MediaWorker, register_as_job, wait_job
from tests.helpers.service import running_service
from watermark.frame_hashes import REGISTERED_VARIANTS
from watermark.hash_sequence import hash_video
from watermark.hash_stretches import MIN_SECONDS
from watermark.testvideos import photo_footage


def footage(path, seconds: float = 2.0, seed: int = 1):
    return photo_footage(path, width=320, height=180, seconds=seconds, fps=25, crf=23, seed=seed)


def assert_registered_as_synchronously(service, work_id: str, path) -> None:
    """The work holds the fingerprint and frame hashes that hashing in the request gives."""
    fingerprint, frames = fingerprints_of(path)
    assert fingerprint is not None and frames is not None
    with session(service.ledger.engine) as db:
        work = db.exec(select(Work).where(Work.work_id == work_id)).one()
        kept = db.exec(select(WorkFrames).where(WorkFrames.work_pk == work.id)).one()
    assert work.fingerprint_hashes == fingerprint.hex_hashes()
    assert kept.frames == len(frames)
    assert kept.hashes == np.ascontiguousarray(frames.hashes, dtype=np.uint8).tobytes()


def test_inline_a_long_master_is_hashed_in_stretches_as_one_read_hashes_it(tmp_path):
    """Past hash_stretches.MIN_SECONDS the service hashes a master in stretches side by side;
    the work keeps the frame hashes one read gives."""
    master = footage(tmp_path / "long.mp4", seconds=MIN_SECONDS + 4, seed=3)
    one_read = hash_video(master, REGISTERED_VARIANTS)
    with running_service(tmp_path / "data", media_poll=0.2) as service:
        _, _, studio = service.new_account(Role.rights_holder)
        done = wait_job(studio, register_as_job(studio, master, "Long").json()["id"])
        assert done["status"] == "done", done
        with session(service.ledger.engine) as db:
            work = db.exec(select(Work).where(Work.work_id == done["result"]["work_id"])).one()
            kept = db.exec(select(WorkFrames).where(WorkFrames.work_pk == work.id)).one()
    assert kept.frames == len(one_read) > 2 * MIN_SECONDS
    assert kept.hashes == np.ascontiguousarray(one_read.hashes, dtype=np.uint8).tobytes()


def register_ops(service, work_id: str) -> int:
    with session(service.ledger.engine) as db:
        ops = db.exec(select(ChainOp).where(col(ChainOp.idempotency_key).startswith(f"register-work:{work_id}")))
        return len(ops.all())


def test_inline_a_master_is_answered_with_a_job_that_registers_it(tmp_path):
    master = footage(tmp_path / "master.mp4")
    with running_service(tmp_path / "data", media_poll=0.2) as service:
        _, _, studio = service.new_account(Role.rights_holder)
        _, _, other = service.new_account(Role.rights_holder)
        _, _, auditor = service.new_account(Role.auditor)
        answered = register_as_job(studio, master, "Photographs")
        assert answered.status_code == 202, answered.text
        job = answered.json()
        assert job["kind"] == "hash_master" and job["status"] in ("queued", "running")

        assert other.get(f"/jobs/{job['id']}").status_code == 404  # each role sees only its own
        assert other.get("/jobs").json()["total"] == 0
        done = wait_job(studio, job["id"])
        assert done["status"] == "done", done
        assert done["progress"]["fraction"] == 1.0 and done["result"]["frames"] > 0
        assert auditor.get(f"/jobs/{job['id']}").json()["status"] == "done"

        work_id = done["result"]["work_id"]
        assert studio.get(f"/works/{work_id}").json()["title"] == "Photographs"
        assert_registered_as_synchronously(service, work_id, master)
        assert not list((tmp_path / "data" / "media-jobs").rglob("master"))  # the upload is not kept


def test_a_job_for_a_master_already_registered_fails_with_the_reason(tmp_path):
    master = footage(tmp_path / "master.mp4", seed=2)
    with running_service(tmp_path / "data", media_poll=0.2) as service:
        _, _, studio = service.new_account(Role.rights_holder)
        first = wait_job(studio, register_as_job(studio, master, "Once").json()["id"])
        assert first["status"] == "done"
        again = wait_job(studio, register_as_job(studio, master, "Twice").json()["id"])
        assert again["status"] == "failed" and again["error"]["code"] == "duplicate_work", again


def test_an_upload_sent_again_under_its_idempotency_key_names_the_same_job(tmp_path):
    master = footage(tmp_path / "master.mp4", seed=8)
    with running_service(tmp_path / "data", media_poll=0.2) as service:
        _, _, studio = service.new_account(Role.rights_holder)
        key = {"Idempotency-Key": "upload-1"}
        first = register_as_job(studio, master, "Once", headers=key)
        again = register_as_job(studio, master, "Once", headers=key)
        assert first.status_code == again.status_code == 202 and first.json()["id"] == again.json()["id"]
        other = register_as_job(studio, master, "Another title", headers=key)
        assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
        assert wait_job(studio, first.json()["id"])["status"] == "done"
        assert studio.get("/jobs").json()["total"] == 1


def test_a_platform_cannot_register_through_a_job(tmp_path):
    master = footage(tmp_path / "master.mp4", seed=3)
    with running_service(tmp_path / "data") as service:
        _, _, platform = service.new_account(Role.platform)
        assert register_as_job(platform, master, "Not mine").status_code == 403


@pytest.fixture
def queue_redis(tmp_path):
    server = RedisServer(tmp_path).start()
    yield server
    server.stop()


def queued_service(tmp_path, queue_redis, database_url: str | None = None):
    """Media steps on the queue; the service and its workers share the database (SQLite's file,
    or PostgreSQL's) and the data directory."""
    return running_service(
        tmp_path / "data",
        database_url,
        media_jobs="queue",
        redis_url=queue_redis.url,
        media_poll=0.2,
        media_job_lease=3.0,
    )


def test_a_queue_worker_hashes_the_master_and_the_service_registers_it(tmp_path, queue_redis):
    master = footage(tmp_path / "master.mp4", seed=4)
    with queued_service(tmp_path, queue_redis) as service:
        _, _, studio = service.new_account(Role.rights_holder)
        started = time.monotonic()
        answered = register_as_job(studio, master, "Queued")
        assert answered.status_code == 202, answered.text
        assert time.monotonic() - started < 10
        time.sleep(1.0)
        assert studio.get(f"/jobs/{answered.json()['id']}").json()["status"] == "queued"  # no worker yet
        worker = MediaWorker(service.settings, queue_redis.url, tmp_path / "worker.log")
        try:
            done = wait_job(studio, answered.json()["id"])
        finally:
            worker.stop()
        assert done["status"] == "done" and done["attempts"] == 1, done
        assert_registered_as_synchronously(service, done["result"]["work_id"], master)


def test_an_upload_is_answered_at_once_while_redis_is_away_and_its_job_sent_once_it_is_back(tmp_path, queue_redis):
    master = footage(tmp_path / "master.mp4", seed=7)
    with queued_service(tmp_path, queue_redis) as service:
        _, _, studio = service.new_account(Role.rights_holder)
        queue_redis.stop()
        started = time.monotonic()
        answered = register_as_job(studio, master, "During an outage")
        assert answered.status_code == 202, answered.text
        assert time.monotonic() - started < 10  # not held until Redis is back
        queue_redis.start()
        worker = MediaWorker(service.settings, queue_redis.url, tmp_path / "worker.log")
        try:
            done = wait_job(studio, answered.json()["id"])
        finally:
            worker.stop()
        assert done["status"] == "done", done


def test_a_worker_killed_mid_job_leaves_it_to_the_next_which_finishes_it_once(tmp_path, queue_redis, postgres_url):
    master = footage(tmp_path / "master.mp4", seconds=40, seed=5)
    with queued_service(tmp_path, queue_redis, postgres_url) as service:
        _, _, studio = service.new_account(Role.rights_holder)
        job_id = register_as_job(studio, master, "Killed").json()["id"]
        done = killed_mid_job_then_finished(service, studio, job_id, queue_redis.url, tmp_path)
        assert done["status"] == "done" and done["attempts"] == 2, done
        work_id = done["result"]["work_id"]
        assert_registered_as_synchronously(service, work_id, master)
        assert register_ops(service, work_id) == 1  # registered once, sent to the chain once


def killed_mid_job_then_finished(service, client, job_id: int, redis_url: str, logs) -> dict:
    """A worker frozen (SIGSTOP) as soon as it runs the job, then killed (SIGKILL); a second
    worker started afterwards; the job followed to its end."""
    first = MediaWorker(service.settings, redis_url, logs / "first.log")
    deadline = time.monotonic() + 60
    while (row := _row(service, job_id)).status != JobStatus.running:
        assert row.status == JobStatus.queued, "the job ended before the worker was killed"
        assert time.monotonic() < deadline, "the worker never started the job"
        time.sleep(0.01)
    first.signal(signal.SIGSTOP)  # frozen mid-step at once, then killed
    assert _row(service, job_id).status == JobStatus.running
    first.kill()
    second = MediaWorker(service.settings, redis_url, logs / "second.log")
    try:
        return wait_job(client, job_id, timeout=180)
    finally:
        second.stop()


def _row(service, job_id: int) -> MediaJob:
    with session(service.ledger.engine) as db:
        return db.exec(select(MediaJob).where(MediaJob.id == job_id)).one()


def test_a_copy_marked_by_a_killed_worker_is_finished_by_the_next_and_anchored_once(tmp_path, queue_redis):
    master = photo_footage(tmp_path / "master.mp4", width=640, height=360, seconds=4, seed=6)
    with queued_service(tmp_path, queue_redis) as service:
        _, _, studio = service.new_account(Role.rights_holder)
        _, _, platform = service.new_account(Role.platform)
        platform_name = platform.get("/accounts/me").json()["name"]
        work_id = register(studio, master.read_bytes(), "Marked", service)
        dist = distribute(studio, work_id, master.read_bytes(), platform_name)
        assert dist.status_code == 202, dist.text
        job_id = dist.json()["progress"]["job_id"]
        assert studio.get(f"/jobs/{job_id}").json()["kind"] == "mark_copy"
        assert platform.get(f"/jobs/{job_id}").status_code == 404  # the owner's job, not the platform's

        done = killed_mid_job_then_finished(service, studio, job_id, queue_redis.url, tmp_path)
        assert done["status"] == "done" and done["attempts"] == 2, done
        ready = wait_ready(studio, dist.json()["id"])
        assert ready["status"] == "ready", ready
        copy = studio.get(f"/distributions/{ready['id']}/copy")
        assert "0x" + hashlib.sha256(copy.content).hexdigest() == ready["copy"]["sha256"]
        with session(service.ledger.engine) as db:
            anchors = db.exec(select(ChainOp).where(ChainOp.label == "DistributionRegistry.anchor")).all()
        assert len(anchors) == 1
