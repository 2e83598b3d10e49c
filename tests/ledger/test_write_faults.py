"""A database failure at any step of a write never leaves a transaction on chain without its
row, nor a stored row whose transaction is never sent; a retry with the same Idempotency-Key
then writes exactly once. Faults are real driver errors raised on the engine (the Nth
INSERT/UPDATE/DELETE or COMMIT of the writing thread), on SQLite and on PostgreSQL, against a
real Anvil node."""

from __future__ import annotations

import hashlib
import io
import json
import threading
import time
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlalchemy.exc import DBAPIError
from sqlmodel import select

from ledger.accounts import create_account
from ledger.db import session
from ledger.distributions.copies import ORPHAN_AFTER, create_distribution, get_distribution
from ledger.errors import LedgerError
from ledger.licences import LicenceTerms, grant_licence, grant_sublicence, revoke_licence
from ledger.models import (
    ChainOp,
    DistributionRecord,
    LicenceRecord,
    MediaJob,
    PlayReport,
    Role,
    SplitRecord,
    Work,
    WorkKind,
)
from ledger.reports.blocks import item_blocks, items_of
from ledger.reports.ingest import ReportHeader, ingest
from ledger.service import Ledger
from ledger.splits import set_split
from ledger.works import WorkMeta, register_work
from tests.helpers.settings import make_settings
from tests.helpers.write_faults import Faults, events, fault_every_step, fault_figures, rows, settle  # noqa: F401  (figures with -s)


@pytest.fixture
def studio(any_db_ledger):
    ledger = any_db_ledger
    owner = create_account(
        ledger.engine, ledger.keys, name=f"studio-{uuid.uuid4().hex[:6]}", role=Role.rights_holder
    ).account
    platform = create_account(
        ledger.engine, ledger.keys, name=f"platform-{uuid.uuid4().hex[:6]}", role=Role.platform
    ).account
    view = register_work(
        ledger, owner, sha256=hashlib.sha256(uuid.uuid4().bytes).digest(), meta=WorkMeta("Film", WorkKind.film)
    )
    assert view.status == "confirmed"
    return ledger, owner, platform, view.work.work_id


def test_a_database_failure_at_any_step_of_a_licence_grant_sends_nothing_without_its_row(studio):
    ledger, owner, platform, work_id = studio
    now = int(time.time())
    terms = LicenceTerms(platform.id, ["CN"], ["streaming"], now - 60, now + 86_400, sublicensable=True)
    steps = fault_every_step(
        ledger,
        "licence",
        lambda key: grant_licence(ledger, owner, work_id, terms, idempotency_key=key),
        lambda key: rows(ledger, LicenceRecord, idempotency_key=key),
        lambda: events(ledger, "LicenseRegistry", "LicenseGranted"),
    )
    assert "INSERT chain_op" in steps and "INSERT licence" in steps


def test_a_database_failure_at_any_step_of_a_sublicence_sends_nothing_without_its_row(studio):
    ledger, owner, platform, work_id = studio
    now = int(time.time())
    parent = grant_licence(
        ledger,
        owner,
        work_id,
        LicenceTerms(platform.id, ["CN"], ["streaming"], now - 60, now + 86_400, sublicensable=True),
        idempotency_key="parent",
    )
    reseller = create_account(
        ledger.engine, ledger.keys, name=f"reseller-{uuid.uuid4().hex[:6]}", role=Role.platform
    ).account
    terms = LicenceTerms(reseller.id, ["CN"], ["streaming"], now - 30, now + 3_600)
    grant_sublicence(
        ledger, platform, parent.record.id, terms, idempotency_key="first"
    )  # approves the service for the platform
    fault_every_step(
        ledger,
        "sublicence",
        lambda key: grant_sublicence(ledger, platform, parent.record.id, terms, idempotency_key=key),
        lambda key: rows(ledger, LicenceRecord, idempotency_key=key),
        lambda: events(ledger, "LicenseRegistry", "LicenseGranted"),
    )


def test_a_database_failure_at_any_step_of_a_split_sends_nothing_without_its_row(studio):
    ledger, owner, platform, work_id = studio
    payees = [(owner.address, 6_000), (platform.address, 4_000)]
    fault_every_step(
        ledger,
        "split",
        lambda key: set_split(ledger, owner, work_id, payees, effective_from=0, idempotency_key=key),
        lambda key: rows(ledger, SplitRecord, idempotency_key=key),
        lambda: events(ledger, "SplitRegistry", "SplitVersionSet"),
    )


def test_a_database_failure_at_any_step_of_a_first_registration_sends_nothing_without_its_row(any_db_ledger):
    """Each attempt is a new studio's first work, so the operator approval's steps fail too."""
    ledger = any_db_ledger
    studios: dict[str, object] = {}
    contents: dict[str, bytes] = {}

    def attempt(key):
        owner = studios.setdefault(
            key,
            create_account(
                ledger.engine, ledger.keys, name=f"studio-{uuid.uuid4().hex[:8]}", role=Role.rights_holder
            ).account,
        )
        sha = contents.setdefault(key, hashlib.sha256(key.encode() + uuid.uuid4().bytes).digest())
        return register_work(
            ledger, owner, sha256=sha, meta=WorkMeta(f"Film {key}", WorkKind.film), idempotency_key=key
        )

    steps = fault_every_step(
        ledger,
        "work",
        attempt,
        lambda key: rows(ledger, Work, idempotency_key=key),
        lambda: events(ledger, "WorkRegistry", "WorkRegistered"),
    )
    assert steps.count("COMMIT") >= 3  # the approval's record and sending, then the work's
    approvals = events(ledger, "WorkRegistry", "OperatorSet")
    assert approvals == len(studios)  # each studio approved the service once, however its writes failed


def test_a_play_report_anchoring_fails_at_any_step_and_nothing_is_anchored_without_its_report(studio):
    """The report's id is the platform's retry key: sending it again after a failure stores and anchors it once."""
    ledger, owner, platform, work_id = studio
    start = date.today() - timedelta(days=10)
    first_day = (start - date(1970, 1, 1)).days
    body = json.dumps(
        [
            {
                "work": work_id,
                "territory": "CN",
                "date": str(start + timedelta(days=i)),
                "plays": 100 + i,
                "valid_plays": 90 + i,
                "watch_minutes": 3_000,
                "ad_revenue": 1_234,
                "currency": "CNY",
            }
            for i in range(3)
        ]
    ).encode()

    def attempt(key):
        header = ReportHeader(report_id=key, first_day=first_day, end_day=first_day + 3, currency="CNY")

        def source(h):
            return item_blocks(items_of("application/json", io.BytesIO(body)), h.currency, h.first_day, h.end_day)

        return ingest(ledger, platform, header, source=source, signature=None)

    steps = fault_every_step(
        ledger,
        "report",
        attempt,
        lambda key: rows(ledger, PlayReport, report_id=key),
        lambda: events(ledger, "SettlementRegistry", "ReportAnchored"),
    )
    assert "UPDATE play_report" in steps


def test_a_licence_the_database_cannot_store_never_reaches_the_chain(studio):
    """The probe's case: an end time past BIGINT fails at the licence's INSERT, after its outbox
    op was recorded; on SQLite the op used to be committed on its own and sent."""
    ledger, owner, platform, work_id = studio
    granted, nonce = (
        events(ledger, "LicenseRegistry", "LicenseGranted"),
        ledger.chain.w3.eth.get_transaction_count(ledger.chain.signer),
    )
    with session(ledger.engine) as db:
        ops = db.exec(select(func.count()).select_from(ChainOp)).one()
    terms = LicenceTerms(platform.id, ["CN"], ["streaming"], int(time.time()) - 60, 2**64 - 1)
    with pytest.raises((DBAPIError, OverflowError, LedgerError)):
        grant_licence(ledger, owner, work_id, terms, idempotency_key="far-future")
    time.sleep(1)  # several reconciler passes
    settle(ledger)
    with session(ledger.engine) as db:
        assert db.exec(select(func.count()).select_from(ChainOp)).one() == ops
    assert rows(ledger, LicenceRecord, idempotency_key="far-future") == 0
    assert events(ledger, "LicenseRegistry", "LicenseGranted") == granted
    assert ledger.chain.w3.eth.get_transaction_count(ledger.chain.signer) == nonce


@pytest.fixture(params=["sqlite", "postgresql"])
def short_lease_ledger(request, tmp_path):
    """A ledger whose media jobs are taken over 3 s after their runner fell silent (30 s by
    default): a fault that kills a job's step costs the retry that much waiting."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    running = Ledger(make_settings(tmp_path / "data", url, media_job_lease=3.0)).start()
    yield running
    running.stop()


@pytest.fixture
def chelsea(short_lease_ledger, tmp_path):
    """A studio's registered photograph and a platform to distribute it to; `distribute(key)` asks
    for a distribution of it with that Idempotency-Key."""
    import cv2
    from skimage import data

    ledger = short_lease_ledger
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(data.chelsea(), cv2.COLOR_RGB2BGR))
    master = encoded.tobytes()
    studio = create_account(ledger.engine, ledger.keys, name="studio", role=Role.rights_holder).account
    create_account(ledger.engine, ledger.keys, name="streamer", role=Role.platform)
    digest = hashlib.sha256(master).digest()
    work_id = register_work(ledger, studio, sha256=digest, meta=WorkMeta("Chelsea", WorkKind.film)).work.work_id

    def distribute(key):
        upload = tmp_path / f"{key}.png"
        upload.write_bytes(master)
        return create_distribution(
            ledger, studio, work_id, platform="streamer", master=upload, master_sha256=digest, idempotency_key=key
        )

    return ledger, studio, distribute


def test_a_distribution_anchoring_fails_at_any_step_and_nothing_is_anchored_without_its_record(chelsea):
    """Its record is stored and anchored by the media job: the job's writes fail too, one at a
    time; a job whose record could not be stored runs again, so every distribution ends anchored once."""
    ledger, studio, distribute = chelsea

    def attempt(key):
        view = distribute(key)
        deadline = time.monotonic() + 60
        while (view := get_distribution(ledger, studio, view.dist.id)).dist.op_id is None:
            assert view.status != "failed", view.error
            assert time.monotonic() < deadline, "the copy was never recorded for anchoring"
            time.sleep(0.1)
        return view

    def stored(key):
        with session(ledger.engine) as db:
            return db.exec(
                select(func.count())
                .select_from(DistributionRecord)
                .where(DistributionRecord.idempotency_key == key, DistributionRecord.op_id.is_not(None))
            ).one()

    steps = fault_every_step(
        ledger,
        "distribution",
        attempt,
        stored,
        lambda: events(ledger, "DistributionRegistry", "DistributionAnchored"),
        also=lambda: threading.current_thread().name.startswith("media"),
    )
    assert "INSERT distribution" in steps and "INSERT chain_op" in steps


def test_a_distribution_whose_job_row_failed_is_made_by_the_leaders_pass_though_its_client_never_asks_again(
    chelsea,
):
    """The request stored the distribution and its master, then failed to write the marking job's
    row; the client gives up. The leader's periodic pass gives it a job once it has had none for
    ORPHAN_AFTER, well before any restart: the copy is made and anchored once."""
    ledger, studio, distribute = chelsea
    faults = Faults(ledger.engine)
    with faults.watching() as counted:
        first = distribute("steps").dist.id
    job_row = counted.steps.index("INSERT media_job") + 1
    with faults.watching(fail_at=job_row):
        with pytest.raises((DBAPIError, LedgerError)):
            distribute("given-up")
    assert faults.fired == "INSERT media_job"
    failed_at = time.monotonic()
    with session(ledger.engine) as db:
        dist = db.exec(select(DistributionRecord).where(DistributionRecord.idempotency_key == "given-up")).one()
    assert rows(ledger, MediaJob, distribution_id=dist.id) == 0  # the orphan: stored, without a job

    bound = ORPHAN_AFTER.total_seconds() + 30  # the grace, the pass's interval, the leader's poll, the marking
    while (view := get_distribution(ledger, studio, dist.id)).status != "ready":
        assert view.status != "failed", view.error
        assert time.monotonic() - failed_at < bound, f"still {view.status} {bound:.0f} s after its job's row failed"
        time.sleep(0.2)
    assert rows(ledger, MediaJob, distribution_id=dist.id) == 1
    assert get_distribution(ledger, studio, first).status == "ready"  # its own job made it, long since
    settle(ledger)
    assert events(ledger, "DistributionRegistry", "DistributionAnchored") == 2  # "steps" and "given-up", once each


def test_a_revocation_fails_at_any_step_and_nothing_is_revoked_on_chain_without_its_record(studio):
    """A revocation's key is its licence: revoking it again after a failure revokes it once."""
    ledger, owner, platform, work_id = studio
    now = int(time.time())
    pool = [
        grant_licence(
            ledger,
            owner,
            work_id,
            LicenceTerms(platform.id, ["CN"], ["streaming"], now - 60, now + 86_400 + i),
            idempotency_key=f"to-revoke-{i}",
        ).record.id
        for i in range(16)
    ]
    assigned: dict[str, int] = {}

    def attempt(key):
        if key not in assigned:  # a retry revokes the same licence again
            assigned[key] = pool.pop()
        return revoke_licence(ledger, owner, assigned[key])

    def stored(key):
        with session(ledger.engine) as db:
            return int(db.get(LicenceRecord, assigned[key]).revoke_op_id is not None)

    steps = fault_every_step(
        ledger, "revocation", attempt, stored, lambda: events(ledger, "LicenseRegistry", "LicenseRevoked")
    )
    assert "UPDATE licence" in steps
