"""A report's EIP-712 signature binds the platform to every number it reports."""

import dataclasses

import pytest
from eth_account import Account

from ledger.reports.signing import BadSignature, ReportSummary, check, report_id_hash, sign

CHAIN, CONTRACT = 31337, "0x" + "42" * 20


def summary(platform: str, **changes) -> ReportSummary:
    base = ReportSummary(
        platform,
        report_id_hash("2026-11-week-47"),
        1_795_000_000,
        1_795_604_800,
        "CNY",
        3,
        900,
        800,
        120_000,
        55_500,
        b"\x07" * 32,
    )
    return dataclasses.replace(base, **changes)


def test_the_platforms_signature_verifies():
    key = Account.create()
    report = summary(key.address)
    check(report, sign(report, key.key, CHAIN, CONTRACT), CHAIN, CONTRACT)


@pytest.mark.parametrize(
    "change",
    [
        {"valid_plays": 801},
        {"rows_root": b"\x08" * 32},
        {"row_count": 4},
        {"currency": "USD"},
        {"period_end": 1_795_604_801},
    ],
)
def test_any_changed_number_breaks_the_signature(change):
    key = Account.create()
    signature = sign(summary(key.address), key.key, CHAIN, CONTRACT)
    with pytest.raises(BadSignature, match="not by the platform"):
        check(summary(key.address, **change), signature, CHAIN, CONTRACT)


def test_a_signer_that_is_not_the_platform_is_refused():
    platform, impostor = Account.create(), Account.create()
    report = summary(platform.address)
    with pytest.raises(BadSignature):
        check(report, sign(report, impostor.key, CHAIN, CONTRACT), CHAIN, CONTRACT)


def test_a_signature_for_another_chain_or_contract_is_refused():
    key = Account.create()
    report = summary(key.address)
    with pytest.raises(BadSignature):
        check(report, sign(report, key.key, 1, CONTRACT), CHAIN, CONTRACT)
    with pytest.raises(BadSignature):
        check(report, b"\x00" * 10, CHAIN, CONTRACT)
