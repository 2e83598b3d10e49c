"""What a transaction offers per gas, what the chain asks for now, and what replaces it.

A signed transaction is stuck when the chain's price rose past what it offers: on an EIP-1559
chain its fee cap no longer covers the next block's base fee plus the going tip, or its tip
is below the going tip; on a legacy chain its gas price is below the node's. The only way out
that keeps "one nonce, one write" is a replacement: the same nonce, gas and call, signed again
at a higher price. Nodes accept a replacement only if it outbids the transaction it replaces
by a minimum on every price field (geth and Besu: 10%, some pools 12.5%), so `outbid` raises
each field to the going price and to at least +12.5%, whichever is more.
"""

from __future__ import annotations

from dataclasses import dataclass

import rlp
from hexbytes import HexBytes
from web3 import Web3
from web3.exceptions import Web3RPCError
from web3.types import TxParams, Wei

# Every node we know accepts a replacement outbidding each price field by 12.5% (geth's
# default price bump is 10%); a fraction keeps the arithmetic in integers.
BUMP_NUMERATOR, BUMP_DENOMINATOR = 9, 8
DYNAMIC_FEE_TYPE = 2


@dataclass(frozen=True)
class Fees:
    """A price per gas: an EIP-1559 fee cap and tip, or a legacy gas price (`tip` None)."""

    cap: int
    tip: int | None = None

    def fields(self) -> TxParams:
        """The transaction fields that carry this price."""
        if self.tip is None:
            return {"gasPrice": Wei(self.cap)}
        return {"maxFeePerGas": Wei(self.cap), "maxPriorityFeePerGas": Wei(self.tip), "type": DYNAMIC_FEE_TYPE}


@dataclass(frozen=True)
class Market:
    """The chain's price now: the next block's base fee (None on a legacy chain) and what a
    new transaction should offer, a fee cap of twice that base fee plus the going tip, so
    that it stays includable while the base fee rises for a few blocks."""

    base_fee: int | None
    offer: Fees


def market(w3: Web3) -> Market:
    """Ask the node: the pending block's base fee (the one the next transaction pays; the
    latest block's on a node that has no pending block) and its suggested tip."""
    try:
        base_fee = w3.eth.get_block("pending").get("baseFeePerGas")
    except Web3RPCError:  # no pending block on this node (BlockNotFound is one too)
        base_fee = None
    if base_fee is None:
        base_fee = w3.eth.get_block("latest").get("baseFeePerGas")
    if base_fee is None:
        return Market(None, Fees(w3.eth.gas_price))
    tip = w3.eth.max_priority_fee
    return Market(base_fee, Fees(2 * base_fee + tip, tip))


def signed_fees(raw_tx: str) -> Fees | None:
    """The price a signed transaction offers, read from its bytes (legacy or EIP-1559; None
    for another type, which the outbox never signs)."""
    raw = bytes(HexBytes(raw_tx))
    if raw[0] >= 0xC0:  # an RLP list: a legacy transaction [nonce, gasPrice, gas, ...]
        return Fees(_int(rlp.decode(raw)[1]))
    if raw[0] == DYNAMIC_FEE_TYPE:  # 0x02 || [chainId, nonce, maxPriorityFeePerGas, maxFeePerGas, ...]
        fields = rlp.decode(raw[1:])
        return Fees(_int(fields[3]), _int(fields[2]))
    return None


def underpriced(fees: Fees, now: Market) -> bool:
    """Whether a block built at today's price would leave a transaction offering `fees` out."""
    if fees.tip is None or now.base_fee is None:
        return fees.cap < now.offer.cap
    if now.offer.tip is None:  # `market` offers a tip wherever there is a base fee
        raise ValueError("a market with a base fee must offer a tip")
    return fees.cap < now.base_fee + now.offer.tip or fees.tip < now.offer.tip


def outbid(fees: Fees, now: Market) -> Fees:
    """The price of a replacement for a transaction offering `fees`: every field at least the
    going price and at least +12.5% over the old one, so that every node takes it."""
    cap = max(now.offer.cap, _bumped(fees.cap))
    if fees.tip is None:
        return Fees(cap)
    tip = max(now.offer.tip if now.offer.tip is not None else 0, _bumped(fees.tip))
    return Fees(max(cap, tip), tip)


def _bumped(value: int) -> int:
    return -(-value * BUMP_NUMERATOR // BUMP_DENOMINATOR)  # rounded up


def _int(field: bytes) -> int:
    return int.from_bytes(field, "big")
