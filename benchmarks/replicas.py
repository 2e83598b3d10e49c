"""Registrations per second to confirmed and play-report rows per second with 1, 2 and 3
service replicas on one PostgreSQL database and one Anvil node, in one run, next to the chain
layer's own write rate (the outbox alone, pipelined, on PostgreSQL) measured in the same run.

Each replica is `reelledger serve` in a process of its own; clients spread their requests over
the replicas as a load balancer would. A registration counts once it is confirmed on chain
(answered 201, or 202 and then confirmed: the time runs until the outbox is empty). Report rows
count once their report is answered 201 (stored, summed, signed and anchored). On one machine
the replicas share its cores with the node, PostgreSQL and the clients: what more replicas buy
here is concurrency, not CPU.

    scripts/bench-replicas [--replicas 1,2,3] [--clients 6] [--per-client 20] [--rows 20000]
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import secrets
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path

import httpx
import psycopg

from benchmarks.service import ProcessService
from benchmarks.settle import postgres_url
from benchmarks.writes import bench_ledger, free_port, outbox_pipelined
from ledger.accounts import create_account
from ledger.chain.node import ManagedAnvil
from ledger.config import REPO_ROOT, Settings, native_foundry_binary
from ledger.models import Role
from ledger.service import Ledger

# Anvil's first development account (public, from its well-known mnemonic), funded at genesis.
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
ADMIN = os.environ.get("REELLEDGER_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test").replace(
    "postgresql+psycopg", "postgresql"
)  # as benchmarks.settle.postgres_url reads it
START_TIMEOUT = 180.0  # processes importing at once on a loaded machine
SERVE = "import sys; from ledger.cli import main; sys.exit(main(['serve']))"


@contextmanager
def fresh_database(tag: str):
    url = postgres_url(f"reelledger_bench_replicas_{tag}")
    try:
        yield url
    finally:
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS reelledger_bench_replicas_{tag} WITH (FORCE)")


@contextmanager
def cluster(replicas: int, tag: str):
    """`replicas` serve processes on a fresh database and Anvil node; yields (replicas, settings)."""
    directory = Path(tempfile.mkdtemp(prefix="reelledger-bench-replicas-"))
    with ExitStack() as stack:
        url = stack.enter_context(fresh_database(tag))
        node = ManagedAnvil(
            binary=native_foundry_binary("anvil"), port=free_port(), state_file=directory / "chain.json"
        )
        node.start()
        stack.callback(node.stop)
        settings = Settings(
            data_dir=directory / "setup",
            database_url=url,
            rpc_url=node.url,
            master_key=base64.b64encode(secrets.token_bytes(32)).decode(),
            signer_key=DEV_KEY,
        )
        env = {
            "PYTHONPATH": str(REPO_ROOT),
            "REELLEDGER_DATABASE_URL": url,
            "REELLEDGER_RPC_URL": node.url,
            "REELLEDGER_SIGNER_KEY": DEV_KEY,
            "REELLEDGER_MASTER_KEY": settings.master_key or "",
            "REELLEDGER_PARSE_WORKERS": "1",
        }
        services = []
        for i in range(replicas):
            service = ProcessService(directory / f"replica-{i}" / "data", [sys.executable, "-c", SERVE], **env)
            service.data_dir.mkdir(parents=True)
            services.append(service)
        for service in services:  # stopped even if another one fails to start
            stack.callback(lambda s=service: s.process is not None and s.process.poll() is None and s.stop())
        with ThreadPoolExecutor(replicas) as pool:
            list(pool.map(lambda s: s.start(START_TIMEOUT), services))
        yield services, settings


def registrations(services: list[ProcessService], keys: list[str], per_client: int) -> float:
    """Registrations per second, from the first request until every one is confirmed."""
    run = secrets.token_hex(4)
    http = [
        httpx.Client(base_url=services[i % len(services)].url, headers={"Authorization": f"Bearer {k}"}, timeout=120)
        for i, k in enumerate(keys)
    ]
    for i, client in enumerate(http):  # each account's one-time operator approval, outside the timing
        warm = hashlib.sha256(f"warm-{run}-{i}".encode()).hexdigest()
        assert client.post("/works", json={"sha256": warm, "title": "warm", "kind": "film"}).status_code in (201, 202)
    wait_settled(services[0])

    def work(i: int) -> None:
        for n in range(per_client):
            sha = hashlib.sha256(f"{run}-{i}-{n}".encode()).hexdigest()
            answer = http[i].post("/works", json={"sha256": sha, "title": f"Episode {n}", "kind": "film"})
            assert answer.status_code in (201, 202), answer.text

    started = time.perf_counter()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(http))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wait_settled(services[0])
    return len(http) * per_client / (time.perf_counter() - started)


def wait_settled(service: ProcessService, timeout: float = 600) -> None:
    deadline = time.monotonic() + timeout
    while httpx.get(f"{service.url}/health", timeout=30).json()["outbox_unfinished"]:
        assert time.monotonic() < deadline, "the outbox did not settle"
        time.sleep(0.1)


def report_rows(services: list[ProcessService], platform_keys: list[str], work_ids: list[str], rows: int) -> float:
    """Rows per second of one report per platform, all sent at once, each to its own replica."""
    start = date.today() - timedelta(days=40)
    body = "".join(
        json.dumps(
            {
                "work": work_ids[i % len(work_ids)],
                "territory": "CN",
                "date": str(start + timedelta(days=(i // len(work_ids)) % 28)),
                "plays": 1_000 + i,
                "valid_plays": 900 + i,
                "watch_minutes": 30 * i,
                "ad_revenue": i % 500,
                "currency": "CNY",
            }
        )
        + "\n"
        for i in range(rows)
    ).encode()
    span = {"period_start": str(start), "period_end": str(start + timedelta(days=27)), "currency": "CNY"}

    def post(i: int) -> None:
        answer = httpx.post(
            f"{services[i % len(services)].url}/reports",
            params={"report_id": f"bench-{i}", **span},
            content=body,
            headers={"Authorization": f"Bearer {platform_keys[i]}", "content-type": "application/x-ndjson"},
            timeout=600,
        )
        assert answer.status_code in (201, 202), answer.text

    started = time.perf_counter()
    with ThreadPoolExecutor(len(platform_keys)) as pool:
        list(pool.map(post, range(len(platform_keys))))
    return len(platform_keys) * rows / (time.perf_counter() - started)


def measure(replicas: int, clients: int, per_client: int, rows: int) -> tuple[float, float]:
    with cluster(replicas, f"{replicas}_{secrets.token_hex(3)}") as (services, settings):
        ledger = Ledger(settings)
        try:
            studios = [
                create_account(ledger.engine, ledger.keys, name=f"studio-{i}", role=Role.rights_holder).api_key
                for i in range(clients)
            ]
            platforms = [
                create_account(ledger.engine, ledger.keys, name=f"platform-{i}", role=Role.platform).api_key
                for i in range(3)
            ]
        finally:
            ledger.engine.dispose()
        registered = registrations(services, studios, per_client)
        listed = httpx.get(f"{services[0].url}/works", headers={"Authorization": f"Bearer {studios[0]}"}, timeout=60)
        work_ids = [w["work_id"] for w in listed.json()["items"]][:20]
        return registered, report_rows(services, platforms, work_ids, rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--replicas", default="1,2,3", help="replica counts to measure, comma-separated")
    parser.add_argument("--clients", type=int, default=6, help="concurrent registering clients")
    parser.add_argument("--per-client", type=int, default=20)
    parser.add_argument("--rows", type=int, default=20_000, help="rows of each of the three platforms' reports")
    args = parser.parse_args()
    counts = [int(n) for n in args.replicas.split(",")]
    results = {n: measure(n, args.clients, args.per_client, args.rows) for n in counts}
    with fresh_database(f"chain_{secrets.token_hex(3)}") as url, bench_ledger(url) as (ledger, owner):
        writes = args.clients * args.per_client
        chain = outbox_pipelined(ledger, owner, writes, secrets.token_hex(4))
    print(
        f"replicas on one PostgreSQL and one Anvil node (automine): {args.clients} clients x {args.per_client} "
        f"registrations; 3 reports of {args.rows:,} rows at once"
    )
    print(f"{'':<28}{'registrations/s':>16}{'report rows/s':>15}")
    for n, (registered, ingested) in results.items():
        print(f"{f'{n} replica' + ('s' if n > 1 else ''):<28}{registered:>16.1f}{ingested:>15,.0f}")
    print(f"{'chain layer, pipelined':<28}{chain:>16.1f}{'':>15}   (the outbox alone, one process, {writes} writes)")


if __name__ == "__main__":
    main()
