"""What the CLI prints at 80 columns (a narrow terminal, or any piped output): every id,
address and hash on one line, whole, so a double-click or a copy takes it entire."""

from __future__ import annotations

import io
import json
import re

from rich.console import Console
from typer.testing import CliRunner

from ledger.cli import app, cases, client, disputes, jobs, settlement, verify, watermarking
from ledger.cli.client import facts_table, listing

WORK_ID = "0x" + "ab12" * 16
TX_HASH = "0x" + "cd34" * 16
ADDRESS = "0x" + "ef56" * 10
WHOLE = {WORK_ID, TX_HASH, ADDRESS}


def narrow(renderable: object) -> str:
    """`renderable` as the CLI's consoles print it on an 80-column terminal."""
    console = Console(width=80, file=io.StringIO(), soft_wrap=True)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def assert_whole(out: str, *values: str) -> None:
    """Each of `values` is in `out` on one line, and no line holds a piece of one."""
    for value in values:
        assert any(value in line for line in out.splitlines()), f"{value} not whole in:\n{out}"
    pieces = set(re.findall(r"[0-9a-fx]{6,}", out)) - WHOLE
    assert not pieces, f"pieces of ids {pieces} in:\n{out}"


def test_facts_print_ids_and_addresses_whole_with_nothing_after_them():
    facts = facts_table()
    facts.add_row("work id", WORK_ID)
    facts.add_row("on chain", f"confirmed in WorkRegistry {ADDRESS}, tx {TX_HASH}")
    facts.add_row("speed", "10.5 / s")
    out = narrow(facts)
    assert_whole(out, WORK_ID, ADDRESS, TX_HASH)
    assert re.search(rf"^ work id   {WORK_ID}$", out, re.M)
    assert re.search(r"^ speed     10\.5 / s$", out, re.M)
    assert all(line == line.rstrip() for line in out.splitlines())


def test_facts_keep_their_values_as_text_and_a_second_line_under_the_value():
    facts = facts_table()
    facts.add_row("title", "[b]The Long Night")
    facts.add_row("unsettled works", f"{WORK_ID}: no settlement rule in force\nand another")
    facts.add_row("", "and a third")
    out = narrow(facts)
    assert " title            [b]The Long Night\n" in out
    # an id too long for the value's column: the value starts under the label, the id whole
    assert f"\n unsettled works\n   {WORK_ID}: no\n   settlement rule in force\n   and another\n" in out
    assert out.endswith("\n                  and a third\n")
    wide = Console(width=120, file=io.StringIO(), soft_wrap=True)
    wide.print(facts)
    assert wide.file.getvalue().endswith(
        f" unsettled works  {WORK_ID}: no settlement rule in force\n                  and another\n"
        "                  and a third\n"
    )


def test_a_listing_never_breaks_an_id_and_still_folds_prose():
    table = listing("id", "title", "platform", "status")
    table.add_row("1", "The Long Night", "A platform with a name long enough to fold over two lines", "confirmed")
    out = narrow(table)
    assert "│ confirmed │" in out and "fold over two lines" not in out
    assert max(len(line) for line in out.splitlines()) <= 80


def test_a_listing_too_wide_for_its_box_drops_the_box():
    table = listing("#", "work id", "status")
    table.add_row("1", WORK_ID, "ok")
    out = narrow(table)
    assert_whole(out, WORK_ID)
    assert "│" not in out and "─" not in out
    assert max(len(line) for line in out.splitlines()) <= 80
    assert re.search(rf"^ *1 +{WORK_ID} +ok *$", out, re.M)


def test_a_listing_too_wide_even_without_its_box_prints_each_row_as_facts():
    table = listing("id", "work id", "platform", "session", "payload", "status")
    table.add_row("1", WORK_ID, "A platform with a name long enough to fold", "-", ADDRESS, "confirmed")
    table.add_row("2", WORK_ID, "streamer", "premiere-42", ADDRESS, "ready")
    out = narrow(table)
    assert_whole(out, WORK_ID, ADDRESS)
    assert max(len(line) for line in out.splitlines()) <= 80
    first, second = out.split("\n\n")
    assert f" work id   {WORK_ID}\n" in first and " platform  A platform with a name long enough to fold\n" in first
    assert " session   premiere-42\n" in second and second.endswith(" status    ready\n")


def test_a_short_listing_stays_within_the_terminal():
    table = listing("id", "kind", "status", "progress", "created")
    table.add_row("7", "fingerprint", "running", "40%", "2026-12-07 03:00")
    assert all(len(line) <= 80 for line in narrow(table).splitlines())


def period(period_id: str, **fields: object) -> dict[str, object]:
    return {
        "period_id": period_id,
        "period": {"first_day": "2026-11-01", "last_day": "2026-11-30"},
        "status": "committed",
        "root": TX_HASH,
        "total": 146,
        "currency": "CNY",
        "line_count": 1,
        "commit": {"tx_hash": TX_HASH},
        "unsettled_works": {},
        **fields,
    }


def test_periods_show_at_80_columns_prints_the_period_id_whole(monkeypatch):
    monkeypatch.setattr(settlement, "_call", lambda method, path, **kw: period(path.rpartition("/")[2]))
    result = CliRunner().invoke(app, ["periods", "show", WORK_ID], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert_whole(result.output, WORK_ID, TX_HASH)
    assert re.search(rf"period id\s+{WORK_ID}\n", result.output)
    assert re.search(r"total\s+1\.46 CNY\n", result.output)


def test_works_list_at_80_columns_prints_each_work_id_whole(monkeypatch):
    work = {"work_id": WORK_ID, "title": "The Long Night", "kind": "film", "chain": {"status": "confirmed"}}
    monkeypatch.setattr(client, "_call", lambda method, path, **kw: {"items": [work], "total": 1})
    result = CliRunner().invoke(app, ["works", "list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert_whole(result.output, WORK_ID)
    assert "The Long Night" in result.output and "1 of 1" in result.output


# ---------------------------------------------------------------- every command at 80 columns

PERIOD_ID = "0x" + "9a8b" * 16
HASH = "0x" + "77aa" * 16
PAYEE = "0x" + "1234" * 10
OTHER = "0x" + "5678" * 10
NOW = "2026-12-07T12:34:46.512265Z"


def within_80(out: str, *values: str) -> None:
    """Every line of `out` fits 80 columns, but for a line that is one value alone (an id, a
    URL) after its indent; each of `values` is whole on a line."""
    for line in out.splitlines():
        assert len(line) <= 80 or len(line.split()) == 1, f"{len(line)} columns:\n{line}\nin:\n{out}"
    for value in values:
        assert any(value in line for line in out.splitlines()), f"{value} not whole in:\n{out}"


class Answer:
    def __init__(self, body: object, status: int = 200) -> None:
        self.body, self.status_code = body, status
        self.headers = {"content-type": "application/json"}
        self.text = json.dumps(body)

    def json(self) -> object:
        return self.body


class FakeService:
    """The service's answers by method and path, for `_call` and for `_client().get` alike."""

    def __init__(self, monkeypatch, answers: dict[tuple[str, str], object]) -> None:
        self.answers = answers
        self.asked: list[tuple[str, str]] = []
        for module in (client, settlement, disputes, cases, jobs, watermarking, verify):
            if hasattr(module, "_call"):
                monkeypatch.setattr(module, "_call", self.call)
        monkeypatch.setattr(client, "_client", lambda: self)

    def call(self, method: str, path: str, **kwargs: object) -> object:
        self.asked.append((method, path))
        return self.answers[(method, path)]

    def get(self, path: str, **kwargs: object) -> Answer:
        if ("GET", path) in self.answers:
            return Answer(self.answers[("GET", path)])
        return Answer({"error": {"code": "not_found", "message": "not found"}}, 404)

    def __enter__(self) -> FakeService:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


def invoke(*args: str, columns: int = 80) -> str:
    result = CliRunner().invoke(app, list(args), env={"COLUMNS": str(columns), "REELLEDGER_API_KEY": "rlk_test"})
    assert result.exit_code == 0, result.output
    return result.stdout


def chain(status: str = "confirmed") -> dict[str, object]:
    return {"status": status, "tx_hash": TX_HASH, "block_number": 12, "error": None}


def work(**fields: object) -> dict[str, object]:
    return {
        "work_id": WORK_ID,
        "title": "The Long Night",
        "kind": "film",
        "chain": chain(),
        "fingerprint": {"kind": "video-phash64-1fps", "digest": HASH},
        "metadata_hash": HASH,
        "near_duplicate_of": None,
        "on_chain": {"owner": ADDRESS},
        "licences": [],
        "splits": [],
        **fields,
    }


def test_a_created_account_prints_its_address_and_key_whole_on_their_own_lines_at_80_columns(tmp_path):
    env = {"REELLEDGER_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "80"}
    args = ["accounts", "create", "--role", "rights_holder", "--name", "drama-producer"]
    result = CliRunner().invoke(app, args, env=env)
    assert result.exit_code == 0, result.output
    address = re.search(r"^  (0x[0-9a-fA-F]{40})$", result.stdout, re.M).group(1)
    key = re.search(r"^  (rlk_\S+)$", result.stdout, re.M).group(1)
    assert "created rights_holder account 1 (drama-producer), address\n" in result.stdout
    assert "API key (shown once, store it now):\n" in result.stdout
    within_80(result.stdout, address, key)
    wide = CliRunner().invoke(app, [*args[:-1], "writer"], env={**env, "COLUMNS": "200"})
    assert re.search(r"account 2 \(writer\), address 0x[0-9a-fA-F]{40}\n", wide.stdout)
    assert re.search(r"store it now\): rlk_\S+\n", wide.stdout)


def test_works_show_and_register_keep_a_hash_too_long_for_the_value_column_whole_under_its_label(monkeypatch):
    near = work(near_duplicate_of=TX_HASH, near_duplicate_distance=3)
    FakeService(monkeypatch, {("GET", f"/works/{WORK_ID}"): near, ("GET", f"/works/{TX_HASH}"): work()})
    out = invoke("works", "show", WORK_ID)
    within_80(out, WORK_ID, TX_HASH, HASH, ADDRESS)
    # a label as long as "near duplicate": ids under their labels; without it, beside them
    assert re.search(rf"^ metadata\n   {HASH}$", out, re.M) and "at a distance of 3 bits" in out
    monkeypatch.setattr(client, "_call", lambda method, path, **kw: work())
    alone = invoke("works", "show", WORK_ID)
    within_80(alone, WORK_ID, TX_HASH, HASH, ADDRESS)
    assert re.search(rf"^ work id      {WORK_ID}$", alone, re.M) and re.search(rf"^ metadata     {HASH}$", alone, re.M)


def test_periods_show_and_close_fit_80_columns(monkeypatch):
    body = period(PERIOD_ID, dispute_ends=1_797_000_000, unsettled_works={WORK_ID: "no settlement rule in force"})
    FakeService(monkeypatch, {("GET", f"/periods/{PERIOD_ID}"): body})
    out = invoke("periods", "show", PERIOD_ID)
    within_80(out, PERIOD_ID, TX_HASH, WORK_ID)
    assert re.search(r"disputes until\s+\d{4}-\d\d-\d\d \d\d:\d\d UTC\n", out)


def case(**fields: object) -> dict[str, object]:
    return {
        "id": 3,
        "status": "open",
        "title": "The Long Night",
        "work_id": WORK_ID,
        "url": "http://127.0.0.1:8765/videos/the-long-night-full-movie-1080p.mp4",
        "page_url": "http://127.0.0.1:8765/watch/the-long-night",
        "leak": {"payload": None, "platform": {"name": "streamer"}},
        "anchor": {"status": "confirmed", "tx_hash": TX_HASH},
        "evidence_hash": HASH,
        "lifetime_seconds": 3600,
        **fields,
    }


def test_listings_fit_80_columns_and_keep_their_ids_whole(monkeypatch):
    timeline = {
        "steps": [
            {"at": NOW, "kind": "found", "actor": "crawler3", "detail": None, "anchored_hash": HASH, "anchor": chain()},
            {
                "at": NOW,
                "kind": "restoration_due",
                "actor": "ledger",
                "detail": "waiting period",
                "anchored_hash": None,
            },
        ],
        "restoration": "action_filed",
        "restoration_due_at": "2026-12-21T12:40:59.803613Z",
    }
    FakeService(
        monkeypatch,
        {
            ("GET", "/works"): {"items": [work(), work(title="Spring Tide")], "total": 2},
            ("GET", "/cases"): {"items": [case(), case(id=4)], "total": 2},
            ("GET", "/cases/lifetimes"): {"open": 2, "closed": 0, "median_lifetime_seconds": None},
            ("GET", "/cases/3/timeline"): timeline,
        },
    )
    within_80(invoke("works", "list"), WORK_ID)
    listed = invoke("cases", "list")
    within_80(listed, case()["url"])
    assert "The Long Night 0xab12…ab12" in listed and "2 of 2" in listed
    steps = invoke("cases", "timeline", "3")
    within_80(steps)
    assert "restoration due" in steps and "2026-12-07 12:34 UTC" in steps and "12:34:46" not in steps
    assert steps.endswith("restoration: stopped: a court action was marked filed\n")


def test_one_line_results_are_a_headline_and_facts_within_80_columns(monkeypatch, tmp_path):
    licence = {"id": 2, "chain_licence_id": 1, "work_id": WORK_ID, "status": "confirmed", "chain": chain()}
    rule = {"version": 1, "effective_from": "2026-11-01", "content_hash": HASH}
    report = {
        "report_id": "week-47",
        "status": "accepted",
        "rows": 1,
        "held_rows": 0,
        "period": {"first_day": "2026-11-16", "last_day": "2026-11-22"},
        "currency": "CNY",
        "rows_root": HASH,
        "anchor": {"status": "confirmed", "tx_hash": TX_HASH},
    }
    FakeService(
        monkeypatch,
        {
            ("POST", f"/works/{WORK_ID}/licences"): licence,
            ("POST", f"/works/{WORK_ID}/rules"): rule,
            ("POST", "/reports"): report,
        },
    )
    window = ["--licensee", "3", "--territory", "CN", "--start", "2026-01-01", "--end", "2027-01-01"]
    granted = invoke("licences", "grant", WORK_ID, *window)
    within_80(granted, WORK_ID, TX_HASH)
    assert granted.startswith("licence 2 (chain id 1): confirmed\n")
    ruled = invoke("rules", "set", WORK_ID, "--effective-from", "2026-11-01", "--rule", "{}")
    within_80(ruled, WORK_ID, HASH)
    rows = tmp_path / "week-47.csv"
    rows.write_text("work_id\n")
    sent = invoke(
        "reports", "submit", str(rows), "--report-id", "week-47", "--start", "2026-11-16", "--end", "2026-11-22"
    )
    within_80(sent, HASH, TX_HASH)
    assert "accepted, 1 row (0 held)" in sent


def dispute(**fields: object) -> dict[str, object]:
    return {
        "period_id": PERIOD_ID,
        "dispute_id": 0,
        "line_index": 1,
        "payee": PAYEE,
        "work_id": WORK_ID,
        "line_amount": "22",
        "currency": "CNY",
        "claimed_amount": "32",
        "deadline": 1_797_000_000,
        "state": "open",
        "line_state": "held",
        "by_default": False,
        "corrected_amount": None,
        **fields,
    }


def test_disputes_print_a_headline_and_facts_and_name_your_own_line(monkeypatch):
    decided = dispute(state="upheld", line_state="voided", corrected_amount="32")
    FakeService(
        monkeypatch,
        {
            ("POST", f"/periods/{PERIOD_ID}/lines/1/dispute"): {"chain": chain(), "dispute": dispute()},
            ("GET", f"/periods/{PERIOD_ID}/disputes"): [decided, dispute(dispute_id=1, payee=OTHER)],
            ("GET", "/accounts/me"): {"address": PAYEE, "name": "writer"},
        },
    )
    filed = invoke("periods", "dispute", PERIOD_ID, "1", "--reason", "price", "--claimed", "32")
    within_80(filed, PERIOD_ID, WORK_ID, TX_HASH)
    assert "dispute 0: line 1 pays 0.22 CNY, claimed 0.32 CNY\n" in filed
    assert re.search(rf"payee +you, {PAYEE}\n", filed) and re.search(r"outcome +open \(line held\)\n", filed)
    listed = invoke("periods", "disputes", PERIOD_ID)
    within_80(listed, PERIOD_ID, WORK_ID)
    assert "upheld (line voided), corrected 0.32 CNY" in listed and re.search(rf"payee +{OTHER}\n", listed)
    assert re.search(r"deadline +\d{4}-\d\d-\d\d \d\d:\d\d UTC\n", listed)


def test_verify_work_and_statement_fit_80_columns_and_say_whose_registry_they_checked(monkeypatch, tmp_path):
    from ledger.chain import verify as chain_verify

    found = chain_verify.Registration(WORK_ID, ADDRESS, 1_797_000_000, 12, TX_HASH, HASH, HASH, "ipfs://meta")
    monkeypatch.setattr(chain_verify, "find_registration", lambda rpc, registry, digest: found)
    line = chain_verify.LineCheck(0, 44, True, True, False)
    check = chain_verify.StatementCheck(2, True, True, True, (line,))
    monkeypatch.setattr(chain_verify, "verify_statement", lambda rpc, doc, registry: check)
    monkeypatch.setattr(
        "httpx.get", lambda url, **kw: Answer({"contracts": {"WorkRegistry": ADDRESS, "SettlementRegistry": OTHER}})
    )
    film = tmp_path / "film.mp4"
    film.write_bytes(b"film")
    matched = invoke("verify", "work", str(film))
    within_80(matched, WORK_ID, ADDRESS, TX_HASH)
    assert f"WorkRegistry {ADDRESS}\n  (asked the service at http://127.0.0.1:8000;" in matched
    assert re.search(r"registered +\d{4}-\d\d-\d\d \d\d:\d\d UTC, block 12\n", matched)
    doc = {"period_id": PERIOD_ID, "chain_id": 31337, "contract": OTHER, "currency": "CNY"}
    doc["lines"] = [{"index": 0, "amount": "44", "work_id": WORK_ID, "work_title": "The Long Night"}]
    statement = tmp_path / "statement.json"
    statement.write_text(json.dumps(doc))
    verified = invoke("verify", "statement", str(statement))
    within_80(verified, PERIOD_ID, OTHER)
    assert "pass --registry or set REELLEDGER_SETTLEMENT_REGISTRY to check against an address you trust" in (
        " ".join(verified.split())
    )
    assert "verified: 1 line against the chain" in verified
    given = invoke("verify", "statement", str(statement), "--registry", PAYEE)
    assert f"SettlementRegistry {PAYEE} (from --registry)\n" in given and "asked the service" not in given
    result = CliRunner().invoke(
        app,
        ["verify", "statement", str(statement)],
        env={"COLUMNS": "80", "REELLEDGER_SETTLEMENT_REGISTRY": PAYEE},
    )
    assert f"SettlementRegistry {PAYEE} (from REELLEDGER_SETTLEMENT_REGISTRY)\n" in result.output


def test_a_refusal_is_broken_between_words_at_80_columns_and_said_once(monkeypatch):
    message = (
        f"claims open after 2026-12-07T12:40:59Z, when the dispute window closes; follow it with "
        f"reelledger periods show {PERIOD_ID}"
    )
    refusals = iter(
        [
            Answer({"error": {"code": "period_not_finalised", "message": message, "details": {}}}, 409),
            Answer(
                {
                    "error": {
                        "code": "invalid_input",
                        "message": "the line already pays 0.22 CNY",
                        "details": {
                            "field": "claimed_amount",
                            "problems": [{"field": "claimed_amount", "problem": "the line already pays 0.22 CNY"}],
                        },
                    }
                },
                422,
            ),
        ]
    )

    class Refusing(FakeService):
        def request(self, method: str, path: str, **kwargs: object) -> Answer:
            return next(refusals)

    real = client._call
    Refusing(monkeypatch, {})
    for module in (client, settlement, disputes):
        monkeypatch.setattr(module, "_call", real)
    claimed = CliRunner().invoke(app, ["periods", "claim", PERIOD_ID, "1"], env={"COLUMNS": "80"})
    assert claimed.exit_code == 1, (claimed.output, claimed.exception)
    within_80(claimed.output, PERIOD_ID)
    assert claimed.output.startswith("refused (409 period_not_finalised): claims open after")
    twice = CliRunner().invoke(app, ["periods", "dispute", PERIOD_ID, "1", "--reason", "x", "--claimed", "22"])
    assert twice.exit_code == 1 and twice.output.count("the line already pays 0.22 CNY") == 1, twice.output


def test_names_are_printed_where_the_service_gives_them(monkeypatch):
    drama = "0x" + "ff74" * 16
    edge = {"parent_work_id": drama, "licence_id": 2, "kind": "re_edit", "share_bps": 3000}
    family_edge = {
        "parent": {"work_id": drama, "title": "Spring Tide"},
        "derivative": {"work_id": WORK_ID, "title": "x"},
    }
    seat = {
        "arbiter": ADDRESS,
        "pending": None,
        "arbiter_account_id": 5,
        "held_by_service": False,
        "external": False,
        "decision_window": 120,
        "default_outcome": "rejected",
        "bond_token": None,
    }
    split = {
        "version": 1,
        "effective_from": 0,
        "payees": [{"address": PAYEE, "bps": 7000}, {"address": OTHER, "bps": 3000}],
    }
    FakeService(
        monkeypatch,
        {
            ("POST", f"/works/{WORK_ID}/parents"): {
                "work_id": WORK_ID,
                "chain": chain(),
                "parents": [{**edge, "min_per_valid_play_micro": 0, "currency": "CNY"}],
            },
            ("GET", f"/works/{WORK_ID}/family"): {"parents": [family_edge], "children": []},
            ("GET", "/arbiter"): seat,
            ("GET", "/accounts"): [{"id": 5, "name": "rights-society"}],
            ("GET", f"/works/{WORK_ID}/splits"): [split],
        },
    )
    derived = invoke("works", "derive", WORK_ID, "--parent", "2:re_edit")
    within_80(derived, WORK_ID, drama, TX_HASH)
    assert "  re_edit of Spring Tide under licence 2: 30 % upstream\n" in derived
    assert f"\n    {drama}\n" in derived
    assert re.search(rf"arbiter +{ADDRESS} \(account 5,\s+rights-society\)\n", invoke("arbiter", "show"))
    splits = invoke("splits", "list", WORK_ID)
    assert splits == f"split v1 from the start:\n     70 %  {PAYEE}\n     30 %  {OTHER}\n"


def test_watermark_detect_names_the_work_by_its_title_when_it_may_be_read(monkeypatch, tmp_path):
    dist = {
        "id": 1,
        "work_id": WORK_ID,
        "platform": {"name": "streamer", "address": ADDRESS},
        "session": "premiere-42",
        "tier": None,
        "payload": "0x5eed0badf00d",
        "record_hash": HASH,
    }
    mark = {"found": True, "payload": "0x5eed0badf00d", "confidence": 0.98, "sync": 30.2, "frames": 1, "keys_tried": 1}
    found = {
        "watermark": mark,
        "distribution": dist,
        "on_chain": {"record_hash_matches": True, "anchored_at": 1_797_000_000},
    }
    FakeService(monkeypatch, {("POST", "/detect"): found, ("GET", f"/works/{WORK_ID}"): work()})
    copy = tmp_path / "copy.mp4"
    copy.write_bytes(b"copy")
    out = invoke("watermark", "detect", str(copy))
    within_80(out, WORK_ID, HASH, ADDRESS)
    assert out.startswith("distribution 1 of work The Long Night 0xab12…ab12\n")
    assert re.search(r"on chain +the record, anchored \d{4}-\d\d-\d\d \d\d:\d\d UTC, matches\n", out)
    assert re.search(r"read from +1 frame\n", out)


def test_jobs_list_names_the_work_and_prints_times_to_the_minute(monkeypatch):
    job = {
        "id": 7,
        "kind": "hash_master",
        "status": "done",
        "progress": {"done": 8.0, "total": 8.0, "fraction": 1.0},
        "result": {"work_id": WORK_ID},
        "created_at": NOW,
    }
    FakeService(monkeypatch, {("GET", "/jobs"): {"items": [job], "total": 1}, ("GET", f"/works/{WORK_ID}"): work()})
    out = invoke("jobs", "list")
    within_80(out, "2026-12-07 12:34 UTC")
    assert "The Long" in out and "0xab12…ab12" in out and "12:34:46" not in out


def test_times_read_to_the_minute_in_utc():
    assert client.moment("2026-12-21T12:40:59.803613Z") == "2026-12-21 12:40 UTC"
    assert client.moment("2026-12-21T14:40:59+02:00") == "2026-12-21 12:40 UTC"
    assert client.moment(1_797_000_000) == "2026-12-11 14:40 UTC"
    assert client.moment(None) == "-"


def test_counts_agree_with_their_nouns(monkeypatch, tmp_path):
    assert client.counted(1, "line") == "1 line" and client.counted(2, "line") == "2 lines"
    assert client.counted(1, "medium", "media") == "1 medium" and client.counted(0, "medium", "media") == "0 media"
    statement = {"lines": [{"index": 0, "amount": "44", "work_id": WORK_ID}], "payee_total": "44", "currency": "CNY"}
    FakeService(
        monkeypatch,
        {
            ("GET", f"/periods/{PERIOD_ID}/statement"): statement,
            ("POST", "/reports/check"): {"problems": [], "rows": 1},
        },
    )
    out = invoke("periods", "statement", PERIOD_ID, "-o", str(tmp_path / "statement.json"))
    assert out.startswith("1 line, 0.44 CNY ->")
    rows = tmp_path / "week.csv"
    rows.write_text("work_id\n")
    assert invoke("reports", "check", str(rows)) == "week.csv: 1 row, no problems\n"


def test_the_progress_bars_say_what_they_count():
    from rich.progress import Progress

    from ledger.cli.files import FramesColumn, SpeedColumn

    bar = Progress()
    sent = bar.add_task("uploading", total=278)
    bar.update(sent, completed=278)
    assert SpeedColumn().render(bar.tasks[sent]).plain == ""  # not "0 bytes/s"
    marking = bar.add_task("marking", total=200, completed=120)
    assert FramesColumn().render(bar.tasks[marking]).plain == "120/200 frames"
    bar.update(marking, completed=200, frames=False, description="200 frames marked; anchoring on chain")
    assert FramesColumn().render(bar.tasks[marking]).plain == ""


def test_the_frame_hashing_bar_ends_full(monkeypatch, tmp_path):
    from rich import progress as rich_progress

    import watermark.hash_sequence
    from ledger.cli import matching

    def hashed(file, moved, seconds):
        moved(3.56, 4.56)
        return "frames"

    updates = []
    monkeypatch.setattr(watermark.hash_sequence, "query_sequence", hashed)
    original = rich_progress.Progress.update
    monkeypatch.setattr(
        rich_progress.Progress, "update", lambda self, task, **kw: (updates.append(kw), original(self, task, **kw))
    )
    assert matching.hash_with_progress(tmp_path / "copy.mp4") == "frames"
    assert updates[-1]["completed"] == updates[-1]["total"] == 4.56
    assert updates[-1]["at"] == "4.6 of 4.6 s of video" and updates[0]["at"] == "3.6 of 4.6 s of video"


def test_crawl_recheck_says_alive_and_why_without_parentheses_in_parentheses(monkeypatch):
    from types import SimpleNamespace

    import ledger.crawl.recheck
    from ledger.cli import crawl

    state = SimpleNamespace(alive=True, detail="still served (larger than the probe reads)")
    monkeypatch.setattr(crawl, "service_client", lambda: SimpleNamespace(close=lambda: None))
    monkeypatch.setattr(ledger.crawl.recheck, "recheck_pass", lambda service, config: [(case(), state)])
    out = invoke("crawl", "recheck")
    within_80(out, case()["url"])
    assert "  alive: still served (larger than the probe reads)\n" in out and out.endswith("1 open case checked\n")


def test_help_rewraps_docstrings_to_the_terminal(monkeypatch):
    import typer

    for words in (["crawl", "--help"], ["works", "--help"], ["crawl", "submit", "--help"]):
        out = invoke(*words)
        lines = [line.strip("│ ") for line in out.splitlines()]
        # a paragraph's line ends where the next word would not fit, never mid-sentence at a docstring's break
        assert not any(line.endswith(("is reported and", "with a progress bar),", "so that its")) for line in lines), (
            out
        )
    command = typer.main.get_command(app)
    for group in command.commands.values():
        for sub in getattr(group, "commands", {}).values():
            assert all("\n" not in p for p in (sub.help or "").split("\n\n")), sub.name


def test_statement_lines_and_held_rows_fit_80_columns(monkeypatch, tmp_path):
    line = {
        "index": 0,
        "amount": "1890",
        "work_id": WORK_ID,
        "work_title": "Spring Tide",
        "via_work_id": TX_HASH,
        "via_title": "Spring Tide: the clinic scenes",
    }
    statement = {"lines": [line], "payee_total": "1890", "currency": "CNY"}
    held = {
        "report_id": "week-47",
        "work_id": WORK_ID,
        "territory": "US",
        "date": "2026-11-17",
        "valid_plays": 4500,
        "released_into": None,
        "would_earn": {"amount": "9", "currency": "CNY"},
        "reason": "no licence covers the territory on that day",
        "reason_code": "territory_outside",
    }
    FakeService(monkeypatch, {("GET", f"/periods/{PERIOD_ID}/statement"): statement, ("GET", "/reports/held"): [held]})
    out = invoke("periods", "statement", PERIOD_ID, "-o", str(tmp_path / "producer.json"))
    within_80(out)
    assert "  line 0: 18.90 CNY, work 'Spring Tide' (0xab12ab12…) through derivative\n    'Spring Tide: the" in out
    rows = invoke("reports", "held")
    within_80(rows, WORK_ID)
    assert "would earn 0.09 CNY" in rows and rows.startswith("week-47 US 2026-11-17 valid plays 4500\n")


def test_an_audit_a_job_and_a_distribution_fit_80_columns(monkeypatch):
    audit = {
        "recomputed_root": HASH,
        "chain_root": HASH,
        "total": 146,
        "currency": "CNY",
        "line_count": 1,
        "problems": [],
        "ok": True,
    }
    job = {
        "id": 7,
        "kind": "hash_master",
        "status": "done",
        "progress": {"done": 8.0, "total": 8.0, "fraction": 1.0},
        "result": {"work_id": WORK_ID, "fingerprint_digest": HASH, "frames": 8},
    }
    dist = {
        "id": 1,
        "work_id": WORK_ID,
        "platform": {"name": "streamer", "address": ADDRESS},
        "session": "premiere-42",
        "tier": None,
        "payload": "0x5eed0badf00d",
        "status": "ready",
        "record_hash": HASH,
        "chain": chain(),
        "copy": {"sha256": HASH, "size": 1_000_000},
    }
    FakeService(
        monkeypatch,
        {("GET", f"/periods/{PERIOD_ID}/audit"): audit, ("GET", "/jobs/7"): job, ("GET", "/distributions/1"): dist},
    )
    audited = invoke("periods", "audit", PERIOD_ID)
    within_80(audited, HASH)
    assert "total 1.46 CNY over 1 line\n" in audited
    shown = invoke("jobs", "show", "7")
    within_80(shown, WORK_ID, HASH)
    assert re.search(rf"fingerprint digest\s+{HASH}\n", shown)
    made = invoke("distributions", "show", "1")
    within_80(made, WORK_ID, HASH, TX_HASH, ADDRESS)
    assert made.startswith("distribution 1: ready\n") and re.search(rf"^ record hash  {HASH}$", made, re.M)


def test_match_fits_80_columns(monkeypatch, tmp_path):
    from types import SimpleNamespace

    from ledger.cli import matching

    found = {
        "matched": True,
        "query": {"frames_usable": 8, "frames_sampled": 8, "duration_seconds": 8.0},
        "work": {"work_id": WORK_ID, "title": "Harbour Lights", "registry": ADDRESS, "chain": chain()},
        "offset_seconds": 2.0,
        "duration_seconds": 6.0,
        "frames_agreeing": 1,
        "speed": 1.0,
        "confidence": 0.97,
    }
    FakeService(monkeypatch, {("POST", "/match"): found})
    monkeypatch.setattr(matching, "_call", lambda method, path, **kw: found)
    monkeypatch.setattr(matching, "hash_with_progress", lambda file: SimpleNamespace(to_json=lambda: {}))
    copy = tmp_path / "excerpt.mp4"
    copy.write_bytes(b"copy")
    out = invoke("match", str(copy))
    within_80(out, WORK_ID, ADDRESS, TX_HASH)
    assert "confirmed in WorkRegistry" in out and "(1 frame agrees; 8 of 8 frames usable, 8.0 s)" in out


def test_the_service_named_as_a_registry_source_never_shows_credentials_in_its_address():
    from ledger.cli.verify import _without_credentials

    assert _without_credentials("https://ops:s3cret@ledger.example:8443/api") == "https://ledger.example:8443/api"
    assert _without_credentials("http://127.0.0.1:8000") == "http://127.0.0.1:8000"
