"""The README's walk-through against chains ReelLedger does not run: Hardhat 2 (Cancun) and
Ganache 7 (Shanghai), each started from npm on a free loopback port, the service pointed at it
(REELLEDGER_RPC_URL) with one of the node's funded development keys as its signer
(REELLEDGER_SIGNER_KEY). The service deploys its contracts there and every step runs over real
HTTP: accounts, register, licence, split, rule, a signed report, close, the dispute window passed
by the node's clock (evm_increaseTime, evm_mine), finalise, fund, statement, an independent
verify, claim, audit, a watermarked distribution, and a crawl case with its evidence anchored.

Twice: with the README's service-held (custodial) accounts and the test stablecoin the service
deploys; and with users who bring their own wallets (keys the node funded) and a settlement
token somebody else issued (REELLEDGER_SETTLEMENT_TOKEN), where the service's signer sends every
transaction of its own and the wallets theirs."""

from __future__ import annotations

import hashlib
from contextlib import contextmanager

from web3 import Web3

from ledger.chain import artifacts
from ledger.chain.settlement import read_period
from ledger.chain.verify import checked_contract, find_evidence, find_registration, verify_statement
from ledger.models import Role
from tests.helpers.cases import jpeg, report, wait_anchored
from tests.helpers.distributions import MASTER, decode, distribute, register, wait_ready
from tests.helpers.service import running_service
from tests.helpers.settlement import close, line_leaf, make_deal, post_report, rows, signed_post, wait_status
from tests.helpers.walk import AdminDesk, Wallet, issue_token
from watermark import attacks

WINDOW = 3_600  # the dispute window: an hour, passed by the node's clock, not waited for


@contextmanager
def service_on(node, data_dir, **overrides):
    """The service on `node`, signing with the node's first funded key."""
    with running_service(
        data_dir, rpc_url=node.url, signer_key=node.keys[0], write_wait=10, dispute_window=WINDOW, **overrides
    ) as service:
        yield service


def published(service) -> dict[str, str]:
    """The contract addresses the operator publishes (`GET /health`)."""
    return service.client().get("/health").json()["contracts"]


def deploy_is_this_release(node, service) -> None:
    """Every contract the service deployed holds this release's code, as `reelledger verify` checks it."""
    contracts = published(service)
    assert service.ledger.chain.chain_id == node.kind.chain_id
    for name, address in contracts.items():
        checked_contract(node.url, address, name)  # raises on any other code


def commit_and_finalise(node, deal) -> dict:
    """Close the period (committed on chain), then let the node's clock pass the dispute window:
    the service finalises it and deploys its payout."""
    closed = close(deal)
    assert closed.status_code == 201, closed.text
    period = closed.json()
    assert period["status"] in ("committing", "committed"), period
    node.advance(WINDOW + 60)
    finalised = wait_status(deal.platform, period["period_id"], "finalised", timeout=60)
    assert finalised["status"] == "finalised", finalised
    return finalised


def second_payees_line(node, service, deal, period: dict) -> tuple[dict, dict]:
    """The second payee's statement, checked against the chain alone; its line."""
    statement = deal.second_payee.get(f"/periods/{period['period_id']}/statement").json()
    assert [line["payee"] for line in statement["lines"]] == [deal.second_address], statement
    check = verify_statement(node.url, statement, published(service)["SettlementRegistry"])
    assert check.ok and check.period_state == 2, check
    return statement, statement["lines"][0]


def audited(desk, period_id: str) -> None:
    _, _, auditor = desk.new_account(Role.auditor)
    audit = auditor.get(f"/periods/{period_id}/audit").json()
    assert audit["ok"], audit
    assert audit["recomputed_root"] == audit["chain_root"]


def distribution_then_leak(node, service, desk, deal) -> None:
    """The studio registers a master and distributes a marked copy to the platform (anchored);
    a crawler reports a cropped copy of it found online: a case traced to the platform, its
    evidence anchored and found on chain by its hash alone."""
    work_id = register(deal.owner, MASTER, "Astronaut", service)
    registration = find_registration(node.url, published(service)["WorkRegistry"], hashlib.sha256(MASTER).digest())
    assert registration is not None and registration.owner == deal.owner_address and registration.work_id == work_id
    platform_name = deal.platform.get("/accounts/me").json()["name"]
    started = distribute(deal.owner, work_id, MASTER, platform_name, fields={"session": "premiere-42"})
    assert started.status_code == 202, started.text
    dist = wait_ready(deal.owner, started.json()["id"], timeout=120)
    assert dist["status"] == "ready" and dist["chain"]["status"] == "confirmed", dist
    record_hash, _, _ = (
        service.ledger.chain.contract("DistributionRegistry")
        .functions.anchorOf(bytes.fromhex(work_id[2:]), int(dist["payload"], 16))
        .call()
    )
    assert "0x" + record_hash.hex() == dist["record_hash"]

    _, _, crawler = desk.new_account(Role.crawler)
    leaked = decode(deal.owner.get(dist["copy"]["url"]).content)
    found = report(crawler, jpeg(attacks.ATTACKS["crop10"](leaked)))
    assert found.status_code == 201 and found.json()["matched"], found.text
    case = wait_anchored(crawler, found.json()["case"]["id"], service.ledger)
    assert case["anchor"]["status"] == "confirmed", case
    assert case["leak"]["platform"]["name"] == platform_name and case["leak"]["distribution_id"] == dist["id"]
    bundle = crawler.get(f"/cases/{case['id']}/evidence").content
    evidence = find_evidence(node.url, case["evidence_registry"], bundle)
    assert evidence.anchored and evidence.work_matches and evidence.work_registered


def test_the_readme_walk_through_with_service_held_accounts(node, tmp_path):
    with service_on(node, tmp_path / "data") as service:
        deploy_is_this_release(node, service)
        _, _, admin = service.new_account(Role.admin)  # the README's first admin, made on the local database
        desk = AdminDesk(service, admin)
        deal = make_deal(desk)  # studio, investor and platform accounts; register, licence, split, rule
        sent = post_report(deal, "week-47", rows(deal))  # a service-held platform's report, signed by the service
        assert sent.status_code == 201 and sent.json()["anchor"]["status"] == "confirmed", sent.text
        period = commit_and_finalise(node, deal)

        funded = deal.platform.post(f"/periods/{period['period_id']}/fund", json={})
        assert funded.status_code == 200 and funded.json()["funded"] == period["total"], funded.text
        statement, line = second_payees_line(node, service, deal, period)
        claimed = deal.second_payee.post(f"/periods/{period['period_id']}/lines/{line['index']}/claim")
        assert claimed.status_code == 200 and claimed.json()["chain"]["status"] == "confirmed", claimed.text
        token = service.ledger.chain.contract("TestStablecoin")
        assert token.functions.balanceOf(deal.second_address).call() == int(line["amount"])
        audited(desk, period["period_id"])
        distribution_then_leak(node, service, desk, deal)


def test_the_walk_through_with_own_wallets_and_an_issued_settlement_token(node, tmp_path):
    """Every write the service signs is its signer's (funded by the node); each user's own
    transactions (approving the service, paying a period in, claiming a line) come from their wallet."""
    w3 = Web3(Web3.HTTPProvider(node.url))
    studio, investor, streamer, issuer = (Wallet(w3, node.keys[i]) for i in (1, 2, 3, 9))
    token = issue_token(w3, issuer)
    issuer.call(token, "mint", streamer.address, 10**9)
    with service_on(node, tmp_path / "data", settlement_token=token.address) as service:
        deploy_is_this_release(node, service)
        assert "TestStablecoin" not in published(service)
        _, _, admin = service.new_account(Role.admin)
        desk = AdminDesk(service, admin, {w.address: w for w in (studio, investor, streamer)})
        deal = make_deal(
            desk, owner_address=studio.address, second_address=investor.address, platform_address=streamer.address
        )
        sent = signed_post(service, deal, streamer.account, "week-47", rows(deal))  # signed by the platform's key
        assert sent.status_code == 201 and sent.json()["anchor"]["status"] == "confirmed", sent.text
        period = commit_and_finalise(node, deal)
        period_id, total = period["period_id"], int(period["total"])

        refused = deal.platform.post(f"/periods/{period_id}/fund", json={})
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "own_wallet", refused.text
        registry = service.ledger.chain.contract("SettlementRegistry")
        streamer.call(token, "approve", registry.address, total)
        streamer.call(registry, "fund", bytes.fromhex(period_id[2:]), total)
        assert read_period(registry, period_id)["funded"] == total

        statement, line = second_payees_line(node, service, deal, period)
        refused = deal.second_payee.post(f"/periods/{period_id}/lines/{line['index']}/claim")
        assert refused.status_code == 409 and refused.json()["error"]["code"] == "own_wallet", refused.text
        payout = w3.eth.contract(address=statement["payout"], abi=artifacts.load("PeriodPayout").abi)
        investor.call(
            payout,
            "claim",
            line_leaf(line),
            [bytes.fromhex(p[2:]) for p in line["proof"]],
        )
        assert token.functions.balanceOf(investor.address).call() == int(line["amount"])
        check = verify_statement(node.url, statement, registry.address)
        assert check.ok and all(checked.settled for checked in check.lines)
        audited(desk, period_id)
        distribution_then_leak(node, service, desk, deal)
