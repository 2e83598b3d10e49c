"""Settling a large period: the aggregation, the settlement engine, the statement lines and
their Merkle tree, timed on a database seeded directly (no chain writes: they are not what
is measured). Each run is a child process, so that its peak memory is its own.

    scripts/bench-settle [--rows 1000000] [--works 10000] [--payees 10] [--database sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from ledger.bulk import insert_many
from ledger.db import make_engine, migrate, session
from ledger.models import (
    Account,
    ChainOp,
    OpStatus,
    PlayReport,
    ReportStatus,
    Role,
    WorkKind,
)
from ledger.settlement.rules import canonical_body, content_hash

DAY = 86_400
FIRST_DAY = 20_400  # 2025-11-08
DAYS = 30


def seed(url: str, rows: int, works: int, payees: int) -> None:
    engine = make_engine(url)
    migrate(engine)
    rng = random.Random(7)
    with session(engine) as db:
        op = ChainOp(
            idempotency_key="bench-seed",
            chain_id=1,
            sender="0x" + "00" * 20,
            data="0x",
            label="seed",
            status=OpStatus.confirmed,
        )
        owner = Account(
            name="studio",
            role=Role.rights_holder,
            address="0x" + "11" * 20,
            custodial=False,
            key_prefix="bench-studio",
            key_hash="0" * 64,
        )
        platform = Account(
            name="platform",
            role=Role.platform,
            address="0x" + "22" * 20,
            custodial=False,
            key_prefix="bench-platform",
            key_hash="0" * 64,
        )
        db.add_all([op, owner, platform])
        db.commit()
        report = PlayReport(
            platform_id=platform.id,
            report_id="bench",
            report_hash="0x" + "33" * 32,
            status=ReportStatus.accepted,
            currency="CNY",
            first_day=FIRST_DAY,
            end_day=FIRST_DAY + DAYS,
            row_count=rows,
            rows_root="0x" + "44" * 32,
            digest="0x" + "55" * 32,
        )
        db.add(report)
        db.commit()
        op_id, owner_id, report_pk = op.id, owner.id, report.id
    body = canonical_body(
        {
            "valid_play_tiers": [
                {"from_plays": 0, "price_micro": 8_000},
                {"from_plays": 50_000, "price_micro": 12_000},
            ],
            "watch_minute_price_micro": 300,
            "ad_revenue_bps": 4_000,
            "commission_bps": 1_500,
            "advance": 1_000,
        }
    )
    raw = engine.raw_connection()
    dialect = engine.dialect.name
    insert_many(
        raw,
        dialect,
        "work",
        (
            "work_id",
            "owner_id",
            "title",
            "kind",
            "parties",
            "fingerprint_digest",
            "metadata_hash",
            "op_id",
            "created_at",
        ),
        [
            (
                f"0x{i:064x}",
                owner_id,
                f"work {i}",
                WorkKind.episode.name,
                "[]",
                "0x" + "00" * 32,
                "0x" + "00" * 32,
                op_id,
                "2026-01-01",
            )
            for i in range(1, works + 1)
        ],
    )
    raw.commit()
    cur = raw.cursor()
    cur.execute("SELECT id FROM work ORDER BY id")
    work_pks = [r[0] for r in cur.fetchall()]
    insert_many(
        raw,
        dialect,
        "settlement_rule",
        ("work_pk", "version", "effective_from", "currency", "body", "content_hash", "setter_id", "created_at"),
        [(pk, 1, 0, "CNY", json.dumps(body), content_hash(body, "CNY"), owner_id, "2026-01-01") for pk in work_pks],
    )
    splits = []
    for pk in work_pks:
        n = rng.randint(1, payees)
        shares = [10_000 // n] * n
        shares[0] += 10_000 - sum(shares)
        people = [{"address": "0x" + f"{rng.randrange(1, 5_000):040x}", "bps": s} for s in shares]
        if len({p["address"] for p in people}) < n:
            people = [{"address": "0x" + f"{pk * 16 + j:040x}", "bps": s} for j, s in enumerate(shares)]
        splits.append((pk, owner_id, 1, json.dumps(people), 0, op_id, "2026-01-01"))
    insert_many(
        raw,
        dialect,
        "split",
        ("work_pk", "setter_id", "version", "payees", "effective_from", "op_id", "created_at"),
        splits,
    )
    raw.commit()
    batch = []
    for i in range(rows):
        work_pk = work_pks[i % works]
        plays = rng.randrange(1, 5_000)
        batch.append(
            (
                report_pk,
                work_pk,
                "CN",
                FIRST_DAY + (i // works) % DAYS,
                plays,
                plays * 9 // 10,
                plays * 40,
                rng.randrange(0, 300),
                False,
            )
        )
        if len(batch) == 100_000:
            insert_many(
                raw,
                dialect,
                "play_row",
                (
                    "report_pk",
                    "work_pk",
                    "territory",
                    "day",
                    "plays",
                    "valid_plays",
                    "watch_minutes",
                    "ad_revenue",
                    "held",
                ),
                batch,
            )
            raw.commit()
            batch = []
    if batch:
        insert_many(
            raw,
            dialect,
            "play_row",
            ("report_pk", "work_pk", "territory", "day", "plays", "valid_plays", "watch_minutes", "ad_revenue", "held"),
            batch,
        )
        raw.commit()
    raw.close()
    if dialect == "postgresql":
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))


def settle_once(url: str) -> None:
    """Child process: settle the seeded period once and print what it took."""
    from ledger.settlement.computation import compute, gather

    engine = make_engine(url)
    with session(engine) as db:
        platform = db.exec(text("SELECT id, address FROM account WHERE role = 'platform'")).one()
        started = time.perf_counter()
        inputs, usage = gather(db, _Platform(*platform), "CNY", FIRST_DAY, FIRST_DAY + DAYS, {})
        gathered = time.perf_counter()
        computed = compute(db, inputs, usage)
        done = time.perf_counter()
    peak = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    print(
        json.dumps(
            {
                "gather_s": gathered - started,
                "compute_s": done - gathered,
                "total_s": done - started,
                "lines": len(computed.lines),
                "works": len(computed.works),
                "total": computed.total,
                "root": computed.root,
                "peak_rss_mib": peak / 1024,
            }
        )
    )


class _Platform:
    def __init__(self, pk: int, address: str) -> None:
        self.id, self.address = pk, address


def postgres_url(name: str) -> str:
    import psycopg

    base = os.environ.get("REELLEDGER_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    admin = base.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    return base.rsplit("/", 1)[0] + f"/{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--works", type=int, default=10_000)
    parser.add_argument("--payees", type=int, default=10)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--settle-only", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.settle_only:
        settle_once(args.settle_only)
        return
    if args.database == "sqlite":
        url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='reelledger-bench-settle-')) / 'bench.db'}"
    else:
        url = postgres_url("reelledger_bench_settle")
    started = time.perf_counter()
    seed(url, args.rows, args.works, args.payees)
    print(
        f"seeded {args.rows:,} rows over {args.works:,} works (1-{args.payees} payees each) in "
        f"{time.perf_counter() - started:.0f} s on {args.database}"
    )
    results = []
    for _ in range(args.runs):
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.settle", "--settle-only", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        results.append(json.loads(out.strip().splitlines()[-1]))
    roots = {r["root"] for r in results}
    print(f"{'run':<5}{'aggregate s':>12}{'engine+lines+tree s':>22}{'total s':>10}{'peak RSS MiB':>14}{'lines':>9}")
    for i, r in enumerate(results, 1):
        print(
            f"{i:<5}{r['gather_s']:>12.2f}{r['compute_s']:>22.2f}{r['total_s']:>10.2f}{r['peak_rss_mib']:>14.0f}"
            f"{r['lines']:>9,}"
        )
    best = min(results, key=lambda r: r["total_s"])
    print(
        f"best {best['total_s']:.2f} s, peak RSS {max(r['peak_rss_mib'] for r in results):.0f} MiB, "
        f"{best['works']:,} works, {best['lines']:,} lines, total {best['total']:,} fen; same root every run: "
        f"{len(roots) == 1}"
    )


if __name__ == "__main__":
    main()
