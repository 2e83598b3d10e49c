"""The web console in a real browser (Debian's chromium, driven by Playwright) against the real
service on loopback with its managed Anvil node: sign in, register a work by upload, post a
play report (every bad row shown first), close and fund a period, verify a statement in the
browser against the chain (and see a tampered statement file fail), claim, follow a piracy case
to its leak; a wrong role gets a 403 page, and nothing leaks between tenants.

A screenshot of each main page is saved under build/console-screenshots (or
REELLEDGER_CONSOLE_SHOTS). Media: scikit-image's bundled photographs (skimage.data)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
from playwright.sync_api import expect
from skimage import data

from ledger.models import DerivativeKind, Role
from tests.helpers.cases import jpeg, report, wait_anchored
from tests.helpers.derivatives import derive
from tests.helpers.distributions import MASTER, decode, distribute, png, register, wait_ready
from tests.helpers.service import running_service, written
from tests.helpers.settlement import RULE, close, make_deal, make_derivative, post_report, rows, wait_status
from watermark import attacks
from watermark.testimages import full_hd

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SHOTS = Path(
    os.environ.get("REELLEDGER_CONSOLE_SHOTS", Path(__file__).resolve().parents[2] / "build" / "console-screenshots")
)
QUEUE_REDIS = "redis://127.0.0.1:6379/14"  # the crawl queue's Redis for these tests: a database of their own
ROW_HEADER = "work,territory,date,plays,valid_plays,watch_minutes,ad_revenue,currency\n"


def key_of(client) -> str:
    return client.headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    with running_service(
        tmp_path_factory.mktemp("console") / "data", write_wait=10, dispute_window=2, redis_url=QUEUE_REDIS
    ) as svc:
        yield svc


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    assert Path(CHROMIUM).exists(), "Debian's chromium is needed (scripts/setup installs it)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def by_hash(service, client, title: str) -> str:
    """A work registered by its SHA-256 (no master needed to draw a family)."""
    r = client.post(
        "/works", json={"sha256": hashlib.sha256(title.encode()).hexdigest(), "title": title, "kind": "film"}
    )
    return written(service, r).json()["work_id"]


@pytest.fixture(scope="module")
def deal(service):
    return make_deal(service)


class Console:
    """One signed-in browser: its own context (cookies), so accounts never share a session."""

    def __init__(self, browser, service, api_key: str | None, lang: str = "en") -> None:
        self.base = service.url
        self.context = browser.new_context(  # a reader in UTC+8: a UTC time read as local time would show
            base_url=service.url,
            locale="en-US",
            timezone_id="Asia/Shanghai",
            viewport={"width": 1280, "height": 900},
            accept_downloads=True,
        )
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        if api_key is not None:
            self.sign_in(api_key, lang)

    def sign_in(self, api_key: str, lang: str = "en") -> None:
        self.page.goto(f"/console/login?lang={lang}")
        self.page.fill("#api-key", api_key)
        self.page.click("#sign-in button[type=submit]")
        self.page.wait_for_url(re.compile(r"/console/overview"))

    def open(self, path: str):
        self.page.goto(path)
        self.page.wait_for_selector("#app > :not(p.muted):first-child, [data-testid=refused]")
        return self.page

    def shot(self, name: str) -> None:
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        assert not self.errors, self.errors
        self.context.close()


@pytest.fixture
def console(browser, service):
    opened: list[Console] = []

    def make(api_key: str | None, lang: str = "en") -> Console:
        opened.append(Console(browser, service, api_key, lang))
        return opened[-1]

    yield make
    for c in opened:
        c.close()


def test_a_wrong_key_is_refused_with_a_readable_message_and_pages_need_a_session(console, service):
    c = console(None)
    c.page.goto("/console/works")
    assert "/console/login" in c.page.url  # no session: sent to sign in, nothing shown
    where = c.page.inner_text("[data-testid=key-source]")  # a new user is told where a key comes from
    assert "reelledger accounts create" in where and "POST /accounts" in where and "once" in where
    c.page.fill("#api-key", "rl_nope_nope")
    c.page.click("#sign-in button[type=submit]")
    c.page.wait_for_selector("#sign-in .error:not([hidden])")
    assert "not valid" in c.page.inner_text("#sign-in .error")
    cookies = {k["name"] for k in c.context.cookies()}
    assert "reelledger_session" not in cookies
    c.shot("sign-in")


def test_a_rights_holder_registers_a_work_by_upload_and_sees_its_on_chain_record(console, service, tmp_path):
    _, address, studio = service.new_account(Role.rights_holder)
    c = console(key_of(studio))
    page = c.open("/console/works")
    master = tmp_path / "coffee.png"
    cv2.imwrite(str(master), cv2.cvtColor(data.coffee(), cv2.COLOR_RGB2BGR))

    page.set_input_files("#work-file", str(master))
    page.fill("#work-title", "Coffee")
    assert "NAME:ROLE" in page.get_attribute("#work-parties", "placeholder")  # as the CLI's --party takes it
    page.fill("#work-parties", "no role on this line")
    page.click("#register-work button[type=submit]")
    assert "NAME:ROLE" in page.inner_text("#register-work [role=alert]")  # bad input: a readable message, nothing sent
    assert studio.get("/works").json()["total"] == 0

    page.fill("#work-parties", "Blue Studio:producer\n李导演:director")
    page.click("#register-work button[type=submit]")
    page.wait_for_selector("[data-testid=registered]")
    assert page.locator("[data-testid=progress]").count() == 0  # replaced by the result once the upload finished
    assert page.locator("[data-testid=job-progress]").count() == 0  # and the hashing job's bar once it was done
    job = studio.get("/jobs").json()["items"][0]  # the upload was answered with a job, followed to its end
    assert job["kind"] == "hash_master" and job["status"] == "done"
    work = studio.get("/works").json()["items"][0]
    assert work["title"] == "Coffee" and work["parties"] == [
        {"name": "Blue Studio", "role": "producer"},
        {"name": "李导演", "role": "director"},
    ]
    expect(page.locator("[data-testid=works] tbody tr")).to_have_count(1)

    page.click("[data-testid=registered] a")
    page.wait_for_selector("[data-testid=work-record]")
    record = page.inner_text("[data-testid=work-record]")
    assert work["work_id"] in record and address in record  # the owner as the chain has it
    c.shot("work")
    c.open("/console/works")
    c.shot("works")

    # The same file again is refused with the reason, shown on the page.
    page.set_input_files("#work-file", str(master))
    page.fill("#work-title", "Coffee again")
    page.click("#register-work button[type=submit]")
    page.wait_for_selector("#register-work [role=alert]")
    assert "already" in page.inner_text("#register-work [role=alert]").lower()


def test_settlement_from_report_to_a_statement_verified_in_the_browser_and_claimed(console, service, deal, tmp_path):
    platform = console(key_of(deal.platform))
    page = platform.open("/console/reports")
    good = rows(deal)
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text(
        ROW_HEADER
        + "".join(
            f"{r['work']},{r['territory']},{r['date']},{r['plays']},{r['valid_plays']},{r['watch_minutes']},{r['ad_revenue']},CNY\n"
            for r in good[:2]
        )
        + f"{deal.work_id},CN,2026-02-30,10,5,1,0,CNY\n"
        + f"{deal.work_id},CN,{good[0]['date']},10,50,1,0,CNY\n"
        + f"0x{'ab' * 32},CN,{good[0]['date']},10,5,1,0,CNY\n"
    )
    page.fill("#report-id", "weekly-1")
    page.fill("#report-start", str(deal.start))
    page.fill("#report-end", str(deal.end))
    page.set_input_files("#report-file", str(bad_csv))
    page.click("#post-report button[type=submit]")
    page.wait_for_selector("[data-testid=row-problems]")
    problems = page.locator("[data-testid=row-problem] tbody tr").all_inner_texts()
    assert [p.split("\t")[:2] for p in problems] == [["3", "date"], ["4", "valid_plays"], ["5", "work"]], problems
    platform.shot("report-problems")
    assert deal.platform.get("/reports").json() == []  # nothing was posted

    good_csv = tmp_path / "good.csv"
    good_csv.write_text(
        ROW_HEADER
        + "".join(
            f"{r['work']},{r['territory']},{r['date']},{r['plays']},{r['valid_plays']},{r['watch_minutes']},{r['ad_revenue']},CNY\n"
            for r in good
        )
    )
    page.set_input_files("#report-file", str(good_csv))
    page.click("#post-report button[type=submit]")
    page.wait_for_selector("[data-testid=report-posted]")
    assert "5 rows" in page.inner_text("[data-testid=report-posted]")
    # the list shows the report's anchoring transaction under "On chain", as the report itself does
    expect(page.locator("[data-testid=reports] tbody tr .badge.confirmed")).to_have_count(1)
    platform.shot("reports")

    page = platform.open("/console/periods")
    page.fill("#period-start", str(deal.start))
    page.fill("#period-end", str(deal.end))
    page.fill("#period-pools", "ads=oops")
    page.click("#close-period button[type=submit]")
    assert "name=amount" in page.inner_text("#close-period [role=alert]")
    page.fill("#period-pools", "")
    page.click("#close-period button[type=submit]")
    page.wait_for_selector("[data-testid=period-closed]")
    period = deal.platform.get("/periods").json()[0]
    assert wait_status(deal.platform, period["period_id"], "finalised")["status"] == "finalised"
    page = platform.open("/console/periods")
    owed = int(period["total"])  # all of it still owed: said on the button, in yuan
    expect(page.locator("[data-testid=fund]")).to_have_text(
        f"Pay {owed // 100:,}.{owed % 100:02d} CNY into the contract"
    )
    page.click("[data-testid=fund]")
    page.wait_for_selector("[data-testid=funded]")
    platform.shot("periods")
    page = platform.open("/console/periods")  # once funded, paying in is no longer offered
    expect(page.locator("[data-testid=fully-funded]")).to_have_count(1)
    expect(page.locator("[data-testid=fund]")).to_have_count(0)

    payee = console(key_of(deal.second_payee))
    asked: list[str] = []
    payee.page.on("request", lambda r: asked.append(r.url) if "/periods/" in r.url and "/statement" in r.url else None)
    page = payee.open(f"/console/statements?period={period['period_id']}")
    page.wait_for_selector("[data-testid=statement]")
    assert asked and all(url.endswith("?proofs=false") for url in asked)  # proofs are fetched only to verify or save
    platform_name = deal.platform.get("/accounts/me").json()["name"]  # the platform by its name, its address on hover
    expect(page.locator("[data-testid=statement] [data-testid=statement-platform]")).to_have_text(platform_name)
    page.click("[data-testid=verify]")
    page.wait_for_selector("[data-testid=verify-result]")
    assert page.get_attribute("[data-testid=verify-result]", "data-ok") == "true", page.inner_text(
        "[data-testid=verify-result]"
    )
    verdicts = page.locator("[data-testid=line-verdict]")
    assert verdicts.count() >= 1 and all(v.get_attribute("data-ok") == "true" for v in verdicts.all())
    statement = deal.second_payee.get(f"/periods/{period['period_id']}/statement").json()
    assert {line["payee"].lower() for line in statement["lines"]} == {deal.second_address.lower()}  # only its own lines
    payee.shot("statement-verified")

    page.click("[data-testid=claim]")
    page.wait_for_selector("[data-testid=claimed]")
    line = statement["lines"][0]
    claimed = deal.second_payee.get(f"/periods/{period['period_id']}/statement").json()
    assert claimed["lines"][0]["index"] == line["index"]
    page = payee.open(f"/console/statements?period={period['period_id']}")  # a claimed line is not offered again
    expect(page.locator("[data-testid=statement] [data-testid=line-paid]")).to_have_count(1)
    expect(page.locator("[data-testid=statement] [data-testid=claim]")).to_have_count(0)
    page.click("[data-testid=verify]")
    expect(page.locator("[data-testid=line-verdict]")).to_contain_text("paid")
    expect(page.locator("[data-testid=statement] [data-testid=claim]")).to_have_count(0)

    # The statement file, saved from the page and altered, fails in the browser.
    with page.expect_download() as saved:
        page.click("[data-testid=statement] [data-testid=download]")
    saved_statement = json.loads(Path(saved.value.path()).read_text())
    assert saved_statement["root"] == statement["root"]
    saved_statement["lines"][0]["amount"] = str(int(saved_statement["lines"][0]["amount"]) + 100)
    saved_statement["status"] = "committing"  # the file's own, stale word
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(saved_statement))
    page.set_input_files("[data-testid=statement-file]", str(tampered))
    result = page.locator("section:has([data-testid=statement-file]) [data-testid=verify-result]")
    result.wait_for()
    assert result.get_attribute("data-ok") == "false"
    assert (
        page.locator("section:has([data-testid=statement-file]) [data-testid=line-verdict][data-ok=false]").count() == 1
    )
    file_section = page.locator("section:has([data-testid=statement-file])")
    expect(file_section.locator("[data-testid=statement-status]")).to_have_text("final on chain, claims open")
    expect(file_section.locator("[data-testid=claim]")).to_have_count(0)  # a line that failed is not claimed
    payee.shot("statement-tampered")

    # A long statement is drawn 500 lines at a time; after a check, the lines that failed come first.
    line = statement["lines"][0]
    long_statement = dict(
        statement, lines=[dict(line, index=line["index"] if i == 0 else 10_000 + i) for i in range(600)]
    )
    long_file = tmp_path / "long.json"
    long_file.write_text(json.dumps(long_statement))
    page.set_input_files("[data-testid=statement-file]", str(long_file))
    section = page.locator("section:has([data-testid=statement-file])")
    # Waiting on the text, not on a verdict element: the page must not show the previous file's verdict meanwhile.
    expect(section.locator("[data-testid=lines-shown]")).to_contain_text(
        "500 of 599", timeout=60_000
    )  # only the made-up lines failed
    assert section.locator("[data-testid=verify-result]").get_attribute("data-ok") == "false"
    expect(section.locator("[data-testid=lines] tbody tr")).to_have_count(500)
    section.locator("[data-testid=more-lines]").click()
    expect(section.locator("[data-testid=lines] tbody tr")).to_have_count(599)
    # drawn as a long list (rows off screen skipped by layout), and still a table to a screen reader
    lines_table = section.get_by_role("table")
    expect(lines_table.get_by_role("row")).to_have_count(600)
    expect(lines_table.get_by_role("columnheader")).to_have_count(8)
    assert lines_table.get_by_role("row").nth(599).get_by_role("cell").count() == 8
    section.locator("[data-testid=only-failed]").click()
    expect(section.locator("[data-testid=lines-shown]")).to_contain_text("500 of 600")

    auditor = console(key_of(service.new_account(Role.auditor)[2]))
    page = auditor.open("/console/periods")
    page.wait_for_selector("[data-testid=audit]")
    expect(page.locator("[data-testid=audit].ok").first).to_be_visible()
    assert page.locator("#close-period").count() == 0  # auditors read, never write
    auditor.shot("audit")

    owner = console(key_of(deal.owner))
    page = owner.open("/console/revenue")
    page.wait_for_selector("[data-testid=revenue-total]")
    owner_lines = deal.owner.get(f"/periods/{period['period_id']}/statement").json()
    amounts_only = deal.owner.get(f"/periods/{period['period_id']}/statement", params={"proofs": "false"}).json()
    assert [{k: v for k, v in line.items() if k != "proof"} for line in owner_lines["lines"]] == amounts_only["lines"]
    assert all(line["proof"] for line in owner_lines["lines"]) and not any(
        "proof" in line for line in amounts_only["lines"]
    )
    assert owner_lines["payee_total"] in page.inner_text("[data-testid=revenue-total]").replace(",", "").replace(
        ".", ""
    )
    charts = page.evaluate(CHARTS)
    assert charts["by-platform-CNY"]["labels"] == [platform_name]  # the platform by its name, not its address
    by_work = charts["by-work-CNY"]
    assert sum(by_work["data"]) == pytest.approx(int(owner_lines["payee_total"]) / 100)  # fen drawn as yuan, 1.02 not 1
    assert by_work["max"] >= max(by_work["data"])  # the axis holds the tallest bar
    total = int(owner_lines["payee_total"])
    # pointed at, a value is the exact amount in yuan with its currency, as the tables show it
    assert charts["by-platform-CNY"]["tooltip"] == f"{platform_name}: {total // 100:,}.{total % 100:02d} CNY"
    owner.shot("revenue")


# Each chart of the page as Chart.js drew it: its labels, values, the top of its value axis and
# what pointing at its first value shows.
CHARTS = """async () => {
  const { Chart } = await import('/console/static/console.js');
  return Object.fromEntries([...document.querySelectorAll('canvas')].map((canvas) => {
    const chart = Chart.getChart(canvas);
    const drawn = { labels: chart.data.labels, data: chart.data.datasets[0].data };
    const [dataset] = chart.data.datasets;
    const [value] = dataset.data;
    const pointedAt = chart.options.plugins.tooltip.callbacks.label({ chart, dataset, datasetIndex: 0, dataIndex: 0,
      label: chart.data.labels[0], raw: value, parsed: value, formattedValue: String(value) });
    return [canvas.id, { ...drawn, max: chart.scales.y?.max ?? null, tooltip: pointedAt }];
  }));
}"""


def test_an_upstream_payee_verifies_lines_from_a_derivative_in_the_browser_and_sees_them_on_the_revenue_page(
    console, service
):
    drama = make_deal(service)
    reedit = make_derivative(service, drama, drama.work_id, drama.owner, share_bps=3000)
    posted = post_report(drama, "weekly-upstream", rows(drama) + rows(drama, work_id=reedit.work_id))
    assert posted.status_code == 201, posted.text
    closed = close(drama)
    assert closed.status_code == 201, closed.text
    period_id = closed.json()["period_id"]
    assert wait_status(drama.platform, period_id, "finalised")["status"] == "finalised"

    investor = console(key_of(drama.second_payee))
    page = investor.open(f"/console/statements?period={period_id}")
    page.wait_for_selector("[data-testid=statement]")
    rows_shown = page.locator("[data-testid=statement] [data-testid=lines] tbody tr").all_inner_texts()
    assert len(rows_shown) == 2 and "Drama" in rows_shown[0] and "direct" in rows_shown[0]
    assert "Drama" in rows_shown[1] and "Re-edit" in rows_shown[1] and "25.10" in rows_shown[1], rows_shown
    page.click("[data-testid=verify]")
    page.wait_for_selector("[data-testid=verify-result]")
    assert page.get_attribute("[data-testid=verify-result]", "data-ok") == "true", page.inner_text(
        "[data-testid=verify-result]"
    )
    verdicts = page.locator("[data-testid=line-verdict]")
    assert verdicts.count() == 2 and all(v.get_attribute("data-ok") == "true" for v in verdicts.all())
    investor.shot("statement-upstream")

    page = investor.open("/console/revenue")
    upstream = page.locator("[data-testid=revenue-upstream] tbody tr")
    expect(upstream).to_have_count(1)
    entry = upstream.first.inner_text()
    assert "Drama" in entry and "Re-edit" in entry and "25.10" in entry, entry
    investor.shot("revenue-upstream")


def test_a_piracy_case_shows_its_leak_evidence_and_notices(console, service):
    _, _, studio = service.new_account(Role.rights_holder)
    _, _, platform = service.new_account(Role.platform)
    platform_name = platform.get("/accounts/me").json()["name"]
    _, _, crawler = service.new_account(Role.crawler)
    work_id = register(studio, MASTER, "Astronaut")
    dist = wait_ready(studio, distribute(studio, work_id, MASTER, platform_name).json()["id"])
    leaked = decode(studio.get(dist["copy"]["url"]).content)
    shot = cv2.imencode(".png", np.full((40, 60, 3), 200, np.uint8))[1].tobytes()
    first = datetime.now(UTC) - timedelta(minutes=10)
    found = report(crawler, jpeg(attacks.ATTACKS["crop10"](leaked)), screenshot=shot, fetched_at=first.isoformat())
    assert found.status_code == 201, found.text
    case = wait_anchored(crawler, found.json()["case"]["id"], service.ledger)

    c = console(key_of(studio))
    page = c.open("/console/cases")
    assert page.inner_text("[data-testid=open-cases]") == "1"
    shortened = f"{work_id[:6]}…{work_id[-4:]}"  # two works of one title told apart
    row = page.locator("[data-testid=cases] tbody tr").first.inner_text()
    assert "Astronaut" in row and shortened in row, row
    assert page.get_attribute("[data-testid=cases] [data-testid=work-id]", "title") == work_id
    # the shortened id is one piece, never broken over two lines of its cell
    assert page.eval_on_selector("[data-testid=cases] [data-testid=work-id]", "a => a.getClientRects().length") == 1
    c.shot("cases")
    page.click("[data-testid=case-link]")
    page.wait_for_selector("[data-testid=case]")
    assert page.inner_text("[data-testid=case-work]") == f"Astronaut {shortened}"
    assert page.inner_text("[data-testid=case-match]").startswith("the picture matches the work's picture")
    assert platform_name in page.inner_text("[data-testid=leak-source]")
    assert case["evidence_hash"] in page.inner_text("[data-testid=case]")
    assert sorted(n.get_attribute("data-format") for n in page.locator("[data-testid=notice]").all()) == [
        "cn-notice",
        "dmca",
    ]
    # no counter-notice, the link never removed: only what the service would take is offered
    assert [b.get_attribute("data-mark") for b in page.locator("button[data-mark]").all()] == ["acknowledged"]
    c.shot("case")

    # taken down after 73 s, then found again: the page counts the takedown and its lifetime
    gone = crawler.post(
        f"/cases/{case['id']}/checks", json={"alive": False, "checked_at": (first + timedelta(seconds=73)).isoformat()}
    )
    assert gone.status_code == 200 and gone.json()["status"] == "closed", gone.text
    page = c.open(f"/console/case?id={case['id']}")  # removed: found again may be marked now
    expect(page.locator("button[data-mark]")).to_have_count(2)
    assert [b.get_attribute("data-mark") for b in page.locator("button[data-mark]").all()] == [
        "acknowledged",
        "re-found",
    ]
    again = report(
        crawler,
        jpeg(attacks.ATTACKS["crop10"](leaked)),
        fetched_at=(first + timedelta(minutes=3)).isoformat(),
    )
    assert again.status_code == 200 and again.json()["case"]["status"] == "open", again.text
    assert studio.get("/cases/lifetimes").json()["median_lifetime_seconds"] == 73
    page = c.open("/console/cases")
    expect(page.locator("[data-testid=takedowns]")).to_have_text("1")
    expect(page.locator("[data-testid=median-lifetime]")).to_have_text("1 min 13 s")
    expect(page.locator("canvas#lifetimes")).to_have_count(1)  # the takedown drawn, not "no link taken down"

    crawler_console = console(key_of(crawler))
    page = crawler_console.open("/console/cases")
    expect(page.locator("[data-testid=cases] tbody tr")).to_have_count(1)
    # a crawler cannot open a work's page: the work is named, not linked to a refusal
    expect(page.locator("[data-testid=cases] [data-testid=work-id]")).to_have_attribute("title", work_id)
    expect(page.locator("[data-testid=cases] a[data-testid=work-id]")).to_have_count(0)
    page = crawler_console.open(f"/console/case?id={case['id']}")
    expect(page.locator("[data-testid=case-work] [data-testid=work-id]")).to_have_count(1)
    expect(page.locator("[data-testid=case-work] a")).to_have_count(0)
    assert "image" in page.inner_text("[data-testid=case]")

    chinese = console(key_of(studio), lang="zh")
    page = chinese.open("/console/cases")
    expect(page.locator("[data-testid=median-lifetime]")).to_have_text("1 分 13 秒")
    page = chinese.open(f"/console/case?id={case['id']}")
    assert "图片" in page.inner_text("[data-testid=case]") and " image" not in page.inner_text("[data-testid=case]")


def test_a_counter_notice_is_filed_through_the_notices_link_and_shown_on_the_case_timeline(console, service):
    _, _, studio = service.new_account(Role.rights_holder)
    _, _, platform = service.new_account(Role.platform)
    _, _, crawler = service.new_account(Role.crawler)
    master = png(full_hd(data.coffee()))  # a work of its own: this module registers the astronaut elsewhere
    work_id = register(studio, master, "Coffee")
    dist = wait_ready(
        studio, distribute(studio, work_id, master, platform.get("/accounts/me").json()["name"]).json()["id"]
    )
    leak = "http://pirate.example/watch/countered.jpg"
    found = report(crawler, jpeg(decode(studio.get(dist["copy"]["url"]).content)), url=leak)
    assert found.status_code == 201, found.text
    case = wait_anchored(crawler, found.json()["case"]["id"], service.ledger)
    case = studio.get(f"/cases/{case['id']}").json()  # the link's token is shown to the sender only
    link = re.search(r"(http\S+/counter-notices\?token=[A-Za-z0-9_-]+)", case["notices"][1]["body"]).group(1)

    # the notice's recipient: no account, only the link
    recipient = console(None)
    page = recipient.page
    unknown = link.split("?token=")[0] + "?token=nothing-here"
    answer = page.goto(unknown)  # a link mistyped, in a browser: a page saying so, not the API's JSON
    assert answer.status == 404 and answer.headers["content-type"].startswith("text/html")
    expect(page.locator("[data-testid=counter-notice-refused] [role=alert]")).to_have_text(
        "No counter-notice link with this token."
    )
    assert service.client().get("/counter-notices", params={"token": "nothing-here"}).json()["error"] == {
        "code": "not_found",
        "message": "no counter-notice link with this token",
        "details": {"kind": "counter-notice link"},
    }
    page.goto(link)
    page.wait_for_selector("[data-testid=counter-notice] form")
    page.fill("#cn-name", "Li Wei")
    page.fill("#cn-address", "1 Example Road, Hangzhou")
    page.fill("#cn-email", "li.wei@example.org")
    page.fill("#cn-explanation", "My own commentary.")
    page.check("input[name=good_faith]")
    page.click("#counter-notice button[type=submit]")
    page.wait_for_selector("[data-testid=filed]")
    filed = service.client(key_of(studio)).get(f"/cases/{case['id']}/counter-notice").json()
    said = page.inner_text("[data-testid=filed]")
    assert f"Counter-notice filed; its hash {filed['document_hash']} is recorded and is being anchored" in said, said
    due = filed["restoration_due_at"].replace("T", " ")[:16]  # to the minute, as the console writes dates
    assert f"restored on {due} UTC" in said and filed["restoration_due_at"] not in said, said
    assert filed["document"]["urls"] == sorted([leak, "http://pirate.example/"])
    recipient.shot("counter-notice")

    owner = console(key_of(studio))
    page = owner.open(f"/console/case?id={case['id']}")
    page.wait_for_selector("[data-testid=timeline]")
    kinds = [s.get_attribute("data-kind") for s in page.locator("[data-testid=step]").all()]
    assert kinds[0] == "found" and "countered" in kinds
    assert page.get_attribute("[data-testid=restoration]", "data-state") == "waiting"
    assert "Li Wei" in page.inner_text("[data-testid=counter-notice]")
    assert filed["document_hash"] in page.inner_text("[data-testid=timeline]")
    # the waiting period runs: a court action or a restoration may be marked; the link was never removed
    marks = [b.get_attribute("data-mark") for b in page.locator("button[data-mark]").all()]
    assert marks == ["acknowledged", "action-filed", "restored"], marks
    page.click("button[data-mark=action-filed]")
    expect(page.locator("[data-testid=restoration]")).to_have_attribute("data-state", "action_filed")
    expect(page.locator("button[data-mark]")).to_have_count(1)  # a court action stops the restoration
    assert page.get_attribute("button[data-mark]", "data-mark") == "acknowledged"
    owner.shot("case-timeline")

    # the crawler follows the timeline but does not read the filer's details
    page = console(key_of(crawler)).open(f"/console/case?id={case['id']}")
    page.wait_for_selector("[data-testid=timeline]")
    assert page.locator("[data-testid=counter-notice]").count() == 0 and "Li Wei" not in page.content()
    assert page.locator("button[data-mark]").count() == 0


def test_a_wrong_role_gets_a_403_page_and_tenants_see_nothing_of_each_other(console, service, deal):
    platform = console(key_of(deal.platform))
    response = platform.page.goto("/console/works")
    assert response.status == 403
    assert platform.page.get_attribute("[data-testid=refused]", "data-status") == "403"
    platform.shot("forbidden")

    crawler = console(key_of(service.new_account(Role.crawler)[2]))
    assert crawler.page.goto("/console/statements").status == 403
    assert crawler.page.goto("/console/nothing-here").status == 404
    mistyped = crawler.page.goto("/console/crawls/nothing/here")  # a page, not the API's JSON
    assert mistyped.status == 404 and mistyped.headers["content-type"].startswith("text/html")
    assert crawler.page.get_attribute("[data-testid=refused]", "data-status") == "404"
    assert crawler.page.get_attribute("[data-testid=refused] a", "href") == "/console/overview"
    assert crawler.page.goto("/console/static/nothing.js").headers["content-type"].startswith("text/html")
    api_miss = crawler.page.request.get("/works/nothing/here")  # the API's addresses keep their JSON 404
    assert api_miss.status == 404 and api_miss.json()["error"]["code"] == "http_404"

    outsider = console(key_of(service.new_account(Role.rights_holder)[2]))
    page = outsider.open("/console/works")
    expect(page.locator("[data-testid=works-empty]")).to_have_count(1)  # not the deal's work
    page = outsider.open(f"/console/work?id={deal.work_id}")
    page.wait_for_selector("[role=alert]")
    assert "no work" in page.inner_text("[role=alert]").lower()
    page = outsider.open("/console/statements")
    expect(page.locator("[data-testid=periods-empty]")).to_have_count(1)


def test_a_disputed_line_shows_as_held_and_the_arbiter_decides_it_in_the_console(browser, tmp_path):
    # a service of its own: its dispute window (a minute) leaves time to dispute a line
    with running_service(tmp_path / "data", write_wait=10, dispute_window=60, decision_window=600) as svc:
        deal = make_deal(svc)
        report = deal.platform.post(
            "/reports",
            params={"report_id": "d", "period_start": str(deal.start), "period_end": str(deal.end), "currency": "CNY"},
            content="".join(json.dumps(r) + "\n" for r in rows(deal)),
            headers={"content-type": "application/x-ndjson"},
        )
        assert report.status_code == 201, report.text
        closed = close(deal)
        period_id = closed.json()["period_id"]
        line = deal.second_payee.get(f"/periods/{period_id}/statement").json()["lines"][0]
        disputed = deal.second_payee.post(
            f"/periods/{period_id}/lines/{line['index']}/dispute",
            json={"reason": "the contract price applies", "claimed_amount": int(line["amount"]) + 100},
        )
        assert disputed.status_code == 200, disputed.text
        own = deal.owner.get(f"/periods/{period_id}/statement").json()["lines"][0]  # the owner's line, upheld below
        owner_disputed = deal.owner.post(
            f"/periods/{period_id}/lines/{own['index']}/dispute",
            json={"reason": "the wrong rule version", "claimed_amount": int(own["amount"]) + 100},
        )
        assert owner_disputed.status_code == 200, owner_disputed.text
        _, _, admin = svc.new_account(Role.admin)
        arbiter_id, _, arbiter = svc.new_account(Role.arbiter)
        assert admin.post("/arbiter/handover", json={"account_id": arbiter_id}).status_code == 200
        assert arbiter.post("/arbiter/accept").status_code == 200

        payee = Console(browser, svc, key_of(deal.second_payee))
        page = payee.open(f"/console/statements?period={period_id}")
        expect(page.locator("[data-testid=line-dispute]")).to_have_attribute("data-state", "held")
        expect(page.locator("[data-testid=statement] [data-testid=claim]")).to_have_count(
            0
        )  # a held line is not claimed
        expect(page.locator("[data-testid=period-disputes] [data-testid=dispute-state]")).to_have_attribute(
            "data-state", "open"
        )
        payee.shot("statement-disputed")

        judge = Console(browser, svc, key_of(arbiter))
        page = judge.open("/console/periods")
        second_row = page.locator("[data-testid=disputes] tbody tr", has_text=f"line {line['index']}")
        second_row.locator("[data-testid=decide-outcome]").select_option("rejected")
        second_row.locator("[data-testid=decide-reason]").fill("the rule in force applies")
        second_row.locator("[data-testid=decide]").click()
        expect(second_row.locator("[data-testid=dispute-state]")).to_have_attribute("data-state", "rejected")
        owner_row = page.locator("[data-testid=disputes] tbody tr", has_text=f"line {own['index']}")
        owner_row.locator("[data-testid=decide-outcome]").select_option("upheld")
        owner_row.locator("[data-testid=decide-reason]").fill("the newer rule version applies")
        owner_row.locator("[data-testid=decide]").click()
        expect(owner_row.locator("[data-testid=dispute-state]")).to_have_attribute("data-state", "upheld")
        platform_name = deal.platform.get("/accounts/me").json()["name"]
        period_named = f"{deal.start} → {deal.end} · {platform_name}"  # by its days and platform, not its id
        expect(owner_row.locator("[data-testid=dispute-period]")).to_have_text(period_named)
        judge.shot("disputes-decided")

        page = payee.open(f"/console/statements?period={period_id}")
        expect(page.locator("[data-testid=line-dispute]")).to_have_attribute("data-state", "released")
        # a payee's list gives its own total, and its lines are its own: "you"
        assert page.inner_text("[data-testid=periods] thead").split("\t")[-1].strip() == "Your total"
        expect(page.locator("[data-testid=periods] [data-testid=own-lines]")).to_have_text("1")  # of the period's 2
        expect(page.locator("[data-testid=periods] [data-testid=own-total]")).to_have_text(
            f"{yuan(line['amount'])} CNY"
        )
        expect(page.locator("[data-testid=statement] [data-testid=lines] [data-testid=account-you]")).to_have_text(
            "you"
        )
        expect(page.locator("[data-testid=statement] [data-testid=payee-total]")).to_have_count(1)
        payee.close()

        # the upheld line is voided: no total counts it, and the statement says where its money goes
        total = int(deal.platform.get(f"/periods/{period_id}").json()["total"])
        owner = Console(browser, svc, key_of(deal.owner))
        page = owner.open(f"/console/statements?period={period_id}")
        expect(page.locator("[data-testid=line-dispute]")).to_have_text(
            "voided: the corrected amount is paid in the platform's next period"
        )
        expect(page.locator("[data-testid=voided-total]")).to_contain_text(f"{yuan(own['amount'])} CNY voided")
        expect(page.locator("[data-testid=periods] [data-testid=own-total]")).to_contain_text(
            f"of which {yuan(own['amount'])} CNY voided"
        )
        page = owner.open("/console/revenue")
        expect(page.locator("[data-testid=revenue-total]")).to_have_text("Total: 0.00 CNY")
        owner.close()
        overseer = Console(browser, svc, key_of(admin))
        page = overseer.open("/console/revenue")
        expect(page.locator("[data-testid=revenue-total]")).to_have_text(
            f"Total: {yuan(total - int(own['amount']))} CNY"
        )
        overseer.close()

        # the arbiter, no payee, reads each period's platform and the period's total
        page = judge.open(f"/console/statements?period={period_id}")
        expect(page.locator("[data-testid=periods] [data-testid=period-platform]")).to_have_text(platform_name)
        assert page.inner_text("[data-testid=periods] thead").split("\t")[-1].strip() == "Period total"
        expect(page.locator("[data-testid=statement] [data-testid=period-total]")).to_have_text(f"{yuan(total)} CNY")
        expect(page.locator("[data-testid=statement] [data-testid=payee-total]")).to_have_count(0)
        assert "Your total" not in page.inner_text("[data-testid=statement]")
        judge.close()


def yuan(amount) -> str:
    """Minor units of CNY as the console writes them: 1234 is 12.34."""
    amount = int(amount)
    return f"{amount // 100:,}.{amount % 100:02d}"


def test_amounts_are_typed_in_major_units_of_the_currency_and_sent_in_minor_units(console, service):
    """A period's revenue pools and an arbiter's corrected amount are typed as every amount is
    shown, in the currency's major units (12.34 CNY), and reach the service in minor units. The
    service's answers are stood in for: what the pages send is what is checked."""
    _, _, platform = service.new_account(Role.platform)
    c = console(key_of(platform))
    page = c.open("/console/periods")
    assert "1234.56" in page.get_attribute("#period-pools", "placeholder")
    sent: list[dict] = []

    def refused(route):
        sent.append(route.request.post_data_json)
        route.fulfill(status=409, json={"error": {"code": "conflict", "message": "not closed in this test"}})

    page.route(re.compile(r"/periods/close$"), refused)
    page.fill("#period-start", "2026-03-01")
    page.fill("#period-end", "2026-03-07")
    page.fill("#period-currency", "CNY")
    page.fill("#period-pools", "ads=1.234")  # a fen has no thousandths
    page.click("#close-period button[type=submit]")
    assert "CNY" in page.inner_text("#close-period [role=alert]") and sent == []
    page.fill("#period-pools", "ads=12.34\nsubscriptions = 1,000\nbonus=.5")
    page.click("#close-period button[type=submit]")
    expect(page.locator("#close-period [role=alert]")).to_contain_text("not closed in this test")
    assert [body["pools"] for body in sent] == [{"ads": "1234", "subscriptions": "100000", "bonus": "50"}]

    # An open dispute of a period in Kuwaiti dinars (three decimals): the arbiter's form shows the
    # amount claimed as the table does, and sends what was typed in fils.
    dispute = {
        "period_id": "0x" + "ab" * 32,
        "dispute_id": 7,
        "line_index": 3,
        "payee": "0x" + "12" * 20,
        "work_id": "0x" + "cd" * 32,
        "line_amount": "12345",
        "currency": "KWD",
        "claimed_amount": "23456",
        "reason": "the contract price applies",
        "reason_hash": "0x" + "ef" * 32,
        "deadline": 4_102_444_800,
        "bond": "1000",
        "state": "open",
        "line_state": "held",
        "by_default": False,
        "corrected_amount": None,
        "decision_reason": None,
        "decision_reason_hash": None,
        "carried_to": None,
        "dispute_tx": None,
        "decision_tx": None,
    }
    decided: list[dict] = []

    def decide(route):
        decided.append(route.request.post_data_json)
        route.fulfill(status=409, json={"error": {"code": "conflict", "message": "not decided in this test"}})

    _, _, arbiter = service.new_account(Role.arbiter)
    judge = console(key_of(arbiter))
    judge.page.route(re.compile(r"/disputes\?limit=500$"), lambda route: route.fulfill(json=[dispute]))
    judge.page.route(re.compile(r"/disputes/7/decide$"), decide)
    page = judge.open("/console/periods")
    row = page.locator("[data-testid=disputes] tbody tr").first
    expect(row).to_contain_text("12.345 KWD → 23.456 KWD")
    corrected = page.locator("[data-testid=decide-corrected]")
    expect(corrected).to_have_value("23.456")
    assert "KWD" in corrected.get_attribute("aria-label")
    page.select_option("[data-testid=decide-outcome]", "upheld")
    page.fill("[data-testid=decide-reason]", "the contract price applies in part")
    corrected.fill("20.5")
    page.click("[data-testid=decide]")
    expect(row).to_contain_text("not decided in this test")
    assert [(d["outcome"], d["corrected_amount"]) for d in decided] == [("upheld", "20500")]
    corrected.fill("20.5001")  # more decimals than the dinar has: refused on the page
    page.click("[data-testid=decide]")
    expect(row.locator("[role=alert]")).to_contain_text("KWD")
    assert len(decided) == 1


def test_the_console_speaks_chinese(console, deal):
    c = console(key_of(deal.owner), lang="zh")
    page = c.open("/console/works")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert "作品" in page.inner_text("nav") and "分账单" in page.inner_text("nav")
    assert "登记作品" in page.inner_text("#register-work")
    c.shot("works-zh")


def test_changes_with_the_cookie_need_the_csrf_token(service, deal):
    import httpx

    with httpx.Client(base_url=service.url) as browserless:
        forged = browserless.post(
            "/console/session", json={"api_key": key_of(deal.owner)}, headers={"Origin": "http://evil.example"}
        )
        assert (
            forged.status_code == 403 and "reelledger_session" not in forged.cookies
        )  # no sign-in from another site's page
        assert browserless.post("/console/session", json={"api_key": key_of(deal.owner)}).status_code == 200
        assert browserless.get("/works").status_code == 200  # reading with the cookie
        refused = browserless.post(
            f"/works/{deal.work_id}/splits", json={"payees": [{"address": deal.owner_address, "bps": 10_000}]}
        )
        assert refused.status_code == 403 and "CSRF" in refused.json()["error"]["message"]
        csrf = re.search(r'name="csrf-token" content="([^"]+)"', browserless.get("/console/overview").text).group(1)
        assert browserless.post("/console/session/end", headers={"X-CSRF-Token": csrf}).status_code == 200
        assert browserless.get("/works").status_code == 401  # the session is over


def test_rotating_the_key_ends_the_sessions_opened_with_it(service):
    import httpx

    from ledger.accounts import rotate_key

    account_id, _, studio = service.new_account(Role.rights_holder)
    with httpx.Client(base_url=service.url) as browserless:
        assert browserless.post("/console/session", json={"api_key": key_of(studio)}).status_code == 200
        assert browserless.get("/accounts/me").json()["id"] == account_id
        new_key = rotate_key(service.ledger.engine, account_id)
        assert browserless.get("/accounts/me").status_code == 401
        assert (
            browserless.get("/console/works", follow_redirects=False).headers["location"].startswith("/console/login")
        )
        assert browserless.post("/console/session", json={"api_key": new_key}).status_code == 200
        assert browserless.get("/accounts/me").status_code == 200


def test_the_reports_page_lists_held_rows_with_why_and_what_they_would_earn(console, service):
    deal = make_deal(service)
    posted = post_report(deal, "held-page", rows(deal, days=1) + rows(deal, days=1, territory="US"))
    assert posted.json()["held_rows"] == 1
    page = console(key_of(deal.platform)).open("/console/reports")
    page.wait_for_selector("[data-testid=held-rows]")
    [row] = page.locator("[data-testid=held-rows] tbody tr").all_inner_texts()
    # 900 valid plays, 30,000 minutes and 12,345 of ad revenue: 6,196 fen earned, 619 commission.
    assert "US" in row and "territory outside the licence" in row and "55.77 CNY" in row, row
    owner = console(key_of(deal.owner)).open("/console/reports")
    owner.wait_for_selector("[data-testid=held-rows]")
    assert owner.locator("[data-testid=held-rows] tbody tr").count() == 1
    expect(owner.locator("[data-testid=reports]")).to_have_count(0)  # a rights holder sends no reports
    outsider = console(key_of(service.new_account(Role.rights_holder)[2])).open("/console/reports")
    outsider.wait_for_selector("[data-testid=held-rows-empty]")


def test_a_report_is_checked_row_by_row_without_keeping_anything(service, deal):
    before = deal.platform.get("/reports").json()
    good = rows(deal, days=2)
    bad = [dict(good[0], valid_plays=good[0]["plays"] + 1), dict(good[1], territory="ZZ"), {"work": "nope"}]
    body = "\n".join(json.dumps(r) for r in good + bad) + "\n"
    checked = deal.platform.post("/reports/check", content=body, headers={"content-type": "application/x-ndjson"})
    assert checked.status_code == 200, checked.text
    assert checked.json()["rows"] == 5
    assert [(p["row"], p["field"]) for p in checked.json()["problems"]] == [
        (3, "valid_plays"),
        (4, "territory"),
        (5, "work"),
    ]
    as_json = deal.platform.post("/reports/check", json={"rows": good}).json()
    assert as_json == {"rows": 2, "problems": [], "total": 0, "truncated": False}
    assert (
        deal.platform.post("/reports/check", content=b"{", headers={"content-type": "application/json"}).json()[
            "problems"
        ][0]["field"]
        == "body"
    )
    assert deal.owner.post("/reports/check", json={"rows": good}).status_code == 403
    assert deal.platform.post("/reports/check", content=b"x", headers={"content-type": "text/plain"}).status_code == 422
    assert deal.platform.get("/reports").json() == before  # checking kept nothing


def test_rows_outside_the_period_entered_are_listed_when_the_report_is_refused(console, service, tmp_path):
    """The check cannot know the period; the refusal of the upload lists those rows the same way."""
    deal = make_deal(service)
    good = rows(deal, days=3)
    outside = tmp_path / "outside.csv"
    outside.write_text(
        ROW_HEADER
        + "".join(
            f"{r['work']},{r['territory']},{r['date']},{r['plays']},{r['valid_plays']},{r['watch_minutes']},{r['ad_revenue']},CNY\n"
            for r in good
        )
    )
    page = console(key_of(deal.platform)).open("/console/reports")
    page.fill("#report-id", "outside-1")
    page.fill("#report-start", str(deal.start + timedelta(days=1)))  # the first row's day is before it
    page.fill("#report-end", str(deal.start + timedelta(days=1)))  # and the third's after it
    page.set_input_files("#report-file", str(outside))
    page.click("#post-report button[type=submit]")
    page.wait_for_selector("[data-testid=row-problems]")
    problems = page.locator("[data-testid=row-problem] tbody tr").all_inner_texts()
    assert [p.split("\t")[:2] for p in problems] == [["1", "date"], ["3", "date"]], problems
    assert deal.platform.get("/reports").json() == []  # nothing was posted


class TinySite:
    """Three linked pages on loopback: a crawl of them is quick and finds no media."""

    PAGES = {
        "/": '<a href="/a.html">a</a> <a href="/b.html">b</a>',
        "/a.html": '<a href="/b.html">b</a>',
        "/b.html": "end",
    }

    def __enter__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        pages = self.PAGES

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                body = pages.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                raw = f"<html><body>{body}</body></html>".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/"
        return self

    def __exit__(self, *exc):
        self.server.shutdown()


def test_a_crawler_follows_its_queued_crawl_jobs_live(console, service, tmp_path):
    import signal
    import subprocess

    from tests.helpers.leaks import REELLEDGER

    _, _, crawler = service.new_account(Role.crawler)
    _, _, other = service.new_account(Role.crawler)
    env = dict(
        os.environ,
        REELLEDGER_URL=service.url,
        REELLEDGER_API_KEY=key_of(crawler),
        REELLEDGER_REDIS_URL=QUEUE_REDIS,
        REELLEDGER_CRAWL_WORK_DIR=str(tmp_path / "downloads"),
    )
    with TinySite() as site:
        (tmp_path / "seeds.txt").write_text(site.url + "\n")
        submitted = subprocess.run(
            [
                str(REELLEDGER),
                "crawl",
                "submit",
                "--seeds",
                str(tmp_path / "seeds.txt"),
                "--interval",
                "0",
                "--no-screenshots",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert submitted.returncode == 0, submitted.stdout + submitted.stderr
        job_id = submitted.stdout.strip()

        c = console(key_of(crawler))
        page = c.open("/console/crawls")
        page.wait_for_selector("[data-testid=job-progress]")
        # the job's id shortened on one line of its cell, in full on hover
        assert page.get_attribute("[data-testid=jobs] [data-testid=job-id]", "title") == job_id
        assert page.eval_on_selector("[data-testid=jobs] [data-testid=job-id]", "e => e.getClientRects().length") == 1
        help_text = page.locator("[data-testid=crawls-help]")  # the command as code, not in backquotes
        expect(help_text.locator("code")).to_have_text("reelledger crawl submit")
        assert "`" not in help_text.inner_text()
        assert page.get_attribute("[data-testid=job-progress]", "data-finished") == "false"  # no worker yet

        worker = subprocess.Popen(
            [str(REELLEDGER), "crawl", "worker", "--processes", "1", "--threads", "1"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:  # the open page follows the job to its end without a reload
            page.wait_for_selector("[data-testid=job-progress][data-finished=true]", timeout=120_000)
        finally:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(30)
        assert "3" in page.inner_text("[data-testid=jobs] tbody tr")  # three pages crawled
        c.shot("crawls")

    assert job_id not in [j["job_id"] for j in other.get("/crawl/jobs").json()]  # another crawler's job is not shown
    assert other.get(f"/crawl/jobs/{job_id}").status_code == 404
    assert crawler.get(f"/crawl/jobs/{job_id}").json()["counts"]["pages"] == 3
    _, _, studio = service.new_account(Role.rights_holder)
    assert studio.get("/crawl/jobs").status_code == 403


def test_licences_show_as_a_tree_with_revoked_branches_greyed(console, service):
    import hashlib
    import time
    import uuid

    _, _, owner = service.new_account(Role.rights_holder)
    a_id, _, platform_a = service.new_account(Role.platform)
    b_id, _, _ = service.new_account(Role.platform)
    c_id, _, _ = service.new_account(Role.platform)
    work_id = owner.post(
        "/works", json={"sha256": hashlib.sha256(uuid.uuid4().bytes).hexdigest(), "title": "Tree", "kind": "film"}
    ).json()["work_id"]
    now = int(time.time())

    def terms(licensee: int, territories: list[str], **extra) -> dict:
        return {
            "licensee_id": licensee,
            "territories": territories,
            "rights": ["streaming"],
            "start": now - 60,
            "end": now + 30 * 86_400,
            **extra,
        }

    root = owner.post(f"/works/{work_id}/licences", json=terms(a_id, ["CN", "HK"], sublicensable=True)).json()
    child = platform_a.post(f"/licences/{root['id']}/sublicences", json=terms(b_id, ["HK"]))
    assert child.status_code == 201, child.text
    other = owner.post(f"/works/{work_id}/licences", json=terms(c_id, ["US"]))
    assert other.status_code == 201, other.text
    assert owner.post(f"/licences/{root['id']}/revoke").json()["status"] == "revoked"

    c = console(key_of(owner))
    page = c.open(f"/console/work?id={work_id}")
    page.wait_for_selector("[data-testid=licence-tree]")
    assert page.locator("[data-testid=licence-tree] > li").count() == 2  # two licences granted by the owner
    revoked = page.locator("[data-testid=licence-tree] > li[data-status=revoked]")
    assert revoked.count() == 1 and "revoked" in (revoked.get_attribute("class") or "")
    nested = revoked.locator("li")  # the sub-licence sits under its parent, greyed with it
    assert (
        nested.count() == 1
        and f"#{child.json()['id']}" in nested.inner_text()
        and "revoked" in nested.get_attribute("class")
    )
    kept = page.locator("[data-testid=licence-tree] > li:not([data-status=revoked])")
    assert "US" in kept.inner_text() and "revoked" not in (kept.get_attribute("class") or "")
    c.shot("licences")


# A browser wallet (EIP-1193, as MetaMask injects it) holding one of the node's own unlocked
# accounts: it forwards every request to the node, so the transaction is really signed and mined.
WALLET = """
window.ethereum = {
  request: async ({ method, params }) => {
    if (method === 'eth_requestAccounts' || method === 'eth_accounts') return [%(account)s];
    const answer = await fetch(%(rpc)s, { method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params: params || [] }) }).then((r) => r.json());
    if (answer.error) throw Object.assign(new Error(answer.error.message), answer.error);
    return answer.result;
  },
};
"""


def test_a_payee_with_its_own_key_claims_from_its_browser_wallet(console, service, tmp_path):
    from tests.helpers.settlement import close, post_report

    chain = service.ledger.chain
    wallet = chain.w3.eth.accounts[-1]  # a node account: the test's wallet signs with it, the service never does
    deal = make_deal(service, second_address=wallet)
    assert deal.second_payee.get("/accounts/me").json()["custodial"] is False
    assert post_report(deal, "wallet-week", rows(deal)).status_code == 201
    period_id = close(deal).json()["period_id"]
    assert wait_status(deal.platform, period_id, "finalised")["status"] == "finalised"
    assert deal.platform.post(f"/periods/{period_id}/fund", json={}).status_code == 200
    [line] = deal.second_payee.get(f"/periods/{period_id}/statement").json()["lines"]
    token = chain.contract("TestStablecoin")
    before = token.functions.balanceOf(wallet).call()

    payee = console(key_of(deal.second_payee))
    page = payee.open(f"/console/statements?period={period_id}")
    page.click("[data-testid=claim]")  # no wallet in this browser: told how to claim without one
    expect(page.locator("[data-testid=claim-error]")).to_contain_text("no wallet")
    assert (
        not chain.contract("SettlementRegistry")
        .functions.isLineSettled(bytes.fromhex(period_id[2:]), line["index"])
        .call()
    )

    payee.context.add_init_script(WALLET % {"account": json.dumps(wallet), "rpc": json.dumps(chain.rpc_url)})
    stale = payee.context.new_page()  # a page opened before the claim, still offering it
    stale.goto(f"/console/statements?period={period_id}")
    expect(stale.locator("[data-testid=claim]")).to_have_count(1)
    page = payee.open(f"/console/statements?period={period_id}")
    expect(page.locator("[data-testid=claim]")).to_have_text(
        "Claim with your wallet"
    )  # once the page has read the wallet
    page.click("[data-testid=claim]")
    expect(page.locator("[data-testid=claimed]")).to_contain_text("in block", timeout=60_000)
    assert (
        chain.contract("SettlementRegistry").functions.isLineSettled(bytes.fromhex(period_id[2:]), line["index"]).call()
    )
    assert token.functions.balanceOf(wallet).call() == before + int(line["amount"])
    payee.shot("claimed-from-wallet")

    stale.click("[data-testid=claim]")  # claiming again: the contract's reason, by name
    expect(stale.locator("[data-testid=claim-error]")).to_contain_text("PeriodPayoutLineAlreadySettled", timeout=60_000)
    stale.close()
    page = payee.open(f"/console/statements?period={period_id}")  # opened now: the line is paid, not offered
    expect(page.locator("[data-testid=statement] [data-testid=line-paid]")).to_have_count(1)
    expect(page.locator("[data-testid=statement] [data-testid=claim]")).to_have_count(0)

    # A statement file naming another payout contract fails its check: no claim is offered from it.
    statement = deal.second_payee.get(f"/periods/{period_id}/statement").json()
    statement["payout"] = chain.w3.to_checksum_address("0x" + "77" * 20)
    (tmp_path / "elsewhere.json").write_text(json.dumps(statement))
    page.set_input_files("[data-testid=statement-file]", str(tmp_path / "elsewhere.json"))
    section = page.locator("section:has([data-testid=statement-file])")
    expect(section.locator("[data-testid=verify-result]")).to_contain_text("the statement sends claims to")
    expect(section.locator("[data-testid=claim]")).to_have_count(0)

    # With the chain out of reach, a file cannot be checked: its status is unknown, not the file's word.
    page.route(re.compile("^" + re.escape(chain.rpc_url.rstrip("/"))), lambda route: route.abort())
    statement = deal.second_payee.get(f"/periods/{period_id}/statement").json()
    (tmp_path / "unreached.json").write_text(json.dumps(dict(statement, status="finalised")))
    page.set_input_files("[data-testid=statement-file]", str(tmp_path / "unreached.json"))
    expect(section.locator("[data-testid=verify-error]")).to_have_count(1)
    expect(section.locator("[data-testid=statement-status]")).to_have_text("unknown: the chain could not be asked")
    expect(section.locator("[data-testid=claim]")).to_have_count(0)


def test_the_managed_node_takes_calls_from_console_pages_only(console, service):
    """Any page in a browser on this machine could otherwise rewrite the dev chain (anvil_setBalance,
    anvil_setStorageAt...): the node's CORS admits the console's origin alone."""
    chain = service.ledger.chain
    target = chain.w3.to_checksum_address("0x" + "5a" * 20)
    write = """async ([rpc, target]) => {
      try {
        const r = await fetch(rpc, { method: 'POST', headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'anvil_setBalance', params: [target, '0x1234'] }) });
        return (await r.json()).error ? 'refused by the node' : 'written';
      } catch (error) { return 'blocked by the browser'; }
    }"""
    _, _, studio = service.new_account(Role.rights_holder)
    elsewhere = console(None)  # the console by another name is another origin, as any other site would be
    elsewhere.page.goto(service.url.replace("127.0.0.1", "localhost") + "/console/login")
    elsewhere.page.fill("#api-key", key_of(studio))
    elsewhere.page.click("#sign-in button[type=submit]")
    elsewhere.page.wait_for_url(re.compile(r"localhost:\d+/console/overview"))  # its CSP lets it try the node
    assert elsewhere.page.evaluate(write, [chain.rpc_url, target]) == "blocked by the browser"
    elsewhere.page.goto("about:blank")  # a page with no policy of its own
    assert elsewhere.page.evaluate(write, [chain.rpc_url, target]) == "blocked by the browser"
    assert chain.w3.eth.get_balance(target) == 0

    here = console(key_of(studio))
    here.open("/console/overview")
    assert here.page.evaluate(write, [chain.rpc_url, target]) == "written"  # the console's own pages reach it
    assert chain.w3.eth.get_balance(target) == 0x1234


def test_a_work_page_shows_its_derivative_family_with_the_terms_and_links(console, service):
    _, _, drama_owner = service.new_account(Role.rights_holder)
    _, _, studio = service.new_account(Role.rights_holder)
    _, _, fans = service.new_account(Role.rights_holder)
    drama = by_hash(service, drama_owner, "Family drama")
    re_edit = by_hash(service, studio, "Family drama, cut short")
    compilation = by_hash(service, fans, "Best cuts")
    derive(service, drama_owner, drama, studio, re_edit, share_bps=3000, min_micro=2500)
    derive(service, studio, re_edit, fans, compilation, kind=DerivativeKind.compilation, share_bps=1250)
    priced = studio.post(
        f"/works/{re_edit}/rules", json={"effective_from": "2026-01-01", "currency": "CNY", "rule": RULE}
    )
    assert priced.status_code == 201, priced.text

    c = console(key_of(studio))
    page = c.open(f"/console/work?id={re_edit}")
    page.wait_for_selector("[data-testid=family]")
    parent = page.locator("[data-testid=family-parents] [data-testid=family-edge]")
    expect(parent).to_have_count(1)
    assert parent.get_attribute("data-work") == drama
    terms = parent.locator("[data-testid=edge-terms]").inner_text()
    assert "re-edit" in terms and "30.00 %" in terms and "0.000025 CNY" in terms
    child = page.locator("[data-testid=family-children] [data-testid=family-edge]")
    expect(child).to_have_count(1)
    assert "compilation" in child.inner_text() and "12.50 %" in child.inner_text()
    c.shot("work-family")

    page.click(f"[data-testid=family-children] a[href*='{compilation}']")  # the fans' work: its family only
    page.wait_for_selector("[data-testid=family-only]")
    nested = page.locator("[data-testid=family-parents] [data-testid=family-edge]")
    expect(nested).to_have_count(2)  # the re-edit, and under it the drama it derives from
    assert [e.get_attribute("data-work") for e in nested.all()] == [re_edit, drama]
    assert page.locator("[data-testid=family-parents] li li a").inner_text() == "Family drama"
    expect(page.locator("[data-testid=family-children] [data-testid=family-edge]")).to_have_count(0)

    page = console(key_of(drama_owner)).open(f"/console/work?id={compilation}")  # two levels down from the drama
    expect(page.locator("[data-testid=family-parents] [data-testid=family-edge]")).to_have_count(2)

    outsider = console(key_of(service.new_account(Role.rights_holder)[2]))  # in no work of the family
    page = outsider.open(f"/console/work?id={re_edit}")
    page.wait_for_selector("[role=alert]")
    assert "no work" in page.inner_text("[role=alert]").lower()
    expect(page.locator("[data-testid=family]")).to_have_count(0)


def test_a_case_for_a_copy_of_a_licensed_derivative_names_its_source_and_licence(console, service):
    _, _, producer = service.new_account(Role.rights_holder)
    _, _, studio = service.new_account(Role.rights_holder)
    _, _, crawler = service.new_account(Role.crawler)
    still = full_hd(data.chelsea())  # a photograph no other test here registers
    cut = still.copy()  # the derivative: the parent's frame with subtitles burned in
    cv2.putText(cut, "Subtitles burned in", (560, 1000), cv2.FONT_HERSHEY_SIMPLEX, 2.0, (255, 255, 255), 5)
    parent_id = register(producer, png(still), "Chelsea, the film", service)
    derivative_id = register(studio, png(cut), "Chelsea, subtitled", service)
    licence_id = derive(service, producer, parent_id, studio, derivative_id, kind=DerivativeKind.subtitle)
    found = report(crawler, jpeg(cut), url="http://pirate.example/short/chelsea.jpg")
    assert found.status_code == 201, found.text
    case = wait_anchored(crawler, found.json()["case"]["id"], service.ledger)
    assert case["work_id"] == derivative_id and case["derivative_of"]["work_id"] == parent_id

    page = console(key_of(studio)).open(f"/console/case?id={case['id']}")
    page.wait_for_selector("[data-testid=derivative-of]")
    source = page.locator("[data-testid=derivative-of]")
    assert "Chelsea, the film" in source.inner_text() and f"#{licence_id}" in source.inner_text()
    assert "subtitles" in source.inner_text()
    assert parent_id in source.locator("a").get_attribute("href")


def test_the_api_reference_renders_with_no_internet(browser, service):
    """Swagger UI at /docs in a browser that may reach nothing but the service: every operation
    of the OpenAPI document is listed."""
    context = browser.new_context(base_url=service.url)
    elsewhere: list[str] = []

    def only_the_service(route):
        if route.request.url.startswith(service.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_the_service)
    page = context.new_page()
    try:
        page.goto("/docs")
        page.wait_for_selector(".opblock-summary-path", timeout=30_000)
        listed = page.locator(".opblock").count()
        operations = sum(
            method in {"get", "post", "put", "delete", "patch"}
            for item in service.client().get("/openapi.json").json()["paths"].values()
            for method in item
        )
        assert listed == operations
        assert elsewhere == []
    finally:
        context.close()


MESSAGES = json.loads((Path(__file__).resolve().parents[2] / "api/console/static/messages.json").read_text())
# A catalogue key shown as it is (role.arbiter, overview.arbiter): any word of the catalogue's
# prefixes, a dot, and a name, whether or not the catalogue has that key.
PREFIXES = sorted({key.split(".")[0] for key in MESSAGES["en"]}, key=len, reverse=True)
RAW_KEY = re.compile(r"\b(?:" + "|".join(PREFIXES) + r")\.[a-zA-Z][\w-]*\b")


def test_every_role_sees_its_pages_in_both_languages_with_every_text_in_the_catalogue(console, service, deal):
    accounts = {
        "admin": service.new_account(Role.admin)[2],
        "rights holder": deal.owner,
        "platform": deal.platform,
        "payee": deal.second_payee,
        "crawler": service.new_account(Role.crawler)[2],
        "auditor": service.new_account(Role.auditor)[2],
        "arbiter": service.new_account(Role.arbiter)[2],
    }
    for lang in ("en", "zh"):
        for who, client in accounts.items():
            me = client.get("/accounts/me").json()
            c = console(key_of(client), lang=lang)
            pages = [a.get_attribute("href") for a in c.page.locator("header nav a").all()]
            for path in ["/console/overview", *pages]:
                page = c.open(path)
                page.wait_for_load_state("networkidle")
                text = page.inner_text("body")
                assert not RAW_KEY.findall(text), (who, lang, path, RAW_KEY.findall(text))
            header = c.page.inner_text("[data-testid=account]")  # the role named after the account's name
            assert header == f"{me['name']} · {MESSAGES[lang].get('role.' + me['role'], '(no text)')}", (who, lang)
            c.close()


def test_names_stand_for_addresses_where_the_caller_may_know_them(console, service, deal):
    """A payee reads its own lines as "you"; the split's payees are named to an administrator and
    to the work's owner as far as it may know them (itself); a licence names its licensee to an
    administrator, and to the grantor by its account id only (granting to an id must not tell
    anyone that account's name)."""
    owner_name = deal.owner.get("/accounts/me").json()["name"]
    second_name = deal.second_payee.get("/accounts/me").json()["name"]
    platform = deal.platform.get("/accounts/me").json()
    platform_name, platform_id = platform["name"], platform["id"]
    granted = deal.owner.get(f"/works/{deal.work_id}/licences").json()
    assert granted and all(licence["licensee_name"] is None for licence in granted), granted

    owner = console(key_of(deal.owner))
    page = owner.open(f"/console/work?id={deal.work_id}")
    expect(page.locator("[data-testid=work-owner] [data-testid=owner-name]")).to_have_text(f"you ({owner_name})")
    assert deal.owner_address in page.inner_text("[data-testid=work-owner]")  # the address beside the name
    payees = page.locator("[data-testid=splits] [data-testid=split-payee]").all_inner_texts()
    assert payees == ["you 70.00 %", f"{deal.second_address[:10]}…{deal.second_address[-4:]} 30.00 %"], payees
    licence = page.inner_text("[data-testid=licence-tree]")
    assert f"to account #{platform_id}" in licence and "streaming" in licence and platform_name not in licence, licence

    admin = console(key_of(service.new_account(Role.admin)[2]))
    page = admin.open(f"/console/work?id={deal.work_id}")
    expect(page.locator("[data-testid=work-owner] [data-testid=owner-name]")).to_have_text(owner_name)
    payees = page.locator("[data-testid=splits] [data-testid=split-payee]").all_inner_texts()
    assert payees == [f"{owner_name} 70.00 %", f"{second_name} 30.00 %"], payees
    licence = page.inner_text("[data-testid=licence-tree]")
    assert f"to {platform_name}" in licence and f"account #{platform_id}" not in licence, licence

    zh = console(key_of(deal.owner), lang="zh")
    page = zh.open(f"/console/work?id={deal.work_id}")
    licence = page.inner_text("[data-testid=licence-tree]")
    assert f"账户 #{platform_id}" in licence and "流媒体" in licence and "streaming" not in licence, licence
