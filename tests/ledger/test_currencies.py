"""Amounts as people read them: minor units and micro-units shown in the currency's major unit."""

import pytest

from ledger.currencies import major, major_micro


@pytest.mark.parametrize(
    ("amount", "currency", "shown"),
    [(146, "CNY", "1.46 CNY"), (1_890, "cny", "18.90 CNY"), (5, "CNY", "0.05 CNY"), (5, "JPY", "5 JPY"),
     (1_234, "KWD", "1.234 KWD"), (0, "USD", "0.00 USD"), (10**24 + 1, "CNY", "10000000000000000000000.01 CNY")],
)  # fmt: skip
def test_major_shows_minor_units_with_the_currencys_decimals(amount, currency, shown):
    assert major(amount, currency) == shown


@pytest.mark.parametrize(
    ("micro", "currency", "shown"),
    [(20_000, "CNY", "0.0002 CNY"), (100_000, "CNY", "0.001 CNY"), (1_000_000, "CNY", "0.01 CNY"),
     (1, "CNY", "0.00000001 CNY"), (1_500_000, "JPY", "1.5 JPY"), (2_000_000, "JPY", "2 JPY")],
)  # fmt: skip
def test_major_micro_keeps_every_decimal_a_price_needs_and_at_least_the_currencys(micro, currency, shown):
    assert major_micro(micro, currency) == shown


def test_an_unknown_currency_is_refused_by_name():
    with pytest.raises(ValueError, match="'ABC' is not an ISO 4217 currency code"):
        major(1, "ABC")
