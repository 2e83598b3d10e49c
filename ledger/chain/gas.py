"""Gas for the accounts the service signs for, paid by one funding key through the outbox.

On a chain the service does not run, nobody else gives a custodial account the ether its
transactions cost. Before the outbox signs a transaction for any account other than the
funding key, it asks `cover` whether the account can pay the transaction's maximum cost
(gas limit x fee cap + value) and still hold `floor` wei; if not, the funding key sends it
`max(top_up, what is missing)`, and a transaction the account cannot pay at all waits until
that top-up is mined.

The top-up is itself an outbox operation, so it is recorded before it is sent and resent if
lost. Its idempotency key is the account, its next nonce and its balance at that moment: an
account's balance falls only through its own transactions, each of which takes a nonce, so
the pair names one need. Asking again for the same need (a retry, another thread, a restart
before the top-up was mined) finds the same operation and sends nothing new; once the top-up
is in, the balance differs and the need is met.

When the funding key itself cannot pay, the write is held in the queue as `insufficient_funds`
naming the account and its shortfall, and the reconciler sends it once the key is refilled.
"""

from __future__ import annotations

from dataclasses import dataclass

from web3 import Web3

from ledger.chain import web3_types
from ledger.chain.errors import ChainUnavailable, GasPending, InsufficientFunds, OpTimeout
from ledger.chain.outbox import FINAL, Call, Outbox
from ledger.models import ChainOp, OpStatus

TOP_UP_LABEL = "gas.topUp"


def top_up_key(chain_id: int, account: str, nonce: int, balance: int) -> str:
    return f"gas-topup:{chain_id}:{Web3.to_checksum_address(account)}:{nonce}:{balance}"


@dataclass
class GasStation:
    outbox: Outbox
    funder: str  # the funding key's address
    floor: int  # wei an account keeps after a transaction's maximum cost
    top_up: int  # the least a top-up sends
    wait: float  # seconds a write waits for its account's top-up to be mined

    def cover(self, sender: str, nonce: int, cost: int) -> None:
        """Return once `sender` can pay `cost` for its transaction at `nonce`; raises
        InsufficientFunds if neither it nor the funding key can, GasPending if its top-up is
        on its way but not mined in time."""
        if cost <= 0:  # a chain without gas fees (a consortium chain at gas price 0)
            return
        balance = self.outbox.w3.eth.get_balance(web3_types.address(sender), "pending")
        if sender == self.funder:
            if balance < cost:
                raise InsufficientFunds(sender, cost - balance)
            return
        if balance - cost >= self.floor:
            return
        amount = max(self.top_up, cost + self.floor - balance)
        key = top_up_key(self.outbox.chain_id, sender, nonce, balance)
        op = self.outbox.submit(key, self.funder, Call(TOP_UP_LABEL, sender, "0x", amount))
        if balance >= cost:
            return  # this transaction is paid for; the top-up keeps the next one above the floor
        self._until_mined(op, sender, cost - balance)

    def _until_mined(self, op: ChainOp, sender: str, shortfall: int) -> None:
        """Wait for the top-up to be mined (confirmations do not matter: the account may spend it)."""
        try:
            op = self.outbox.wait(op.id, self.wait, done=self._mined_or_final)
        except InsufficientFunds:
            funder_balance = self.outbox.w3.eth.get_balance(web3_types.address(self.funder), "pending")
            raise InsufficientFunds(sender, shortfall, self.funder, funder_balance) from None
        except (OpTimeout, ChainUnavailable):
            op = self.outbox.get(op.id)
            raise GasPending(f"{sender} waits for its gas top-up (operation {op.id}, {op.status.value})") from None
        if op.status in (OpStatus.reverted, OpStatus.rejected):
            raise GasPending(f"{sender} waits for its gas top-up (operation {op.id}, {op.status.value})")

    def _mined_or_final(self, op: ChainOp) -> bool:
        return op.status in FINAL or bool(op.tx_hash and self.outbox.mined(op.tx_hash))


@dataclass(frozen=True)
class FundingReport:
    """The funding key's balance in wei (None when the node does not answer), the level below
    which /health warns, and the warning if it is below."""

    address: str
    balance: int | None
    warn_below: int
    warning: str | None = None


def balance_report(w3: Web3, funder: str, warn_below: int) -> FundingReport:
    """The funding key's balance for /health, with a warning when it runs low."""
    balance = w3.eth.get_balance(web3_types.address(funder))
    warning = None
    if balance < warn_below:
        warning = (
            f"the funding key {funder} holds {balance} wei, less than {warn_below} "
            "(REELLEDGER_FUNDING_WARN_WEI): refill it before service-held accounts cannot pay for their writes"
        )
    return FundingReport(address=funder, balance=balance, warn_below=warn_below, warning=warning)
