"""A claim before the period is final is refused saying when claims open: the README's order
(close, then claim) meets this refusal first."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from ledger.errors import Conflict
from ledger.models import PeriodStatus, SettlementPeriod
from ledger.settlement.payouts import _require_final

PERIOD_ID = "0x" + "ab" * 32


def period(status: PeriodStatus, dispute_ends: int | None) -> SettlementPeriod:
    return SettlementPeriod(period_id=PERIOD_ID, status=status, dispute_ends=dispute_ends)


def refusal(p: SettlementPeriod) -> Conflict:
    with pytest.raises(Conflict) as refused:
        _require_final(p, "claims open")
    assert refused.value.code == "period_not_finalised"
    return refused.value


def test_during_the_dispute_window_the_refusal_names_when_it_closes():
    ends = int(time.time()) + 3600
    refused = refusal(period(PeriodStatus.committed, ends))
    opens = datetime.fromtimestamp(ends, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert refused.message.startswith(f"claims open after {opens}, when the dispute window closes;")
    assert f"`reelledger periods show {PERIOD_ID}`" in refused.message
    assert refused.details["opens_at"] == ends


def test_before_the_root_is_on_chain_the_refusal_says_the_window_has_not_started():
    refused = refusal(period(PeriodStatus.committing, None))
    assert "after the dispute window, which starts once the period's root is on chain" in refused.message


def test_after_the_window_the_refusal_says_finalisation_is_under_way():
    refused = refusal(period(PeriodStatus.committed, int(time.time()) - 5))
    assert refused.message.startswith("claims open in a moment: the dispute window closed at ")


def test_a_finalised_period_is_not_refused():
    _require_final(period(PeriodStatus.finalised, int(time.time()) - 5), "claims open")
