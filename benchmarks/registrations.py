"""Registrations per second through the HTTP API with concurrent clients, to confirmed, next
to the chain layer's own write rate measured in the same run.

    scripts/bench-registrations [--clients 8] [--per-client 40]
"""

from __future__ import annotations

import argparse
import hashlib
import secrets
import threading
import time

import httpx

from benchmarks.service import BenchService
from benchmarks.writes import bench_ledger, outbox_pipelined, outbox_sequential


def chain_layer_rates(writes: int) -> dict[str, float]:
    with bench_ledger() as (ledger, owner):
        return {
            "chain layer, one at a time": outbox_sequential(ledger, owner, writes, "seq"),
            "chain layer, pipelined": outbox_pipelined(ledger, owner, writes, "pipe"),
        }


def api_rate(clients: int, per_client: int) -> tuple[float, int]:
    with BenchService() as service:
        keys = [service.create_account("rights_holder", f"studio-{i}") for i in range(clients)]
        http = [httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {k}"}, timeout=120) for k in keys]
        for i, client in enumerate(http):  # each account's one-time operator approval, outside the timing
            warm = hashlib.sha256(f"warm-{i}".encode()).hexdigest()
            assert client.post("/works", json={"sha256": warm, "title": "warm", "kind": "film"}).status_code == 201
        confirmed = [0] * clients
        run = secrets.token_hex(4)

        def work(i: int) -> None:
            for n in range(per_client):
                sha = hashlib.sha256(f"{run}-{i}-{n}".encode()).hexdigest()
                response = http[i].post("/works", json={"sha256": sha, "title": f"Episode {n}", "kind": "film"})
                if response.status_code == 201 and response.json()["chain"]["status"] == "confirmed":
                    confirmed[i] += 1

        threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - started
        return sum(confirmed) / elapsed, sum(confirmed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--per-client", type=int, default=40)
    args = parser.parse_args()
    total = args.clients * args.per_client
    rates = chain_layer_rates(total)
    api, confirmed = api_rate(args.clients, args.per_client)
    print(f"registrations: {args.clients} concurrent clients x {args.per_client}, SQLite, managed Anvil (automine)")
    print(f"{'path':<34}{'per second':>12}")
    for name, rate in rates.items():
        print(f"{name:<34}{rate:>12.1f}")
    print(f"{'HTTP API, to confirmed':<34}{api:>12.1f}   ({confirmed}/{total} confirmed)")
    best = max(rates.values())
    one_at_a_time = rates["chain layer, one at a time"]
    print(f"API vs chain layer (pipelined): {api / best:.0%}   vs one at a time: {api / one_at_a_time:.0%}")


if __name__ == "__main__":
    main()
