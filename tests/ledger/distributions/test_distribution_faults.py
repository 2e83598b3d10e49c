"""Faults while a distribution's copy is made: the service stopped in the middle of marking,
and the chain node down when the record is anchored. Nothing is lost, nothing is anchored
twice. Footage: skimage.data photographs turned into video here (watermark.testvideos)."""

from __future__ import annotations

import hashlib
import shutil
import time

import pytest
from sqlmodel import select

from ledger.accounts import create_account
from ledger.db import session
from ledger.distributions.copies import create_distribution, get_distribution
from ledger.models import ChainOp, DistributionRecord, DistributionStatus, Role, WorkKind
from ledger.service import Ledger
from ledger.works import WorkMeta, register_work
from watermark.files import detect_file
from watermark.testvideos import photo_footage


@pytest.fixture(scope="module")
def footage(tmp_path_factory):
    return photo_footage(tmp_path_factory.mktemp("media") / "master.mp4", width=640, height=360, seconds=8)


def _setup(ledger: Ledger, master):
    studio = create_account(ledger.engine, ledger.keys, name="studio", role=Role.rights_holder).account
    create_account(ledger.engine, ledger.keys, name="streamer", role=Role.platform)
    digest = hashlib.sha256(master.read_bytes()).digest()
    view = register_work(ledger, studio, sha256=digest, meta=WorkMeta("Photographs", WorkKind.film))
    assert view.status == "confirmed"
    return studio, view.work.work_id, digest


def _wait(ledger, account, dist_id, status, timeout=60.0):
    deadline = time.monotonic() + timeout
    while (view := get_distribution(ledger, account, dist_id)).status != status:
        assert view.status != "failed", view.error
        assert time.monotonic() < deadline, f"still {view.status}"
        time.sleep(0.1)
    return view


def test_a_stop_in_the_middle_of_marking_resumes_at_the_next_start(settings, footage, tmp_path):
    ledger = Ledger(settings).start()
    studio, work_id, digest = _setup(ledger, footage)
    upload = tmp_path / "upload.mp4"
    shutil.copy(footage, upload)
    view = create_distribution(ledger, studio, work_id, platform="streamer", master=upload, master_sha256=digest)
    dist_id = view.dist.id
    deadline = time.monotonic() + 30
    while get_distribution(ledger, studio, dist_id).dist.frames_done == 0:  # marking has begun
        assert time.monotonic() < deadline
        time.sleep(0.05)
    ledger.stop()
    with session(ledger.engine) as db:
        interrupted = db.get(DistributionRecord, dist_id)
    assert interrupted.status == DistributionStatus.embedding and interrupted.op_id is None
    assert not (settings.data_dir / "distributions" / str(dist_id) / "copy.mp4").exists()

    again = Ledger(settings).start()  # finds the stored master and makes the copy
    try:
        done = _wait(again, studio, dist_id, "ready")
        copy = settings.data_dir / "distributions" / str(dist_id) / "copy.mp4"
        assert "0x" + hashlib.sha256(copy.read_bytes()).hexdigest() == done.dist.copy_sha256
        assert not (settings.data_dir / "distributions" / str(dist_id) / "master").exists()
        key = again.watermark_keys.key_for(studio.address)
        assert detect_file(copy, [key]).payload == done.dist.payload
        with session(again.engine) as db:
            anchors = db.exec(select(ChainOp).where(ChainOp.label == "DistributionRegistry.anchor")).all()
        assert len(anchors) == 1
    finally:
        again.stop()


def test_the_chain_down_when_anchoring_delays_the_record_and_anchors_it_once(settings, footage, tmp_path):
    ledger = Ledger(settings.model_copy(update={"reconcile_interval": 3600})).start()  # nothing restarts the node
    try:
        studio, work_id, digest = _setup(ledger, footage)
        upload = tmp_path / "upload.mp4"
        shutil.copy(footage, upload)
        ledger.chain.node.kill()
        view = create_distribution(ledger, studio, work_id, platform="streamer", master=upload, master_sha256=digest)
        waiting = _wait(ledger, studio, view.dist.id, "anchoring")
        assert waiting.dist.record_hash and waiting.op.status.value in ("queued", "pending")
        ledger.chain.ensure_node()  # what the reconciler does on its next pass
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ledger.chain.outbox.reconcile()
            if get_distribution(ledger, studio, view.dist.id).status == "ready":
                break
            time.sleep(0.1)
        ready = get_distribution(ledger, studio, view.dist.id)
        assert ready.status == "ready"
        anchored, _, _ = (
            ledger.chain.contract("DistributionRegistry")
            .functions.anchorOf(bytes.fromhex(work_id[2:]), ready.dist.payload)
            .call()
        )
        assert "0x" + anchored.hex() == ready.dist.record_hash
    finally:
        ledger.stop()
