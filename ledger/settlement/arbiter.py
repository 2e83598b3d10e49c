"""The arbiter seat of the SettlementRegistry: who decides disputes, and its two-step handover.

The deployment names the first arbiter (the service signer unless settings name another
address). The seat moves only in two steps: the holder names a successor, the successor
accepts. From the service, an admin hands the signer's seat to an arbiter account, which
accepts with its own custodial key; an external arbiter (a multisig) does both on chain.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlmodel import select

from ledger.chain.errors import ChainUnavailable
from ledger.chain.outbox import raise_for
from ledger.db import session
from ledger.errors import Conflict, Forbidden, InvalidInput
from ledger.models import Account, ChainOp, Role

if TYPE_CHECKING:
    from ledger.service import Ledger


@dataclass(frozen=True)
class Seat:
    arbiter: str
    pending: str | None
    arbiter_account_id: int | None  # the arbiter account holding the seat, if one of ours
    held_by_service: bool  # still the service signer's: hand it over before deciding through the API
    decision_window: int  # seconds from a dispute's opening
    default_upheld: bool
    bond_token: str | None
    bond_amount: int
    bond_currency: str  # the settlement currency, whose minor units the bond token counts
    bond_sink: str | None


def seat(ledger: Ledger) -> Seat:
    registry = ledger.chain.settlement
    try:
        current, pending, terms = registry.arbiter(), registry.pending_arbiter(), registry.dispute_terms()
    except OSError as exc:
        raise ChainUnavailable("the chain node does not answer") from exc
    with session(ledger.engine) as db:
        holder = db.exec(select(Account).where(Account.address == current, Account.role == Role.arbiter)).first()
    bonded = terms.bond_amount > 0
    return Seat(
        arbiter=current,
        pending=None if int(pending, 16) == 0 else pending,
        arbiter_account_id=holder.id if holder else None,
        held_by_service=current.lower() == ledger.chain.signer.lower(),
        decision_window=terms.decision_window,
        default_upheld=terms.default_upheld,
        bond_token=terms.bond_token if bonded else None,
        bond_amount=terms.bond_amount,
        bond_currency=ledger.settings.settlement_currency,
        bond_sink=terms.bond_sink if bonded else None,
    )


def begin_handover(ledger: Ledger, account: Account, arbiter_account_id: int) -> ChainOp:
    """An admin hands the service signer's seat to an arbiter account (step one of two)."""
    if account.role != Role.admin:
        raise Forbidden("an admin hands the arbiter seat over")
    with session(ledger.engine) as db:
        successor = db.get(Account, arbiter_account_id)
    if successor is None or successor.role != Role.arbiter:
        raise InvalidInput("account_id", f"account {arbiter_account_id} is not an arbiter account")
    chain = ledger.chain
    current = seat(ledger)
    if not current.held_by_service:
        raise Conflict(
            "seat_not_held",
            f"the arbiter seat is held by {current.arbiter}, not the service: its holder hands it over on chain",
        )
    op = chain.outbox.submit(
        f"arbiter-handover:{chain.chain_id}:{current.arbiter}:{successor.address}",
        chain.signer,
        chain.settlement.begin_arbiter_handover(successor.address),
    )
    return raise_for(ledger.settle(op.id))


def accept(ledger: Ledger, account: Account) -> ChainOp:
    """The named arbiter account takes the seat (step two), signed with its own custodial key."""
    from ledger.settlement.payouts import own_write

    if account.role != Role.arbiter:
        raise Forbidden("an arbiter account accepts the arbiter seat")
    current = seat(ledger)
    chain = ledger.chain
    key = f"arbiter-accept:{chain.chain_id}:{current.arbiter}:{account.address}"
    if current.arbiter.lower() == account.address.lower():
        raise Conflict("already_arbiter", "this account holds the arbiter seat")
    if (current.pending or "").lower() != account.address.lower():
        raise Conflict("not_pending_arbiter", f"the seat is offered to {current.pending or 'nobody'}, not this account")
    return own_write(ledger, account, key, chain.settlement.accept_arbiter_handover())
