"""The job rows on both databases: one runner holds a step at a time, a lapsed lease is taken
over and its old holder can store nothing, a step done is not taken again, an Idempotency-Key
names one job, and the gauge counts what is queued and running."""

from __future__ import annotations

import secrets
import time

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ledger.accounts import create_account
from ledger.db import make_engine, migrate
from ledger.keys import KeyStore
from ledger.media_jobs import records
from ledger.metrics import Metrics, OutboxCollector
from ledger.models import JobStatus, Role


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request, tmp_path):
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else f"sqlite:///{tmp_path}/db"
    engine = make_engine(url)
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def owner(engine):
    return create_account(engine, KeyStore(engine, secrets.token_bytes(32)), name="studio", role=Role.rights_holder)


def new_job(engine, owner, key=None):
    return records.create(engine, kind="hash_master", owner_id=owner.account.id, request={}, idempotency_key=key)


def test_a_step_is_one_runners_until_its_lease_lapses_then_the_next_takes_it_over(engine, owner):
    job, _ = new_job(engine, owner)
    assert records.take(engine, job.id, JobStatus.running, "first", lease_s=0.5) is not None
    assert records.take(engine, job.id, JobStatus.running, "second", lease_s=0.5) is None  # held
    time.sleep(0.6)  # the first runner went silent
    taken = records.take(engine, job.id, JobStatus.running, "second", lease_s=30)
    assert taken is not None and taken.attempts == 2
    assert not records.progress(engine, job.id, "first", 5, 10, 30)  # the old holder is told to stop
    assert not records.media_done(engine, job.id, "first", {"from": "first"})
    assert records.media_done(engine, job.id, "second", {"from": "second"})
    assert records.take(engine, job.id, JobStatus.running, "third", lease_s=30) is None  # done: not again


def test_the_ledger_step_ends_the_job_once(engine, owner):
    job, _ = new_job(engine, owner)
    records.take(engine, job.id, JobStatus.running, "worker", lease_s=30)
    records.media_done(engine, job.id, "worker", {})
    assert records.unfinished(engine, JobStatus.finishing) == [job.id]
    assert records.take(engine, job.id, JobStatus.finishing, "service-a", lease_s=30) is not None
    assert records.take(engine, job.id, JobStatus.finishing, "service-b", lease_s=30) is None
    assert records.finish(engine, job.id, "service-a", {"work_id": "0x01"})
    assert not records.finish(engine, job.id, "service-a", {"work_id": "0x02"})
    assert records.unfinished(engine, JobStatus.finishing) == []


def test_an_idempotency_key_names_one_job(engine, owner):
    first, created = new_job(engine, owner, key="k-1")
    again, created_again = new_job(engine, owner, key="k-1")
    assert created and not created_again and again.id == first.id


def test_the_gauge_counts_queued_and_running_jobs(engine, owner):
    jobs = [new_job(engine, owner)[0] for _ in range(4)]
    records.take(engine, jobs[0].id, JobStatus.running, "w", lease_s=30)
    records.take(engine, jobs[1].id, JobStatus.running, "w", lease_s=30)
    records.media_done(engine, jobs[1].id, "w", {})  # its ledger step still to come: running
    records.fail(engine, jobs[2].id, "media_failed", "not a video")
    assert records.active_counts(engine) == {"queued": 1, "running": 2}
    metrics = Metrics()
    metrics.register(OutboxCollector(engine, chain_id=31337))
    scraped = {
        sample.labels["state"]: sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
        if sample.name == "reelledger_media_jobs"
    }
    assert scraped == {"queued": 1, "running": 2}  # what GET /metrics shows
