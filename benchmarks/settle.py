"""Settling a large period: the aggregation, the settlement engine, the statement lines and
their Merkle tree, timed on a database seeded directly (no chain writes: they are not what
is measured). Each run is a child process, so that its peak memory is its own.

    scripts/bench-settle [--rows 1000000] [--works 10000] [--payees 10] [--database sqlite|postgresql]
                         [--derivatives 0.2]

With --derivatives, that share of the works are derivatives (re-edits) of one to three works on
the levels below theirs, up to three levels above the roots, each parent taking 5-30 % of what
reaches the derivative and every third one a minimum per valid play: the period then settles
every derivative's payable up its chain of works.
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
from typing import Any

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


def seed(url: str, rows: int, works: int, payees: int, derivatives: float = 0.0) -> None:
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
    work_pks = _committed_ids(raw, "work")
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
    if derivatives:
        _seed_derivatives(raw, dialect, work_pks, derivatives, owner_id, op_id, rng)
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


def _committed_ids(raw: Any, table: str) -> list[int]:
    """Commit what was inserted; the ids of `table`, in order."""
    raw.commit()
    cur = raw.cursor()
    cur.execute(f"SELECT id FROM {table} ORDER BY id")
    return [r[0] for r in cur.fetchall()]


def _seed_derivatives(
    raw: Any, dialect: str, work_pks: list[int], share: float, owner_id: int, op_id: int, rng: random.Random
) -> None:
    """`share` of the works become derivatives on levels 1-3 (half, a third, a sixth of them), each
    of one to three parents on lower levels, under a licence of its own per edge."""
    count = int(len(work_pks) * share)
    shuffled = rng.sample(work_pks, len(work_pks))
    roots, derived = shuffled[count:], shuffled[:count]
    levels = [roots, derived[: count // 2], derived[count // 2 : count * 5 // 6], derived[count * 5 // 6 :]]
    edges = []
    for level in range(1, 4):
        below = [pk for lower in levels[:level] for pk in lower]
        for pk in levels[level]:
            parents = rng.sample(below, rng.randint(1, 3))
            if not any(p in levels[level - 1] for p in parents):  # the level it stands on
                parents[0] = rng.choice(levels[level - 1])
            for position, parent in enumerate(dict.fromkeys(parents)):
                edges.append((pk, parent, rng.randint(500, 3_000), 1_000 if rng.random() < 1 / 3 else 0, position))
    insert_many(
        raw,
        dialect,
        "licence",
        (
            "work_pk",
            "grantor_id",
            "licensee_id",
            "territories",
            "rights",
            "start",
            '"end"',  # a reserved word in PostgreSQL
            "exclusive",
            "sublicensable",
            "op_id",
            "derivative_kinds",
            "upstream_bps",
            "upstream_min_micro",
            "created_at",
        ),
        [
            (
                parent,
                owner_id,
                owner_id,
                '["CN"]',
                '["streaming"]',
                0,
                2**40,
                False,
                False,
                op_id,
                '["re_edit"]',
                bps,
                minimum,
                "2026-01-01",
            )
            for _, parent, bps, minimum, _ in edges
        ],
    )
    licence_pks = _committed_ids(raw, "licence")
    insert_many(
        raw,
        dialect,
        "work_parent",
        (
            "work_pk",
            "parent_pk",
            "licence_pk",
            "kind",
            "share_bps",
            "min_per_valid_play_micro",
            "position",
            "op_id",
            "created_at",
        ),
        [
            (pk, parent, licence, "re_edit", bps, minimum, position, op_id, "2026-01-01")
            for (pk, parent, bps, minimum, position), licence in zip(edges, licence_pks, strict=True)
        ],
    )
    raw.commit()


def settle_once(url: str) -> None:
    """Child process: settle the seeded period once and print what it took."""
    from ledger.settlement.computation import compute, gather

    engine = make_engine(url)
    with session(engine) as db:
        platform = db.exec(text("SELECT id, address FROM account WHERE role = 'platform'")).one()
        started, cpu = time.perf_counter(), time.process_time()
        inputs, usage = gather(db, _Platform(*platform), "CNY", FIRST_DAY, FIRST_DAY + DAYS, {})
        gathered = time.perf_counter()
        computed = compute(db, inputs, usage)
        done, cpu = time.perf_counter(), time.process_time() - cpu
    peak = int(re.search(r"VmHWM:\s+(\d+)", Path("/proc/self/status").read_text()).group(1))
    print(
        json.dumps(
            {
                "gather_s": gathered - started,
                "compute_s": done - gathered,
                "total_s": done - started,
                "cpu_s": cpu,
                "lines": len(computed.lines),
                "works": len(computed.works),
                "derivatives": len(inputs.get("upstream", {})),
                "upstream_lines": sum(1 for line in computed.lines if line.via_work_id),
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
    parser.add_argument("--derivatives", type=float, default=0.0, help="share of the works that are derivatives")
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
    seed(url, args.rows, args.works, args.payees, args.derivatives)
    print(
        f"seeded {args.rows:,} rows over {args.works:,} works (1-{args.payees} payees each, "
        f"{args.derivatives:.0%} derivatives) in "
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
    print(
        f"{'run':<5}{'aggregate s':>12}{'engine+lines+tree s':>22}{'total s':>10}{'CPU s':>8}{'peak RSS MiB':>14}"
        f"{'lines':>9}"
    )
    for i, r in enumerate(results, 1):
        print(
            f"{i:<5}{r['gather_s']:>12.2f}{r['compute_s']:>22.2f}{r['total_s']:>10.2f}{r['cpu_s']:>8.2f}"
            f"{r['peak_rss_mib']:>14.0f}{r['lines']:>9,}"
        )
    best = min(results, key=lambda r: r["total_s"])
    print(
        f"best {best['total_s']:.2f} s ({best['cpu_s']:.2f} s CPU), "
        f"peak RSS {max(r['peak_rss_mib'] for r in results):.0f} MiB, "
        f"{best['works']:,} works ({best['derivatives']:,} derivatives), {best['lines']:,} lines "
        f"({best['upstream_lines']:,} upstream), total {best['total']:,} fen; same root every run: "
        f"{len(roots) == 1}"
    )


if __name__ == "__main__":
    main()
