"""Play reports to payout over real HTTP: report, close, commit, statement, fund, claim, audit;
on SQLite and on PostgreSQL, each with its own Anvil node."""

from __future__ import annotations

import json
import subprocess

import pytest
from eth_utils import keccak

from ledger.chain import artifacts
from ledger.currencies import major
from ledger.merkle import verify
from ledger.models import Role
from ledger.settlement.lines import LINE_TYPES
from tests.helpers.settlement import close, line_leaf, make_deal, post_report, rows, stored_rows, wait_status


@pytest.fixture(scope="module")
def service(settlement_service):
    return settlement_service


def cast_verifies(service, registry: str, period_id: str, line: dict) -> bool:
    """Foundry's `cast` asks the contract about the same leaf and proof."""
    from ledger.config import native_foundry_binary

    signature = "verifyLine(bytes32,(uint256,address,bytes32,uint256,uint32,uint32),bytes32[])(bool)"
    fields = [str(line["index"]), line["payee"], line["work_id"], line["amount"]]
    fields += [str(line["rule_version"]), str(line["split_version"])]
    args = [period_id, "(" + ",".join(fields) + ")", "[" + ",".join(line["proof"]) + "]"]
    out = subprocess.run(
        [
            str(native_foundry_binary("cast")),
            "call",
            registry,
            signature,
            *args,
            "--rpc-url",
            service.ledger.chain.rpc_url,
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip() == "true"


def test_a_report_is_settled_committed_verified_claimed_and_audited(service):
    deal = make_deal(service)
    _, _, auditor = service.new_account(Role.auditor)
    items = rows(deal) + rows(deal, days=1, territory="US")  # no licence for US: held
    first = post_report(deal, "weekly-1", items)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["rows"], body["held_rows"], body["status"]) == (6, 1, "accepted")
    assert body["anchor"]["status"] == "confirmed"
    registry = service.ledger.chain.contract("SettlementRegistry")
    anchored = registry.functions.reportDigest(deal.platform_address, bytes.fromhex(body["report_hash"][2:])).call()
    assert anchored != b"\0" * 32

    again = post_report(deal, "weekly-1", items)  # a resend is recognised, not counted twice
    assert again.status_code == 200 and again.json()["rows_root"] == body["rows_root"]
    assert stored_rows(service, "weekly-1") == 6
    held = deal.platform.get("/reports/held").json()
    assert [(h["territory"], h["work_id"]) for h in held] == [("US", deal.work_id)]
    assert [h["territory"] for h in deal.owner.get("/reports/held").json()] == ["US"]
    assert deal.owner.get("/reports").json() == []  # a rights holder sees no platform's reports
    listed = {r["report_id"]: r for r in deal.platform.get("/reports").json()}
    assert listed["weekly-1"]["anchor"] == body["anchor"]  # the list shows the anchoring transaction too
    seen = [r["anchor"] for r in auditor.get("/reports", params={"limit": 500}).json() if r["digest"] == body["digest"]]
    assert seen == [body["anchor"]]

    closed = close(deal)
    assert closed.status_code == 201, closed.text
    period = closed.json()
    # 4,510 valid plays: 2,000 at 0.01 fen + 2,510 at 0.015; 150,000 minutes at 0.0005; half of 61,725 ad
    # revenue: 30,995 fen earned, 3,099 commission, 27,896 split 70/30 by largest remainder.
    assert period["total"] == "27896" and period["line_count"] == 2
    on_chain = registry.functions.period(bytes.fromhex(period["period_id"][2:])).call()
    assert "0x" + bytes(on_chain[0]).hex() == period["root"]
    assert close(deal).json()["root"] == period["root"]  # closing again changes nothing

    period = wait_status(deal.platform, period["period_id"], "finalised")
    assert period["status"] == "finalised"
    statement = deal.second_payee.get(f"/periods/{period['period_id']}/statement").json()
    assert [(line["payee"], line["amount"]) for line in statement["lines"]] == [(deal.second_address, "8369")]
    own = deal.owner.get(f"/periods/{period['period_id']}/statement").json()
    assert [line["amount"] for line in own["lines"]] == ["19527"]
    line = statement["lines"][0]
    proof = [bytes.fromhex(p[2:]) for p in line["proof"]]
    assert verify(bytes.fromhex(statement["root"][2:]), LINE_TYPES, line_leaf(line), proof)
    period_key = bytes.fromhex(period["period_id"][2:])
    assert registry.functions.verifyLine(period_key, line_leaf(line), proof).call()
    assert cast_verifies(service, registry.address, period["period_id"], line)
    seen_by_payee = deal.second_payee.get(f"/periods/{period['period_id']}").json()
    assert seen_by_payee["root"] == period["root"] and "reports" not in seen_by_payee and "pools" not in seen_by_payee
    snooped = deal.second_payee.get(f"/periods/{period['period_id']}/statement", params={"payee": deal.owner_address})
    assert snooped.status_code == 404

    # The owner was paid its 19,527 by bank transfer: recorded on chain, the period owes only the rest.
    owner_line = own["lines"][0]["index"]
    paid = deal.owner.post(
        f"/periods/{period['period_id']}/lines/{owner_line}/paid-off-chain",
        json={"payment_ref": "bank transfer 2026-11-30 #4411"},
    )
    assert paid.status_code == 200 and paid.json()["chain"]["status"] == "confirmed", paid.text
    assert registry.functions.isLineSettled(period_key, owner_line).call()
    settled = deal.owner.post(f"/periods/{period['period_id']}/lines/{owner_line}/claim")
    assert settled.status_code == 409 and settled.json()["error"]["code"] == "PeriodPayoutLineAlreadySettled", (
        settled.text
    )

    assert deal.second_payee.post(f"/periods/{period['period_id']}/fund", json={}).status_code == 403
    assert deal.platform.get(f"/periods/{period['period_id']}").json()["owed"] == "8369"  # what funding pays in
    platform_name = deal.platform.get("/accounts/me").json()["name"]
    assert [p["platform"] for p in deal.second_payee.get("/periods").json()] == [platform_name]  # by name, for people
    funded = deal.platform.post(f"/periods/{period['period_id']}/fund", json={})
    assert funded.status_code == 200 and funded.json()["funded"] == "8369", funded.text
    assert funded.json()["currency"] == "CNY"  # what the minor units are of
    assert (
        deal.platform.post(f"/periods/{period['period_id']}/fund", json={}).json()["error"]["code"] == "period_funded"
    )
    assert deal.platform.get(f"/periods/{period['period_id']}").json()["owed"] == "0"  # fully funded
    # The funds sit in the period's own payout contract, at the address the statement names.
    token = service.ledger.chain.contract("TestStablecoin")
    assert statement["payout"] == registry.functions.payoutOf(period_key).call()
    payout = service.ledger.chain.w3.eth.contract(address=statement["payout"], abi=artifacts.load("PeriodPayout").abi)
    assert token.functions.balanceOf(payout.address).call() == 8369
    assert token.functions.balanceOf(registry.address).call() == 0
    assert deal.platform.post(f"/periods/{period['period_id']}/lines/{line['index']}/claim").status_code == 403
    # The owner takes the second payee's index: the line exists, so not "no line"; its content stays unsaid.
    taken = deal.owner.post(f"/periods/{period['period_id']}/lines/{line['index']}/claim")
    assert taken.status_code == 403, taken.text
    error = taken.json()["error"]
    assert error["message"].startswith(
        f"line {line['index']} of period {period['period_id']} is not yours (your lines: {owner_line}); "
    )
    assert error["details"]["own_lines"] == [owner_line]
    assert deal.second_address not in taken.text and "8369" not in taken.text
    _, _, outsider = service.new_account(Role.rights_holder)  # no line in the period: it learns nothing of it
    assert outsider.post(f"/periods/{period['period_id']}/lines/{line['index']}/claim").status_code == 404
    beyond = deal.owner.post(f"/periods/{period['period_id']}/lines/7/claim")
    assert beyond.status_code == 404 and f"(your lines: {owner_line})" in beyond.json()["error"]["message"]
    claimed = deal.second_payee.post(f"/periods/{period['period_id']}/lines/{line['index']}/claim")
    assert claimed.status_code == 200 and claimed.json()["chain"]["status"] == "confirmed", claimed.text
    assert token.functions.balanceOf(deal.second_address).call() == 8369
    assert token.functions.balanceOf(payout.address).call() == 0
    assert deal.second_payee.post(f"/periods/{period['period_id']}/lines/{line['index']}/claim").status_code == 200
    assert token.functions.balanceOf(deal.second_address).call() == 8369  # a second claim pays nothing
    assert registry.functions.isLineSettled(period_key, line["index"]).call()
    with pytest.raises(Exception) as refused:  # and the contract itself refuses a second claim
        payout.functions.claim(line_leaf(line), proof).call({"from": deal.second_address})
    assert keccak(text="PeriodPayoutLineAlreadySettled(bytes32,uint256)")[:4].hex() in str(refused.value)

    assert deal.owner.get(f"/periods/{period['period_id']}/audit").status_code == 403
    audit = auditor.get(f"/periods/{period['period_id']}/audit").json()
    assert audit["ok"], audit["problems"]
    assert audit["recomputed_root"] == audit["chain_root"] == period["root"]
    assert (audit["total"], audit["currency"]) == ("27896", "CNY")


def test_a_funding_retried_under_its_key_pays_once_and_the_key_with_another_amount_is_409(service):
    from ledger.chain.settlement import read_period

    deal = make_deal(service)
    assert post_report(deal, "keyed-funding", rows(deal)).status_code == 201
    period_id = close(deal).json()["period_id"]
    assert wait_status(deal.platform, period_id, "finalised")["status"] == "finalised"
    registry = service.ledger.chain.contract("SettlementRegistry")

    def fund(amount: int, key: str):
        return deal.platform.post(
            f"/periods/{period_id}/fund", json={"amount": amount}, headers={"Idempotency-Key": key}
        )

    first = fund(100, "fund-a")
    assert first.status_code == 200 and first.json()["funded"] == "100", first.text
    again = fund(100, "fund-a")  # the answer was lost, say: the retry pays nothing more
    assert again.status_code == 200 and again.json()["chain"]["tx_hash"] == first.json()["chain"]["tx_hash"]
    assert read_period(registry, period_id)["funded"] == 100
    reused = fund(250, "fund-a")
    assert reused.status_code == 409 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert "fund-a" in reused.json()["error"]["message"]
    assert fund(100, "fund-b").status_code == 200  # a new key is a new payment
    assert read_period(registry, period_id)["funded"] == 200
    owed = int(deal.platform.get(f"/periods/{period_id}").json()["owed"])
    too_much = deal.platform.post(f"/periods/{period_id}/fund", json={"amount": owed + 1})
    assert too_much.status_code == 422, too_much.text
    # in the currency as people read it, and in the minor units the amount field counts
    assert too_much.json()["error"]["message"] == (
        f"the period still owes {major(owed, 'CNY')} ({owed} minor units); fund 1 to {owed}"
    )


def test_rules_list_reads_prices_as_money(service):
    """A rule's prices are millionths of a minor unit as set; listed, they read in the rule's
    currency, and --json keeps them as set."""
    from typer.testing import CliRunner

    from ledger.cli import app

    deal = make_deal(service)
    key = deal.owner.headers["Authorization"].removeprefix("Bearer ")
    env = {"REELLEDGER_URL": service.url, "REELLEDGER_API_KEY": key, "COLUMNS": "250"}
    listed = CliRunner().invoke(app, ["rules", "list", deal.work_id], env=env)
    assert listed.exit_code == 0, listed.output
    assert listed.output.endswith(
        "platform any: 0.0001 CNY per valid play; 0.00015 CNY per valid play beyond 2,000; "
        "0.000005 CNY per watch minute; 50 % of ad revenue; the platform keeps 10 %\n"
    ), listed.output
    assert "price_micro" not in listed.output
    as_set = CliRunner().invoke(app, ["rules", "list", deal.work_id, "--json"], env=env)
    assert as_set.exit_code == 0, as_set.output
    assert json.loads(as_set.output)[0]["rule"]["valid_play_tiers"][1] == {"from_plays": 2000, "price_micro": 15000}


def test_reports_held_says_so_when_nothing_is_held(service):
    """An empty answer is said, not printed as nothing (which reads as a command that did not run)."""
    from typer.testing import CliRunner

    from ledger.cli import app

    deal = make_deal(service)
    assert post_report(deal, "all-licensed", rows(deal)).status_code == 201
    key = deal.platform.headers["Authorization"].removeprefix("Bearer ")
    env = {"REELLEDGER_URL": service.url, "REELLEDGER_API_KEY": key, "COLUMNS": "250"}
    for args, said in (
        ([], "no rows held or released: a licence covered every row of the reports"),
        (["--state", "held"], "no rows held: a licence covered every row of the reports"),
        (["--offset", "5"], "no rows held or released from row 5 on"),
    ):
        held = CliRunner().invoke(app, ["reports", "held", *args], env=env)
        assert (held.exit_code, held.output) == (0, said + "\n"), held.output
