"""A replacement's price: nodes take it only if it outbids every price field of the transaction
it replaces (geth: +10%), and it must also meet what the chain asks now."""

from __future__ import annotations

import pytest
from eth_account import Account

from ledger.chain.fees import Fees, Market, outbid, signed_fees, underpriced

GWEI = 10**9


def test_a_replacement_outbids_each_field_by_at_least_an_eighth_when_the_chain_asks_less():
    old = Fees(cap=30 * GWEI, tip=2 * GWEI)
    calm = Market(base_fee=5 * GWEI, offer=Fees(11 * GWEI, 1 * GWEI))

    new = outbid(old, calm)

    assert new == Fees(cap=33_750_000_000, tip=2_250_000_000)
    assert new.cap * 10 >= old.cap * 11 and new.tip * 10 >= old.tip * 11


def test_a_replacement_offers_what_the_chain_asks_when_that_is_more():
    old = Fees(cap=3 * GWEI, tip=1 * GWEI)
    risen = Market(base_fee=40 * GWEI, offer=Fees(83 * GWEI, 3 * GWEI))

    assert outbid(old, risen) == Fees(cap=83 * GWEI, tip=3 * GWEI)


def test_a_legacy_replacement_raises_its_gas_price():
    assert outbid(Fees(8 * GWEI), Market(None, Fees(5 * GWEI))) == Fees(9 * GWEI)
    assert outbid(Fees(8 * GWEI), Market(None, Fees(20 * GWEI))) == Fees(20 * GWEI)


@pytest.mark.parametrize(
    "fees, stuck",
    [
        (Fees(cap=12 * GWEI, tip=1 * GWEI), False),  # covers the base fee and the going tip
        (Fees(cap=10 * GWEI, tip=1 * GWEI), True),  # the base fee leaves no room for the tip
        (Fees(cap=50 * GWEI, tip=GWEI // 2), True),  # a tip below the going one
    ],
)
def test_a_transaction_is_underpriced_when_a_block_at_the_going_price_leaves_it_out(fees, stuck):
    assert underpriced(fees, Market(base_fee=10 * GWEI, offer=Fees(21 * GWEI, 1 * GWEI))) is stuck


@pytest.mark.parametrize(
    "price",
    [
        {"maxFeePerGas": 31 * GWEI, "maxPriorityFeePerGas": 2 * GWEI, "type": 2},
        {"gasPrice": 7 * GWEI},
    ],
)
def test_the_price_is_read_back_from_the_signed_bytes(price):
    account = Account.create()
    signed = account.sign_transaction(
        {"to": account.address, "value": 1, "gas": 21_000, "nonce": 4, "chainId": 31337, **price}
    )

    fees = signed_fees("0x" + bytes(signed.raw_transaction).hex())

    assert fees.fields() == price
