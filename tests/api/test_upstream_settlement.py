"""A derivative's period pays its parents' payees first, over real HTTP, on SQLite and PostgreSQL:
upstream lines verify like any other, the audit recomputes them from the edges the period
recorded, and an upstream payee sees what reached them through each derivative."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import select

from ledger.db import session
from ledger.merkle import verify
from ledger.models import DerivativeKind, LicenceRecord, Role, SettlementPeriod, WorkParent
from ledger.settlement.lines import LINE_TYPES
from ledger.settlement.periods import advance_periods
from tests.helpers.derivatives import declare_parent, grant_derive_licence
from tests.helpers.service import running_service, settle
from tests.helpers.settlement import (
    Deal,
    Derivative,
    close,
    line_leaf,
    make_deal,
    make_derivative,
    post_report,
    register_priced_work,
    rows,
    wait_status,
)


def settled_re_edit(service, report_id: str) -> tuple[Deal, Derivative, dict]:
    """A drama split 70 / 30 between its producer and investor, re-edited by a studio at 30 %, both
    reported by the platform for a week and settled: the deal, the re-edit and the finalised period."""
    deal = make_deal(service)
    reedit = make_derivative(service, deal, deal.work_id, deal.owner, share_bps=3000)
    report = post_report(deal, report_id, rows(deal) + rows(deal, work_id=reedit.work_id))
    assert report.status_code == 201, report.text
    closed = close(deal)
    assert closed.status_code == 201, closed.text
    return deal, reedit, wait_status(deal.platform, closed.json()["period_id"], "finalised")


def record_share_in_inputs(service, period_id: str, share_bps: int) -> None:
    """Rewrite the share of every edge the period recorded in its inputs."""
    with session(service.ledger.engine) as db:
        stored = db.exec(select(SettlementPeriod).where(SettlementPeriod.period_id == period_id)).one()
        inputs = dict(stored.inputs)
        inputs["upstream"] = {
            work: [{**e, "share_bps": share_bps} for e in edges] for work, edges in inputs["upstream"].items()
        }
        stored.inputs = inputs
        db.add(stored)
        db.commit()


def test_a_re_edit_at_30_percent_pays_the_drama_s_producer_and_investor_lines_that_verify_and_audit(
    settlement_service,
):
    service = settlement_service
    deal, reedit, period = settled_re_edit(service, "weekly-drama-and-re-edit")
    period_id = period["period_id"]
    _, _, auditor = service.new_account(Role.auditor)

    # Each work earns 27,896 (see test_settlement); the drama takes 30 % of the re-edit's: 8,368,
    # 5,858 / 2,510 by its split; the studio keeps 19,528. Nothing is created or lost.
    assert period["total"] == str(2 * 27_896)
    producer = deal.owner.get(f"/periods/{period_id}/statement").json()
    assert [(line["amount"], line["work_id"], line["via_work_id"]) for line in producer["lines"]] == [
        ("19527", deal.work_id, None),
        ("5858", deal.work_id, reedit.work_id),
    ]
    assert (producer["lines"][1]["work_title"], producer["lines"][1]["via_title"]) == ("Drama", "Re-edit")
    investor = deal.second_payee.get(f"/periods/{period_id}/statement").json()
    assert [(line["amount"], line["via_work_id"]) for line in investor["lines"]] == [
        ("8369", None),
        ("2510", reedit.work_id),
    ]
    studio = reedit.maker.get(f"/periods/{period_id}/statement").json()
    assert [(line["amount"], line["work_id"], line["via_work_id"]) for line in studio["lines"]] == [
        ("19528", reedit.work_id, None)
    ]
    upstream_line = investor["lines"][1]
    proof = [bytes.fromhex(p[2:]) for p in upstream_line["proof"]]
    assert verify(bytes.fromhex(investor["root"][2:]), LINE_TYPES, line_leaf(upstream_line), proof)
    registry = service.ledger.chain.contract("SettlementRegistry")
    assert registry.functions.verifyLine(bytes.fromhex(period_id[2:]), line_leaf(upstream_line), proof).call()

    funded = deal.platform.post(f"/periods/{period_id}/fund", json={})
    assert funded.status_code == 200 and funded.json()["funded"] == period["total"], funded.text
    claimed = deal.second_payee.post(f"/periods/{period_id}/lines/{upstream_line['index']}/claim")
    assert claimed.status_code == 200 and claimed.json()["chain"]["status"] == "confirmed", claimed.text

    audit = auditor.get(f"/periods/{period_id}/audit").json()
    assert audit["ok"], audit["problems"]
    statement_file = Path(service.settings.data_dir) / "investor-statement.json"
    downloaded = reelledger(
        service, "periods", "statement", period_id, "-o", str(statement_file), client=deal.second_payee
    )
    assert f"work 'Drama' ({deal.work_id[:10]}…) through derivative 'Re-edit'" in downloaded.stdout
    verified = reelledger(service, "verify", "statement", str(statement_file))
    assert "verified: 2 lines" in verified.stdout and "through derivative 'Re-edit'" in verified.stdout
    assert "identical" in reelledger(service, "audit", "period", period_id).stdout

    upstream = deal.second_payee.get("/statements/upstream").json()
    assert [(e["period_id"], e["work_id"], e["via_work_id"], e["via_title"], e["amount"]) for e in upstream] == [
        (period_id, deal.work_id, reedit.work_id, "Re-edit", "2510")
    ]
    assert reedit.maker.get("/statements/upstream").json() == []  # the studio receives nothing from derivatives
    snooping = reedit.maker.get("/statements/upstream", params={"payee": deal.second_address})
    assert snooping.status_code == 403  # each payee sees only their own
    audited = auditor.get("/statements/upstream", params={"payee": deal.second_address}).json()
    assert [e["amount"] for e in audited] == ["2510"]

    # The edge's terms changed in the database after the period used them: the audit says so.
    with session(service.ledger.engine) as db:
        edge = db.exec(select(WorkParent).where(WorkParent.licence_pk == reedit.licence_pk)).one()
        edge.share_bps = 2000
        db.add(edge)
        db.commit()
    tampered = auditor.get(f"/periods/{period_id}/audit").json()
    assert not tampered["ok"] and any("terms" in p for p in tampered["problems"]), tampered["problems"]
    refused = reelledger(service, "audit", "period", period_id, ok=False)
    assert refused.returncode != 0 and "recorded terms differ" in refused.stdout

    # The period's recorded terms changed: the recomputed lines and inputs no longer match the chain.
    record_share_in_inputs(service, period_id, 2000)
    rewritten = auditor.get(f"/periods/{period_id}/audit").json()
    assert any("differs from the chain" in p for p in rewritten["problems"]), rewritten["problems"]
    assert any("inputs no longer hash" in p for p in rewritten["problems"]), rewritten["problems"]


def test_terms_changed_consistently_in_the_database_are_flagged_against_the_chain(settlement_service):
    service = settlement_service
    _, reedit, period = settled_re_edit(service, "weekly-consistent-tamper")
    period_id = period["period_id"]
    _, _, auditor = service.new_account(Role.auditor)
    assert auditor.get(f"/periods/{period_id}/audit").json()["ok"]

    # The licence, its edge and the period's recorded inputs all say 20 % now: the database agrees with itself.
    with session(service.ledger.engine) as db:
        edge = db.exec(select(WorkParent).where(WorkParent.licence_pk == reedit.licence_pk)).one()
        licence = db.get(LicenceRecord, reedit.licence_pk)
        assert licence is not None
        edge.share_bps = licence.upstream_bps = 2000
        db.add_all([edge, licence])
        db.commit()
    record_share_in_inputs(service, period_id, 2000)
    problems = auditor.get(f"/periods/{period_id}/audit").json()["problems"]
    against_chain = [p for p in problems if "differ from the chain's" in p]
    assert len(against_chain) == 1 and "share 2000 bps" in against_chain[0], problems
    assert "(kind re_edit, share 3000 bps, minimum 0 micro per valid play)" in against_chain[0]
    assert not any("stored terms" in p for p in problems)  # the database alone finds nothing wrong
    refused = reelledger(service, "audit", "period", period_id, ok=False)
    said = " ".join(refused.stdout.split())  # the terminal's width wraps long problems
    assert refused.returncode != 0 and "differ from the chain's (kind re_edit, share 3000 bps" in said


def test_a_derivative_whose_parent_has_no_split_in_force_is_left_unsettled_with_the_reason(settlement_service):
    service = settlement_service
    deal = make_deal(service)
    _, _, orphan_owner = service.new_account(Role.rights_holder)
    orphan = register_priced_work(service, orphan_owner, None, deal.platform_id, deal.start, "Novel")
    reedit = make_derivative(service, deal, orphan, orphan_owner, share_bps=1000)
    report = post_report(deal, "weekly-orphan", rows(deal) + rows(deal, work_id=reedit.work_id))
    assert report.status_code == 201, report.text
    closed = close(deal)
    assert closed.status_code == 201, closed.text
    period = closed.json()
    assert period["total"] == "27896"  # the drama alone
    with session(service.ledger.engine) as db:
        stored = db.exec(select(SettlementPeriod).where(SettlementPeriod.period_id == period["period_id"])).one()
        assert stored.inputs["unsettled"] == {reedit.work_id: f"parent {orphan} has no split in force"}
        assert "upstream" not in stored.inputs


def reelledger(service, *args: str, client=None, ok: bool = True) -> subprocess.CompletedProcess:
    """The command line against this service, its database and its chain."""
    settings = service.settings
    env = {
        "PATH": str(Path(sys.executable).parent),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),  # this checkout's code
        "COLUMNS": "200",
        "REELLEDGER_URL": service.url,
        "REELLEDGER_DATA_DIR": str(settings.data_dir),
        "REELLEDGER_RPC_URL": service.ledger.chain.rpc_url,
        "REELLEDGER_SETTLEMENT_REGISTRY": service.ledger.chain.addresses["SettlementRegistry"],
    }
    if settings.database_url:
        env["REELLEDGER_DATABASE_URL"] = settings.database_url
    if client is not None:
        env["REELLEDGER_API_KEY"] = client.headers["Authorization"].removeprefix("Bearer ")
    done = subprocess.run(
        [str(Path(sys.executable).parent / "reelledger"), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if ok:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(params=["sqlite", "postgresql"])
def quiet_service(request, tmp_path):
    """The reconciler stays idle and writes wait a second, so the test decides when a node that went
    down comes back."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    with running_service(tmp_path / "data", url, reconcile_interval=3600, write_wait=1, dispute_window=2) as svc:
        yield svc


def test_an_edge_not_yet_confirmed_on_chain_when_the_period_closes_takes_no_share(quiet_service):
    service = quiet_service
    deal = make_deal(service)
    studio_id, studio_address, studio = service.new_account(Role.rights_holder)
    dub = register_priced_work(
        service, studio, [{"address": studio_address, "bps": 10_000}], deal.platform_id, deal.start, "Dub"
    )
    licence = grant_derive_licence(
        service, deal.owner, deal.work_id, studio_id, kinds=(DerivativeKind.dub,), share_bps=5000, territories=("CN",)
    )
    report = post_report(deal, "weekly-queued-edge", rows(deal) + rows(deal, work_id=dub))
    assert report.status_code == 201, report.text
    service.ledger.chain.node.kill()
    declared = declare_parent(studio, dub, licence["id"], DerivativeKind.dub)
    assert declared.status_code == 202 and declared.json()["chain"]["status"] in ("queued", "pending"), declared.text
    closed = close(deal)
    assert closed.status_code == 201, closed.text

    assert service.ledger.chain.ensure_node()
    settle(service.ledger.chain.outbox)  # the registration is confirmed now, after the period closed
    advance_periods(service.ledger)
    period_id = closed.json()["period_id"]
    assert wait_status(deal.platform, period_id, "committed", timeout=10)["status"] in ("committed", "finalised")
    assert studio.get(f"/works/{dub}/family").json()["parents"][0]["chain"]["status"] == "confirmed"
    lines = deal.platform.get(f"/periods/{period_id}/statement").json()["lines"]
    assert {(line["payee"], line["amount"], line["via_work_id"]) for line in lines} == {
        (deal.owner_address, "19527", None),
        (deal.second_address, "8369", None),
        (studio_address, "27896", None),
    }
