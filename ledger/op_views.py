"""A record seen together with the chain operation that writes it (a work's registration, a
split version, a licence's grant): what the operation says of the record, in the words the
API and the console use."""

from __future__ import annotations

from ledger.models import ChainOp, OpStatus


def op_status(op: ChainOp) -> str:
    """pending (queued, sent, not mined yet), confirmed, or failed (refused or reverted)."""
    if op.status == OpStatus.confirmed:
        return "confirmed"
    if op.status in (OpStatus.rejected, OpStatus.reverted):
        return "failed"
    return "pending"


class OpView:
    """Base of a view whose record is written by its operation `op` (a frozen dataclass that
    declares `op` among its own fields, in its own order): its status is the operation's."""

    op: ChainOp

    @property
    def status(self) -> str:
        return op_status(self.op)
