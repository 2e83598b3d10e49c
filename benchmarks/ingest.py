"""A play report of a million rows posted over HTTP, next to the raw bulk-load rate of the
same rows into the same database (executemany on SQLite, COPY on PostgreSQL).

The service runs in its own process on a managed Anvil node; the platform is custodial, so
the service signs the report's summary. The timing runs from the first byte sent to the
201, which comes after every row is checked, stored and hashed into the report's root and
the root is anchored on chain.

    scripts/bench-ingest [--rows 1000000] [--works 200] [--format ndjson|csv] [--database sqlite|postgresql|both]

A full run (the defaults) writes what it printed to docs/ingest-benchmark.md, after the notes
there (which say where the time goes).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

from benchmarks.service import BenchService
from benchmarks.settle import postgres_url
from benchmarks.watermark_image import code_version, machine
from ledger.bulk import insert_many
from ledger.db import make_engine

COLUMNS = ("report_pk", "work_pk", "territory", "day", "plays", "valid_plays", "watch_minutes", "ad_revenue", "held")
EPOCH = date(1970, 1, 1)
DOC = Path(__file__).resolve().parent.parent / "docs" / "ingest-benchmark.md"
MEASURED = ("ledger/reports", "ledger/bulk.py", "ledger/merkle.py", "api/body.py", "benchmarks/ingest.py")
RESULTS = "## Last full run"  # the generated part of DOC starts here; what is above it is kept


def make_report(path: Path, work_ids: list[str], rows: int, start: date, fmt: str) -> None:
    with path.open("w") as out:
        if fmt == "csv":
            out.write("work,territory,date,plays,valid_plays,watch_minutes,ad_revenue,currency\n")
        for i in range(rows):
            work = work_ids[i % len(work_ids)]
            day = start + timedelta(days=(i // len(work_ids)) % 28)
            plays = 1_000 + i  # every row distinct
            if fmt == "csv":
                out.write(f"{work},CN,{day},{plays},{plays - 100},{plays * 30},{i % 500},CNY\n")
            else:
                out.write(
                    json.dumps(
                        {
                            "work": work,
                            "territory": "CN",
                            "date": str(day),
                            "plays": plays,
                            "valid_plays": plays - 100,
                            "watch_minutes": plays * 30,
                            "ad_revenue": i % 500,
                            "currency": "CNY",
                        }
                    )
                    + "\n"
                )


def raw_rate(url: str, rows: int, works: int, start_day: int, keys: bool = False) -> float:
    """Rows per second bulk-loaded into a copy of play_row, in the ingest's batch size. The copy
    has play_row's columns and index on report_pk; with `keys`, its primary key and foreign keys
    (to the report and the work, checked row by row by either database) too, as play_row has."""
    engine = make_engine(url)
    raw = engine.raw_connection()
    cur = raw.cursor()
    cur.execute("DROP TABLE IF EXISTS play_row_raw")
    if engine.dialect.name == "postgresql":
        cur.execute("CREATE TABLE play_row_raw (LIKE play_row INCLUDING ALL)")
        if keys:
            cur.execute(
                "ALTER TABLE play_row_raw ADD FOREIGN KEY (report_pk) REFERENCES play_report (id), "
                "ADD FOREIGN KEY (work_pk) REFERENCES work (id)"
            )
    elif keys:
        cur.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'play_row'")
        cur.execute(cur.fetchone()[0].replace("play_row", "play_row_raw", 1))
        cur.execute("CREATE INDEX ix_play_row_raw_report ON play_row_raw (report_pk)")
    else:
        cur.execute("CREATE TABLE play_row_raw AS SELECT * FROM play_row WHERE 0")
        cur.execute("CREATE INDEX ix_play_row_raw_report ON play_row_raw (report_pk)")
    cur.execute("SELECT id FROM play_report ORDER BY id LIMIT 1")
    report_pk = cur.fetchone()[0]
    cur.execute("SELECT id FROM work ORDER BY id")
    work_pks = [r[0] for r in cur.fetchall()]
    raw.commit()
    tuples = [
        (
            report_pk,
            work_pks[i % works],
            "CN",
            start_day + (i // works) % 28,
            1_000 + i,
            900 + i,
            (1_000 + i) * 30,
            i % 500,
            False,
        )
        for i in range(rows)
    ]
    started = time.perf_counter()
    for at in range(0, rows, 20_000):
        insert_many(raw, engine.dialect.name, "play_row_raw", COLUMNS, tuples[at : at + 20_000])
        raw.commit()
    elapsed = time.perf_counter() - started
    cur.execute("DROP TABLE play_row_raw")
    raw.commit()
    raw.close()
    return rows / elapsed


def bench(database: str, rows: int, works: int, fmt: str) -> dict:
    env = {}
    url = None
    if database == "postgresql":
        url = postgres_url("reelledger_bench_ingest").replace("postgresql://", "postgresql+psycopg://")
        env["REELLEDGER_DATABASE_URL"] = url
    with BenchService(**env) as service:
        url = url or f"sqlite:///{(service.data_dir / 'reelledger.db').resolve()}"
        studio = httpx.Client(
            base_url=service.url,
            timeout=600,
            headers={"Authorization": f"Bearer {service.create_account('rights_holder', 'studio')}"},
        )
        platform_key = service.create_account("platform", "streamer")
        platform = httpx.Client(base_url=service.url, timeout=600, headers={"Authorization": f"Bearer {platform_key}"})
        platform_id = platform.get("/accounts/me").json()["id"]
        now = int(time.time())
        work_ids = []
        for i in range(works):
            work = studio.post(
                "/works",
                json={
                    "sha256": hashlib.sha256(f"bench-work-{i}".encode()).hexdigest(),
                    "title": f"Episode {i}",
                    "kind": "episode",
                },
            ).json()
            work_ids.append(work["work_id"])
            granted = studio.post(
                f"/works/{work['work_id']}/licences",
                json={
                    "licensee_id": platform_id,
                    "territories": ["CN"],
                    "rights": ["streaming"],
                    "start": now - 90 * 86_400,
                    "end": now + 30 * 86_400,
                },
            )
            assert granted.status_code in (201, 202), granted.text
        start = date.today() - timedelta(days=40)
        path = Path(tempfile.mkdtemp(prefix="reelledger-bench-ingest-")) / f"report.{fmt}"
        make_report(path, work_ids, rows, start, fmt)
        params = {
            "report_id": f"bench-{fmt}",
            "period_start": str(start),
            "period_end": str(start + timedelta(days=27)),
            "currency": "CNY",
        }
        kind = {"csv": "text/csv", "ndjson": "application/x-ndjson"}[fmt]
        before = service.memory_kib()
        started = time.perf_counter()
        with path.open("rb") as body:
            response = platform.post(
                "/reports", params=params, content=iter(lambda: body.read(1 << 20), b""), headers={"content-type": kind}
            )
        elapsed = time.perf_counter() - started
        assert response.status_code == 201, response.text
        after = service.memory_kib()
        # each reference twice, in turn, and the faster of the two: the machine's load drifts
        rates = [
            raw_rate(url, rows, works, (start - EPOCH).days, keys=keys) for _ in range(2) for keys in (False, True)
        ]
        raw, keyed = max(rates[0::2]), max(rates[1::2])
        return {
            "database": database,
            "format": fmt,
            "rows": rows,
            "size_mib": path.stat().st_size / 2**20,
            "api_rate": rows / elapsed,
            "raw_rate": raw,
            "keyed_rate": keyed,
            "seconds": elapsed,
            "anchor": response.json()["anchor"]["status"],
            "rss_growth_mib": (after["VmHWM"] - before["VmRSS"]) / 1024,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--works", type=int, default=200)
    parser.add_argument("--format", choices=["ndjson", "csv"], default="ndjson")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    full = all(getattr(args, k) == parser.get_default(k) for k in ("rows", "works", "format", "database"))
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    began, load_before = time.perf_counter(), os.getloadavg()
    results = [bench(db, args.rows, args.works, args.format) for db in databases]
    lines = [
        f"{'database':<12}{'format':<8}{'rows':>10}{'MiB':>7}{'HTTP rows/s':>13}{'raw rows/s':>12}{'ratio':>7}"
        f"{'raw+keys':>10}{'ratio':>7}{'seconds':>9}{'RSS+ MiB':>10}  anchor"
    ]
    for r in results:
        lines.append(
            f"{r['database']:<12}{r['format']:<8}{r['rows']:>10,}{r['size_mib']:>7.0f}{r['api_rate']:>13,.0f}"
            f"{r['raw_rate']:>12,.0f}{r['api_rate'] / r['raw_rate']:>7.0%}"
            f"{r['keyed_rate']:>10,.0f}{r['api_rate'] / r['keyed_rate']:>7.0%}{r['seconds']:>9.1f}"
            f"{r['rss_growth_mib']:>10.0f}  {r['anchor']}"
        )
    lines.append(
        "raw: executemany (SQLite) or COPY (PostgreSQL) of the same rows, prepared beforehand, into a copy of "
        "play_row without its keys; raw+keys: the same into a copy with play_row's primary and foreign keys; "
        "each the faster of two loads"
    )
    load = "load average (1, 5, 15 min) {:.2f} {:.2f} {:.2f} before, {:.2f} {:.2f} {:.2f} after".format(
        *load_before, *os.getloadavg()
    )
    lines.append(load)
    print("\n".join(lines))
    if full:
        kept = DOC.read_text().split(RESULTS)[0].rstrip() if DOC.exists() else "# Play-report ingest benchmark"
        DOC.write_text(
            "\n".join(
                [
                    kept,
                    "",
                    RESULTS,
                    "",
                    "Generated by `benchmarks/ingest.py`; run it again rather than editing this part.",
                    "",
                    f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
                    f"- Machine: {machine()}",
                    f"- Command: `scripts/bench-ingest{(' ' + ' '.join(sys.argv[1:])) if sys.argv[1:] else ''}` "
                    f"(took {(time.perf_counter() - began) / 60:.1f} min)",
                    f"- Code: {code_version(MEASURED, 'the ingest or benchmark code')}",
                    "",
                    "```",
                    *lines,
                    "```",
                    "",
                ]
            )
        )
        print(f"wrote {DOC}")


if __name__ == "__main__":
    main()
