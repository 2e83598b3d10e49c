"""Web console benchmark: first render of a 10,000-line statement, and in-browser verification.

Everything runs on this machine over loopback: a ReelLedger service in its own process (its
managed Anvil node; SQLite, or PostgreSQL with --database postgresql) and Debian's chromium,
headless, driven by Playwright.

The period is real where the browser can tell: works, splits, rules and one accepted play
report (one row a work) are written straight into the database, their chain operations
recorded as confirmed (registering works is not what is measured), and the period is then
closed through the API by the platform, so its statement lines, Merkle tree and root come
from the settlement code and the root is committed on the chain the browser verifies
against. Payee A is paid by every work (--lines lines), payee B by the first --verify-lines
works, the studio by all of them.

1. First render. A signed-in browser (a new context each run: empty cache, new session) opens
   /console/statements?period=<id> as payee A (the page asks for the statement without its
   proofs, gzipped, and fetches them only to verify). The page itself notes, with performance.now()
   from its navigation start, when the lines table enters the document (a MutationObserver;
   the page inserts the table whole) and when the frame after that has run (a
   requestAnimationFrame callback, then a task: style, layout and paint done), beside the
   browser's own timings of the HTML, the /periods call and the statement JSON fetch; from
   here, the time from asking for the page until the page reports that frame done. One more
   run with Chrome's Performance metrics on says how much of the main thread's time went to
   layout and style. When the page draws only the first lines (and says "N of 10000 lines
   shown"), its "Show all" button is then pressed and drawing every line is timed the same
   way. The statement JSON is also fetched alone, with the API key, first right after the
   period is committed (the service then rebuilds the period's tree) and again with the tree
   cached.
2. Verification. Payee B opens the page (a new context each run) and presses "Verify against
   the chain": the page fetches the statement with its proofs, then ethers.js and
   @openzeppelin/merkle-tree in the page check every line's proof
   locally and ask the Anvil node (verifyLine, isLineSettled) about each line. Timed in the
   page from the click (with the loading of the verifier bundle, if the page has not loaded
   it already) until the verdict replaces the progress bar, and until the frame after that
   (the lines' marks redrawn), beside the figure the page prints itself (verifyStatement
   alone). A run whose verdict is not "every line checks out", with a proven mark on every
   line drawn, fails the benchmark.
3. With --large-verify-runs (default 1), the same verification of payee A's whole statement.

    scripts/bench-console [--lines 10000] [--verify-lines 1000] [--runs 3] [--database sqlite|postgresql]

A full run (the defaults, SQLite) writes what it printed to docs/console-benchmark.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from importlib.metadata import version
from pathlib import Path

import httpx

from benchmarks.service import BenchService
from benchmarks.watermark_image import code_version, machine
from benchmarks.watermark_video import run_printing

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "console-benchmark.md"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
EPOCH = date(1970, 1, 1)
CURRENCY = "CNY"
PG_DATABASE = "reelledger_bench_console"
RULE = {
    "valid_play_tiers": [{"from_plays": 0, "price_micro": 10_000}, {"from_plays": 2_000, "price_micro": 15_000}],
    "watch_minute_price_micro": 500,
    "ad_revenue_bps": 5_000,
    "commission_bps": 1_000,
}

# Installed in every page before its own scripts: notes when the statement's lines table
# enters the document and when the frame after that has run (style, layout and paint done).
OBSERVER = """
window.__bench = {};
new MutationObserver((records, observer) => {
  const table = document.querySelector('[data-testid=statement] [data-testid=lines]');
  if (!table) return;
  observer.disconnect();
  window.__bench.rows = table.tBodies[0].rows.length;
  window.__bench.inDom = performance.now();
  requestAnimationFrame(() => setTimeout(() => { window.__bench.painted = performance.now(); }, 0));
}).observe(document, { childList: true, subtree: true });
"""
# Presses "Verify" and resolves when the verdict (or an error) replaces the progress bar, and
# again after the next frame. Watches only the verdict's container: Playwright's own waiting
# queries the whole page every frame, which on a 120,000-element page took seconds of the
# main thread the verification needs.
VERIFY = """async () => {
  const statement = document.querySelector('[data-testid=statement]');
  const out = statement.querySelector('[data-testid=verify]').closest('.actions').nextElementSibling;
  const shown = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      const first = out.firstElementChild;
      if (first && ['verify-result', 'verify-error'].includes(first.dataset.testid)) {
        observer.disconnect();
        resolve(performance.now());
      }
    });
    observer.observe(out, { childList: true });
  });
  const began = performance.now();
  statement.querySelector('[data-testid=verify]').click();
  const at = await shown;
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  const first = out.firstElementChild;
  return { shown: at - began, painted: performance.now() - began, testid: first.dataset.testid, ok: first.dataset.ok,
           text: first.innerText, rows: statement.querySelector('[data-testid=lines]').tBodies[0].rows.length,
           proven: statement.querySelectorAll('[data-testid=line-verdict][data-ok=true]').length,
           failed: statement.querySelectorAll('[data-testid=line-verdict][data-ok=false]').length };
}"""
# Presses the lines' "Show all" button (found by its label) and resolves once the redrawn
# table is in the document and again after the next frame; null when there is no such button.
SHOW_ALL = """async (label) => {
  const note = document.querySelector('[data-testid=statement] [data-testid=lines-shown]');
  const button = note && [...note.querySelectorAll('button')].find((b) => b.textContent.trim() === label);
  if (!button) return null;
  const container = note.parentElement.parentElement;
  const drawn = new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      const table = container.querySelector('[data-testid=lines]');
      if (table) {
        observer.disconnect();
        resolve({ at: performance.now(), rows: table.tBodies[0].rows.length });
      }
    });
    observer.observe(container, { childList: true });
  });
  const began = performance.now();
  button.click();
  const got = await drawn;
  await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
  return { inDom: got.at - began, painted: performance.now() - began, rows: got.rows,
           nodes: document.getElementsByTagName('*').length };
}"""
MARKS = """() => {
  const nav = performance.getEntriesByType('navigation')[0];
  const fetched = performance.getEntriesByType('resource');
  const s = fetched.filter((r) => /\\/periods\\/0x[0-9a-fA-F]+\\/statement/.test(r.name)).pop();
  const p = fetched.filter((r) => new URL(r.name).pathname === '/periods').pop();
  return { html: nav.responseEnd, dcl: nav.domContentLoadedEventEnd, pStart: p.startTime, pEnd: p.responseEnd,
           stStart: s.startTime, stEnd: s.responseEnd,
           stBytes: s.encodedBodySize, stDecoded: s.decodedBodySize, ...window.__bench,
           nodes: document.getElementsByTagName('*').length,
           note: document.querySelector('[data-testid=statement] [data-testid=lines-shown]')?.firstChild?.textContent
             ?? null };
}"""


# -- the period ------------------------------------------------------------------------------


class Party:
    """An account made with the CLI, as the browser and the API see it."""

    def __init__(self, service: BenchService, role: str, name: str) -> None:
        self.key = service.create_account(role, name)
        self.client = httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {self.key}"}, timeout=300)
        me = self.client.get("/accounts/me").raise_for_status().json()
        self.id, self.address = me["id"], me["address"]


def seed(
    url: str, studio: Party, platform: Party, a: Party, b: Party, works: int, shared: int, first_day: int, end_day: int
) -> None:
    """What closing the period reads, written directly: works, a split and a rule each, and an
    accepted, anchored report with one row a work."""
    from ledger.bulk import insert_many
    from ledger.db import make_engine, session
    from ledger.models import ChainOp, OpStatus, PlayReport, ReportStatus, WorkKind
    from ledger.settlement.rules import canonical_body, content_hash

    engine = make_engine(url)
    with session(engine) as db:
        # One stand-in for the chain writes that were skipped; chain id 0 keeps the outbox off it.
        op = ChainOp(
            idempotency_key=f"bench-console-seed-{uuid.uuid4().hex}",
            chain_id=0,
            sender="0x" + "00" * 20,
            data="0x",
            label="benchmark seed (not sent)",
            status=OpStatus.confirmed,
        )
        db.add(op)
        db.commit()
        report = PlayReport(
            platform_id=platform.id,
            report_id="bench-console",
            report_hash="0x" + "33" * 32,
            status=ReportStatus.accepted,
            currency=CURRENCY,
            first_day=first_day,
            end_day=end_day,
            row_count=works,
            rows_root="0x" + "44" * 32,
            digest="0x" + "55" * 32,
            op_id=op.id,
        )
        db.add(report)
        db.commit()
        op_id, report_pk = op.id, report.id
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
                "0x" + hashlib.sha256(f"bench-console-{i}".encode()).hexdigest(),
                studio.id,
                f"Episode {i}",
                WorkKind.episode.name,
                "[]",
                "0x" + "00" * 32,
                "0x" + "00" * 32,
                op_id,
                "2026-01-01",
            )
            for i in range(works)
        ],
    )
    raw.commit()
    cur = raw.cursor()
    cur.execute(
        "SELECT id FROM work WHERE owner_id = %s ORDER BY id"
        if dialect == "postgresql"
        else "SELECT id FROM work WHERE owner_id = ? ORDER BY id",
        (studio.id,),
    )
    work_pks = [r[0] for r in cur.fetchall()]
    cur.close()
    body = canonical_body(RULE)
    insert_many(
        raw,
        dialect,
        "settlement_rule",
        ("work_pk", "version", "effective_from", "currency", "body", "content_hash", "setter_id", "created_at"),
        [
            (pk, 1, first_day - 30, CURRENCY, json.dumps(body), content_hash(body, CURRENCY), studio.id, "2026-01-01")
            for pk in work_pks
        ],
    )
    splits = []
    for n, pk in enumerate(work_pks):
        payees = [(studio, 4_000), (a, 4_000), (b, 2_000)] if n < shared else [(studio, 6_000), (a, 4_000)]
        splits.append(
            (
                pk,
                studio.id,
                1,
                json.dumps([{"address": p.address, "bps": bps} for p, bps in payees]),
                0,
                op_id,
                "2026-01-01",
            )
        )
    insert_many(
        raw,
        dialect,
        "split",
        ("work_pk", "setter_id", "version", "payees", "effective_from", "op_id", "created_at"),
        splits,
    )
    rows = []
    for n, pk in enumerate(work_pks):
        plays = 1_000 + (n * 7919) % 4_000
        rows.append(
            (
                report_pk,
                pk,
                "CN",
                first_day + n % (end_day - first_day),
                plays,
                plays * 9 // 10,
                plays * 40,
                5_000 + n % 900,
                False,
            )
        )
    insert_many(
        raw,
        dialect,
        "play_row",
        ("report_pk", "work_pk", "territory", "day", "plays", "valid_plays", "watch_minutes", "ad_revenue", "held"),
        rows,
    )
    raw.commit()
    raw.close()
    engine.dispose()


def close_period(platform: Party, first: date, last: date) -> str:
    """The period closed through the API as its platform, once its root is on chain."""
    r = platform.client.post(
        "/periods/close", json={"period_start": str(first), "period_end": str(last), "currency": CURRENCY}
    )
    if r.status_code != 201:
        raise RuntimeError(f"closing the period failed: {r.status_code} {r.text[:500]}")
    period_id = r.json()["period_id"]
    deadline = time.monotonic() + 120
    while (status := platform.client.get(f"/periods/{period_id}").json()["status"]) not in ("committed", "finalised"):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the period is still {status} two minutes after closing")
        time.sleep(0.2)
    return period_id


# -- the browser -----------------------------------------------------------------------------


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):8.0f} {min(values):7.0f} {max(values):7.0f}"


class Browser:
    def __init__(self, playwright, base_url: str) -> None:
        self.browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        self.base_url = base_url
        messages = json.loads((ROOT / "api" / "console" / "static" / "messages.json").read_text())
        self.show_all_label = messages["en"].get("statement.all")

    @property
    def version(self) -> str:
        return self.browser.version

    def signed_in(self, key: str):
        """A new context (no cache, no cookies) signed in the way a person does."""
        context = self.browser.new_context(
            base_url=self.base_url, locale="en-US", viewport={"width": 1280, "height": 900}
        )
        context.add_init_script(OBSERVER)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        # The console has no favicon; the browser's request for one is not the page's error.
        page.on(
            "console",
            lambda m: (
                errors.append(f"{m.text} ({m.location['url']})")
                if m.type == "error" and not m.location["url"].endswith("/favicon.ico")
                else None
            ),
        )
        page.goto("/console/login")
        page.fill("#api-key", key)
        page.click("#sign-in button[type=submit]")
        page.wait_for_url(re.compile(r"/console/overview"))
        return context, page, errors

    def open_statement(self, page, period_id: str, lines: int) -> tuple[float, dict]:
        """Seconds from asking for the page until its lines table is in and painted, and the page's own marks.
        The page may draw the first lines only, when it says so ("500 of 10000 lines shown")."""
        began = time.perf_counter()
        page.goto(f"/console/statements?period={period_id}", wait_until="commit")
        page.wait_for_function("() => window.__bench && window.__bench.painted !== undefined", timeout=300_000)
        wall = time.perf_counter() - began
        marks = page.evaluate(MARKS)
        numbers = [int(n) for n in re.findall(r"\d+", (marks["note"] or "").replace(",", ""))]
        if marks["rows"] != lines and not (marks["rows"] < lines and numbers[:2] == [marks["rows"], lines]):
            raise RuntimeError(
                f"the table had {marks['rows']} rows when it appeared, not {lines} (the page says: {marks['note']})"
            )
        return wall, marks

    def show_all(self, page) -> dict | None:
        """Milliseconds to draw every line once the page is asked to; None when it has no "Show all"."""
        return page.evaluate(SHOW_ALL, self.show_all_label)

    def verify(self, page, lines: int) -> dict:
        """Milliseconds from the click until the verdict is in the page and painted, and the page's own figure."""
        got = page.evaluate(VERIFY)
        if got["testid"] != "verify-result" or got["ok"] != "true":
            raise RuntimeError(f"the statement did not verify: {got['text']}")
        if got["failed"] or got["proven"] != min(lines, got["rows"]):
            raise RuntimeError(f"{got['proven']} of the {got['rows']} lines drawn were shown as proven")
        ms = re.search(r"\((\d+) ms", got["text"])
        if ms is None:
            raise RuntimeError(f"no time in the verdict: {got['text']}")
        return dict(got, own=int(ms.group(1)))


def first_render(args, browser: Browser, a: Party, period_id: str) -> None:
    print(
        f"\n1. first render of the statements page, payee A, {args.lines:,} lines "
        f"({plural(args.runs, 'run')}, each in a new browser context; ms)"
    )
    walls, marks, everything = [], [], []
    for _ in range(args.runs):
        context, page, errors = browser.signed_in(a.key)
        try:
            wall, mark = browser.open_statement(page, period_id, args.lines)
            if mark["rows"] < args.lines:
                everything.append(browser.show_all(page))
        finally:
            context.close()
        if errors:
            raise RuntimeError(f"the page reported errors: {errors[:5]}")
        walls.append(wall * 1000)
        marks.append(mark)
    drawn = marks[-1]["rows"]
    print(
        f"  the page draws {drawn:,} of the {args.lines:,} lines at first"
        + (f" (it says: {marks[-1]['note']})" if drawn < args.lines else "")
    )
    print(f"  {'':<58} {'median':>8} {'min':>7} {'max':>7}")
    rows = [
        ("navigation asked -> table painted, seen from Playwright", walls),
        ("page: navigation start -> HTML received", [m["html"] for m in marks]),
        ("page: navigation start -> DOMContentLoaded", [m["dcl"] for m in marks]),
        ("page: GET /periods (request -> last byte)", [m["pEnd"] - m["pStart"] for m in marks]),
        ("page: statement fetch started", [m["stStart"] for m in marks]),
        ("page: statement fetch (request -> last byte)", [m["stEnd"] - m["stStart"] for m in marks]),
        ("page: JSON received -> table in the document", [m["inDom"] - m["stEnd"] for m in marks]),
        ("page: navigation start -> table in the document", [m["inDom"] for m in marks]),
        ("page: table in the document -> next frame done", [m["painted"] - m["inDom"] for m in marks]),
        ("page: navigation start -> next frame done (painted)", [m["painted"] for m in marks]),
    ]
    for label, values in rows:
        print(f"  {label:<58} {spread(values)}")
    print(
        f"  statement JSON as the page fetched it (without proofs, gzip): "
        f"{marks[-1]['stBytes'] / 2**20:.2f} MiB on the wire, {marks[-1]['stDecoded'] / 2**20:.2f} MiB decoded; "
        f"{marks[-1]['nodes']:,} elements in the page once rendered"
    )
    busy = main_thread(browser, a, period_id, args.lines)
    print(
        f"  one more run with Chrome's Performance metrics on, page asked for -> painted: main thread busy "
        f"{busy['TaskDuration'] * 1000:.0f} ms, of which layout {busy['LayoutDuration'] * 1000:.0f} ms and style "
        f"recalculation {busy['RecalcStyleDuration'] * 1000:.0f} ms"
    )
    if drawn < args.lines:
        if any(e is None for e in everything):
            print(f'  no "{browser.show_all_label}" button found: every line was not drawn')
            return
        print(f'  then "{browser.show_all_label}" pressed, every line drawn:')
        if any(e["rows"] != args.lines for e in everything):
            raise RuntimeError(f"after showing all, the table had {everything[-1]['rows']} rows, not {args.lines}")
        print(f"  {'click -> table with every row in the document':<58} {spread([e['inDom'] for e in everything])}")
        print(f"  {'click -> next frame done (painted)':<58} {spread([e['painted'] for e in everything])}")
        print(f"  {everything[-1]['nodes']:,} elements in the page then")


def main_thread(browser: Browser, payee: Party, period_id: str, rows: int) -> dict:
    """Where the page's main thread spent the first render, from Chrome's own counters."""
    context, page, _ = browser.signed_in(payee.key)
    try:
        cdp = context.new_cdp_session(page)
        cdp.send("Performance.enable")
        names = ("TaskDuration", "LayoutDuration", "RecalcStyleDuration")
        before = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        browser.open_statement(page, period_id, rows)
        after = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
        return {name: after[name] - before.get(name, 0) for name in names}
    finally:
        context.close()


def verification(args, browser: Browser, payee: Party, period_id: str, lines: int, runs: int) -> None:
    results = []
    for _ in range(runs):
        context, page, errors = browser.signed_in(payee.key)
        try:
            browser.open_statement(page, period_id, lines)
            results.append(browser.verify(page, lines))
        finally:
            context.close()
        if errors:
            raise RuntimeError(f"the page reported errors: {errors[:5]}")
    own = [r["own"] for r in results]
    print(f"  {'':<58} {'median':>8} {'min':>7} {'max':>7}")
    print(f"  {'click -> verdict in the page, every line proven':<58} {spread([r['shown'] for r in results])}")
    print(f"  {'click -> next frame done (verdicts painted)':<58} {spread([r['painted'] for r in results])}")
    print(f"  {'the page own figure (verifyStatement alone)':<58} {spread(own)}")
    print(
        f"  {'per line (page figure / lines)':<58} {statistics.median(own) / lines:8.2f} "
        f"{min(own) / lines:7.2f} {max(own) / lines:7.2f}"
    )


def fetch_times(args, a: Party, period_id: str) -> None:
    path = f"/periods/{period_id}/statement"
    began = time.perf_counter()
    cold = a.client.get(path).raise_for_status()
    cold_s = time.perf_counter() - began
    warm = []
    for _ in range(args.runs):
        began = time.perf_counter()
        body = a.client.get(path).raise_for_status()
        warm.append((time.perf_counter() - began) * 1000)
    statement = body.json()
    if len(statement["lines"]) != args.lines:
        raise RuntimeError(f"payee A's statement has {len(statement['lines'])} lines, not {args.lines}")
    depths = sorted({len(line["proof"]) for line in statement["lines"]})
    proofs = f"{depths[0]}" if len(depths) == 1 else f"{depths[0]} to {depths[-1]}"
    size = len(cold.content)
    print("\n0. the statement JSON alone (GET /periods/{id}/statement, API key, httpx)")
    print(
        f"  payee A: {len(statement['lines']):,} lines of {statement['line_count']:,} in the period, proofs of "
        f"{proofs} hashes; {size:,} bytes ({size / 2**20:.2f} MiB)"
    )
    print(f"  first fetch after the commit (the service rebuilds the period's tree): {cold_s * 1000:.0f} ms")
    print(
        f"  again, tree cached ({plural(args.runs, 'fetch', 'fetches')}): median {statistics.median(warm):.0f} ms, "
        f"min {min(warm):.0f}, max {max(warm):.0f}"
    )


def postgres_admin() -> str:
    base = os.environ.get("REELLEDGER_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    return base.replace("postgresql+psycopg", "postgresql")


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(postgres_admin(), autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def run(args, workdir: Path) -> None:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise SystemExit("Debian's chromium is needed (scripts/setup installs it)")
    env = {}
    if args.database == "postgresql":
        from benchmarks.settle import postgres_url

        env["REELLEDGER_DATABASE_URL"] = postgres_url(PG_DATABASE)
    try:
        with BenchService(**env) as service:
            url = env.get("REELLEDGER_DATABASE_URL") or f"sqlite:///{(service.data_dir / 'reelledger.db').resolve()}"
            studio = Party(service, "rights_holder", "bench-studio")
            platform = Party(service, "platform", "bench-platform")
            a = Party(service, "rights_holder", "bench-payee-a")
            b = Party(service, "rights_holder", "bench-payee-b")
            last = date.today() - timedelta(days=4)
            first = last - timedelta(days=6)
            began = time.perf_counter()
            seed(
                url,
                studio,
                platform,
                a,
                b,
                args.lines,
                args.verify_lines,
                (first - EPOCH).days,
                (last - EPOCH).days + 1,
            )
            seeded = time.perf_counter() - began
            began = time.perf_counter()
            period_id = close_period(platform, first, last)
            closed = time.perf_counter() - began
            period = platform.client.get(f"/periods/{period_id}").json()
            print(
                f"period {first} .. {last} on {args.database}: {args.lines:,} works seeded in {seeded:.1f} s; "
                f"closed through the API and committed on chain in {closed:.1f} s "
                f"({period['line_count']:,} lines; status {period['status']})"
            )
            print(f"payee A: {args.lines:,} lines; payee B: {args.verify_lines:,} lines")
            fetch_times(args, a, period_id)
            with sync_playwright() as playwright:
                browser = Browser(playwright, service.url)
                print(
                    f"browser: Chromium {browser.version}, headless, --disable-gpu, 1280 x 900 viewport; "
                    f"Playwright {version('playwright')}"
                )
                first_render(args, browser, a, period_id)
                print(
                    f"\n2. verification in the browser against the Anvil node, payee B, {args.verify_lines:,} "
                    f"lines ({plural(args.runs, 'run')}, each in a new browser context; ms)"
                )
                verification(args, browser, b, period_id, args.verify_lines, args.runs)
                if args.large_verify_runs:
                    print(
                        f"\n3. the same for payee A's {args.lines:,} lines "
                        f"({plural(args.large_verify_runs, 'run')}; ms)"
                    )
                    verification(args, browser, a, period_id, args.lines, args.large_verify_runs)
                browser.browser.close()
    finally:
        if args.database == "postgresql":
            drop_database(PG_DATABASE)


def report(printed: str, elapsed: float, load: tuple[float, float]) -> str:
    command = f"scripts/bench-console{(' ' + ' '.join(sys.argv[1:])) if sys.argv[1:] else ''}"
    what = __doc__.split("\n\n", 1)[1].rsplit("\n\n    scripts/bench-console", 1)[0]
    return "\n".join(
        [
            "# Web console benchmark",
            "",
            "Generated by `benchmarks/console.py`; do not edit by hand, run it again.",
            "",
            f"- Date: {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}",
            f"- Machine: {machine()}",
            f"- Browser: {chromium_version()}, headless, software rendering (--disable-gpu), driven by Playwright "
            f"{version('playwright')}",
            f"- Command: `{command}` (took {elapsed / 60:.1f} min; 1-minute load average {load[0]:.1f} at the start, "
            f"{load[1]:.1f} at the end)",
            "- Code: "
            + code_version(
                ("api/console", "console/src", "ledger/settlement", "benchmarks/console.py"),
                "the console, settlement or benchmark code",
            ),
            "",
            "## What is measured",
            "",
            what.strip(),
            "",
            "## Figures",
            "",
            "```",
            printed.rstrip(),
            "```",
            "",
            "## Running it again",
            "",
            "    scripts/bench-console                          # SQLite, the figures above (writes this file)",
            "    scripts/bench-console --database postgresql    # PostgreSQL at 127.0.0.1:5432",
            "    scripts/bench-console --lines 2000 --runs 1    # a quick look (this file is left alone)",
            "",
        ]
    )


def chromium_version() -> str:
    try:
        out = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return "Chromium (version unknown)"
    found = re.search(r"Chromium [\d.]+", out)
    return found.group(0) if found else out.strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lines", type=int, default=10_000, help="payee A's lines (one per work)")
    parser.add_argument("--verify-lines", type=int, default=1_000, help="payee B's lines, verified in part 2")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--large-verify-runs", type=int, default=1, help="verifications of payee A's lines; 0 skips")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.set_defaults(workdir=None)  # nothing is written to disk but the report
    parser.add_argument("--output", type=Path, default=None)
    args = parser.parse_args()
    if not 0 < args.verify_lines <= args.lines:
        parser.error("--verify-lines is between 1 and --lines")
    full = all(
        getattr(args, k) == parser.get_default(k) for k in ("lines", "verify_lines", "runs", "large_verify_runs")
    )
    output = args.output or (DOC if full and args.database == "sqlite" else None)
    load = os.getloadavg()[0]
    printed, elapsed = run_printing(run, args)
    if output is not None:
        output.write_text(report(printed, elapsed, (load, os.getloadavg()[0])))
        print(f"wrote {output}")


if __name__ == "__main__":
    main()
