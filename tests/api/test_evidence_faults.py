"""A database failure at any step of opening a piracy case (its outbox operation, the case row,
its notices, the commit, then the anchor's signing) leaves either nothing, or the case with its
evidence anchored on chain exactly once; never an anchor without its case, never two. The
crawler's retry, the same report of the same URL, then ends with one case and one anchor.
SQLite and PostgreSQL, a real Anvil node, real HTTP on loopback."""

from __future__ import annotations

import threading

from sqlmodel import select

from ledger.db import session
from ledger.errors import Unavailable
from ledger.models import PiracyCase, Role
from ledger.piracy.cases import url_key
from tests.helpers.cases import (
    jpeg,
    leaked_copy,  # noqa: F401  (fixture)
    report,
)
from tests.helpers.write_faults import events, fault_every_step, fault_figures  # noqa: F401  (figures with -s)


def a_request_thread() -> bool:
    """FastAPI runs the service's sync work in these; its background loops have names of their own."""
    return threading.current_thread().name == "AnyIO worker thread"


def reported(response):
    """A sighting's answer as the fault harness expects it: 201 opened, 200 a sighting of the
    case a failed-but-stored attempt opened, 503 a clean refusal."""
    assert response.status_code in (200, 201, 503), response.text
    if response.status_code == 503:
        assert response.json()["error"]["code"] == "database_unavailable"
        raise Unavailable("503")
    assert response.json()["matched"] and response.json()["case"], response.text
    return response


def test_a_database_failure_at_any_step_of_opening_a_case_anchors_its_evidence_once_or_not_at_all(service, leaked_copy):  # noqa: F811
    ledger = service.ledger
    work_id, leaked, _ = leaked_copy(service)
    _, _, crawler = service.new_account(Role.crawler)
    found = jpeg(leaked)  # one copy; each attempt finds it at its own address

    def url(key: str) -> str:
        return f"http://pirate.example/anchor/{key}.jpg"

    def stored(key: str) -> int:
        """The attempt's cases, each with exactly one anchor of its bundle, and no evidence files
        kept for a case that was not stored."""
        with session(ledger.engine) as db:
            cases = db.exec(select(PiracyCase).where(PiracyCase.url_key == url_key(url(key)))).all()
            every_hash = {h.removeprefix("0x") for h in db.exec(select(PiracyCase.evidence_hash)).all()}
        for case in cases:
            anchors = ledger.chain.events(
                "EvidenceRegistry", "EvidenceAnchored", evidenceHash=bytes.fromhex(case.evidence_hash[2:])
            )
            assert len(anchors) == 1 and "0x" + anchors[0]["args"]["workId"].hex() == work_id, (key, anchors)
        evidence = ledger.settings.data_dir / "evidence"
        kept_files = {p.name for p in evidence.iterdir()} if evidence.exists() else set()
        assert kept_files == every_hash, f"{key}: the evidence files kept are not those of the stored cases"
        return len(cases)

    steps = fault_every_step(
        ledger,
        "evidence",
        lambda key: reported(report(crawler, found, url=url(key))),
        stored,
        lambda: events(ledger, "EvidenceRegistry", "EvidenceAnchored"),
        also=a_request_thread,
    )
    assert "INSERT piracy_case" in steps and "INSERT chain_op" in steps
    listed = crawler.get("/cases", params={"work_id": work_id}).json()
    assert listed["total"] == len(steps) + 1  # one case per attempt, whatever failed in it
