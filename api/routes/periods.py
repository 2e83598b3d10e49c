"""Settlement periods: close (settle and commit), read, fund, statements, claims, audit."""

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from api import present, schemas
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep, require
from api.fields import AddressQuery
from api.once import Once
from ledger.days import EPOCH, day_number
from ledger.errors import InvalidInput
from ledger.models import ChainOp, Role
from ledger.settlement import audit, disputes, payouts, periods

router = APIRouter(prefix="/periods", tags=["settlement"])
PeriodId = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="The period's bytes32 id.")]
LineIndex = Annotated[int, Path(ge=0, le=2**32, description="A line's index in its period.")]
DisputeId = Annotated[int, Path(ge=0, le=2**63, description="A dispute's number in its period.")]


def _chain(op: ChainOp) -> schemas.ChainResult | Response:
    return schemas.ChainResult(chain=present.chain_status(op))


@router.post("/close", status_code=201, response_model=schemas.PeriodPublic, response_model_exclude_unset=True)
def close_period(
    body: schemas.PeriodClose, ledger: LedgerDep, account: CurrentAccount, once: Once
) -> schemas.PeriodPublic | Response:
    """Settle the platform's reports of exactly this period and commit the root on chain, once."""
    if body.period_end < body.period_start:
        raise InvalidInput("period_end", "the period ends before it starts")
    if body.period_start < EPOCH:
        raise InvalidInput("period_start", "a period starts in 1970 or later")
    return once(
        lambda: present.period(
            periods.close_period(
                ledger,
                account,
                currency=body.currency.upper(),
                first_day=day_number(body.period_start),
                end_day=day_number(body.period_end) + 1,
                pools=body.pools,
                platform_id=body.platform_id,
            )
        ),
        body,
    )


@router.get("", response_model_exclude_unset=True)
def list_periods(ledger: LedgerDep, account: CurrentAccount) -> list[schemas.PeriodPublic]:
    """A platform's own periods, a payee's periods with lines for it, every period for auditors."""
    return [
        present.period(v, full=periods.may_see_period(account, v.period)) for v in periods.list_periods(ledger, account)
    ]


@router.get("/{period_id}", response_model_exclude_unset=True)
def get_period(period_id: PeriodId, ledger: LedgerDep, account: CurrentAccount) -> schemas.PeriodDetail:
    view = periods.get_period(ledger, account, period_id)
    full = periods.may_see_period(account, view.period)
    return present.period_detail(
        view,
        full=full,
        on_chain=periods.on_chain(ledger, view.period),
        disputes=disputes.list_disputes(ledger, account, period_id=period_id, limit=500),
    )


@router.get("/{period_id}/statement", response_model_exclude_unset=True)
def statement(
    period_id: PeriodId,
    ledger: LedgerDep,
    account: CurrentAccount,
    payee: Annotated[
        AddressQuery, Query(description="Platforms and auditors may name a payee; payees get their own.")
    ] = None,
    proofs: bool = Query(True, description="Each line's Merkle proof; leave them out to just add amounts up."),
) -> schemas.Statement:
    """A payee's lines, each with the Merkle proof that `reelledger verify statement` checks on chain."""
    return present.statement(payouts.statement(ledger, account, period_id, payee=payee, proofs=proofs))


@router.post("/{period_id}/fund")
def fund(
    period_id: PeriodId,
    body: schemas.Funding,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
) -> schemas.Funded:
    """The platform pays what the period owes into the settlement contract; a retry under the same
    Idempotency-Key answers with the first funding and pays nothing more."""
    result = payouts.fund(ledger, account, period_id, amount=body.amount, idempotency_key=idempotency_key)
    return schemas.Funded(funded=str(result.funded), currency=result.currency, chain=present.chain_status(result.op))


@router.post("/{period_id}/lines/{index}/claim", response_model=schemas.ChainResult)
def claim(
    period_id: PeriodId, index: LineIndex, ledger: LedgerDep, account: CurrentAccount, once: Once
) -> schemas.ChainResult | Response:
    """Pay the caller's line out to the caller's address (custodial accounts; others call the contract)."""
    return once(lambda: _chain(payouts.claim(ledger, account, period_id, index)))


@router.post("/{period_id}/lines/{index}/paid-off-chain", response_model=schemas.ChainResult)
def paid_off_chain(
    period_id: PeriodId,
    index: LineIndex,
    body: schemas.PaidOffChain,
    ledger: LedgerDep,
    account: CurrentAccount,
    once: Once,
) -> schemas.ChainResult | Response:
    """The payee records that the line was paid outside the contract; it can then never be claimed."""
    ref = body.payment_ref
    return once(lambda: _chain(payouts.mark_paid_off_chain(ledger, account, period_id, index, payment_ref=ref)), body)


@router.post("/{period_id}/lines/{index}/dispute", response_model=schemas.DisputeFiled)
def dispute(
    period_id: PeriodId,
    index: LineIndex,
    body: schemas.DisputeIn,
    ledger: LedgerDep,
    account: CurrentAccount,
    once: Once,
) -> schemas.DisputeFiled | Response:
    """The payee disputes its line during the dispute window, saying what it should pay: the line
    is held until the arbiter decides (or the deadline's default applies); every other line of
    the period pays on time."""

    def work() -> schemas.DisputeFiled:
        op, view = disputes.file(ledger, account, period_id, index, reason=body.reason, claimed=body.claimed_amount)
        return schemas.DisputeFiled(chain=present.chain_status(op), dispute=present.dispute(view) if view else None)

    return once(work, body)


@router.get("/{period_id}/disputes", response_model_exclude_unset=True)
def period_disputes(period_id: PeriodId, ledger: LedgerDep, account: CurrentAccount) -> list[schemas.DisputePublic]:
    """The period's disputes the caller may see: its own as payee, all as the period's platform,
    those on its works as rights holder; auditors and the arbiter see all."""
    periods.get_period(ledger, account, period_id)  # a period the caller has no part in is not found
    return [present.dispute(d) for d in disputes.list_disputes(ledger, account, period_id=period_id, limit=500)]


@router.post("/{period_id}/disputes/{dispute_id}/decide", response_model=schemas.DisputeDecided)
def decide(
    period_id: PeriodId,
    dispute_id: DisputeId,
    body: schemas.DecisionIn,
    ledger: LedgerDep,
    account: CurrentAccount,
    once: Once,
) -> schemas.DisputeDecided | Response:
    """The arbiter (an arbiter account holding the seat) decides a dispute before its deadline."""

    def work() -> schemas.DisputeDecided:
        op, view = disputes.decide(
            ledger,
            account,
            period_id,
            dispute_id,
            upheld=body.outcome == "upheld",
            corrected=body.corrected_amount,
            reason=body.reason,
        )
        return schemas.DisputeDecided(chain=present.chain_status(op), dispute=present.dispute(view))

    return once(work, body)


@router.get("/{period_id}/audit", dependencies=[require(Role.auditor, Role.admin)])
def audit_period(period_id: PeriodId, ledger: LedgerDep) -> schemas.AuditOut:
    """Recompute the period from the stored signed reports and rule versions; compare with the chain."""
    result = audit.audit_period(ledger.engine, ledger.chain.settlement, ledger.registries.derivatives, period_id)
    return present.audit(result)
