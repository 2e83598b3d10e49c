"""One process at a time leads a background loop, chosen by PostgreSQL's advisory locks; when
the leader's session ends (its process died), another process leads within its poll interval,
and the old leader, finding its connection gone, stops at once. On SQLite the one process leads."""

from __future__ import annotations

import time
from collections import Counter

import psycopg

from ledger.advisory import NAMESPACE, lock_key
from ledger.db import make_engine
from ledger.leadership import Leadership

POLL = 0.1


def wait_for(condition, timeout: float = 10.0) -> float:
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, "not in time"
        time.sleep(0.02)
    return time.monotonic() - started


def holder_of(admin_dsn: str, database_url: str, name: str) -> int | None:
    """The server process of the session holding the loop's lock in this test's database."""
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = %s AND objid = %s"
            " AND database = (SELECT oid FROM pg_database WHERE datname = %s)",
            (NAMESPACE, lock_key(name) & 0xFFFFFFFF, database_url.rsplit("/", 1)[1]),
        ).fetchone()
    return row[0] if row else None


def test_one_process_leads_and_another_takes_over_when_its_session_ends(postgres_url, postgres_server):
    runs: Counter = Counter()
    first, second = (Leadership(make_engine(postgres_url), poll=POLL) for _ in range(2))
    try:
        first.loop("reconcile", 0.02, lambda: runs.update(["first"]))
        wait_for(lambda: first.leads("reconcile"))
        second.loop("reconcile", 0.02, lambda: runs.update(["second"]))
        time.sleep(10 * POLL)
        assert runs["first"] > 0 and runs["second"] == 0 and not second.leads("reconcile")

        leader = holder_of(postgres_server, postgres_url, "reconcile")
        with psycopg.connect(postgres_server, autocommit=True) as conn:  # as if its process were killed
            conn.execute("SELECT pg_terminate_backend(%s)", (leader,))
        took = wait_for(lambda: second.leads("reconcile"))
        assert took < 10 * POLL, took
        wait_for(lambda: not first.leads("reconcile"))
        before = runs.copy()
        time.sleep(10 * POLL)
        assert runs["first"] == before["first"] and runs["second"] > before["second"]
        assert holder_of(postgres_server, postgres_url, "reconcile") not in (None, leader)
    finally:
        first.stop()
        second.stop()


def test_a_stopped_leader_hands_over_and_each_loop_has_its_own_leader(postgres_url):
    first, second = (Leadership(make_engine(postgres_url), poll=POLL) for _ in range(2))
    try:
        first.loop("reconcile", 1, lambda: None)
        wait_for(lambda: first.leads("reconcile"))
        second.loop("reconcile", 1, lambda: None)
        second.loop("deliver", 1, lambda: None)
        wait_for(lambda: second.leads("deliver"))
        assert second.leading == ("deliver",)
        first.stop()
        wait_for(lambda: second.leads("reconcile"), timeout=10 * POLL)
        assert second.leading == ("deliver", "reconcile")
    finally:
        second.stop()


def test_on_sqlite_the_one_process_leads_every_loop(tmp_path):
    leadership = Leadership(make_engine(f"sqlite:///{tmp_path / 'one.db'}"))
    runs: Counter = Counter()
    try:
        leadership.loop("reconcile", 0.02, lambda: runs.update(["reconcile"]))
        wait_for(lambda: runs["reconcile"] > 0)
        assert leadership.leads("reconcile") and leadership.leading == ("reconcile",)
    finally:
        leadership.stop()
