"""The settlement token an operator names: checked once at start, before anything is paid in it.

Amounts are settled, committed and paid as integers in the currency's minor units (fen for
CNY). A token whose `decimals()` differ would pay a hundred times too much or too little, so a
token that does not match the currency stops the service at start instead.
"""

from __future__ import annotations

from web3 import Web3
from web3.exceptions import Web3Exception

from ledger.chain import web3_types
from ledger.chain.errors import ChainError, ChainUnavailable
from ledger.chain.gateway import Gateway
from ledger.chain.outbox import Call
from ledger.currencies import minor_unit

DECIMALS_ABI = [
    {
        "type": "function",
        "name": "decimals",
        "stateMutability": "view",
        "inputs": [],
        "outputs": [{"name": "", "type": "uint8"}],
    }
]


class SettlementTokenMismatch(ChainError):
    """The configured settlement token is missing or does not count in the currency's minor unit."""


def check_settlement_token(w3: Web3, address: str, currency: str) -> int:
    """The token's decimals, once they are the currency's minor unit; raises otherwise."""
    if not Web3.is_address(address):
        raise SettlementTokenMismatch(f"REELLEDGER_SETTLEMENT_TOKEN {address!r} is not an address")
    token = Web3.to_checksum_address(address)
    try:
        wanted = minor_unit(currency)
    except ValueError as exc:
        raise SettlementTokenMismatch(f"REELLEDGER_SETTLEMENT_CURRENCY: {exc}") from None
    try:
        if not w3.eth.get_code(token):
            raise SettlementTokenMismatch(
                f"REELLEDGER_SETTLEMENT_TOKEN {token} holds no contract on chain {w3.eth.chain_id}: "
                "name an ERC-20 deployed on this chain, or leave it unset on a development chain"
            )
        decimals = w3.eth.contract(address=token, abi=DECIMALS_ABI).functions.decimals().call()
    except OSError as exc:
        raise ChainUnavailable(f"the chain node does not answer: {exc}") from exc
    except (Web3Exception, ValueError) as exc:
        raise SettlementTokenMismatch(f"REELLEDGER_SETTLEMENT_TOKEN {token} does not answer decimals(): {exc}") from exc
    if decimals != wanted:
        raise SettlementTokenMismatch(
            f"REELLEDGER_SETTLEMENT_TOKEN {token} has {decimals} decimals, but {currency.upper()} amounts are kept in "
            f"minor units of {wanted} decimals (REELLEDGER_SETTLEMENT_CURRENCY): name a token whose decimals() is "
            f"{wanted}, or settle in a currency whose minor unit it counts"
        )
    return int(decimals)


class TokenGateway(Gateway):
    """An ERC-20 the service pays in; the development chain's TestStablecoin also mints."""

    def approve(self, spender: str, amount: int) -> Call:
        return self._call("approve", [spender, amount])

    def mint(self, holder: str, amount: int) -> Call:
        return self._call("mint", [holder, amount])

    def balance_of(self, holder: str) -> int:
        return int(self.contract.functions.balanceOf(web3_types.address(holder)).call())

    def total_supply(self) -> int:
        return int(self.contract.functions.totalSupply().call())
