from fastapi import APIRouter, Response, status

from api import present, schemas
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep
from ledger import splits, works

router = APIRouter(prefix="/works/{work_id}/splits", tags=["splits"])


@router.post(
    "",
    status_code=201,
    response_model=schemas.SplitPublic,
    responses={202: {"model": schemas.SplitPublic, "description": "Recorded; the chain has not confirmed it yet."}},
)
def set_split(
    work_id: str,
    body: schemas.SplitCreate,
    response: Response,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
) -> schemas.SplitPublic:
    """Add a split version (分账 rule); earlier versions stay readable."""
    view = splits.set_split(
        ledger,
        account,
        work_id,
        [(p.address, p.bps) for p in body.payees],
        effective_from=body.effective_from,
        idempotency_key=idempotency_key,
    )
    shaped = schemas.SplitPublic(
        work_id=works.work_id_of(works.parse_work_id(work_id)),
        version=view.record.version,
        payees=view.record.payees,
        effective_from=view.record.effective_from,
        chain=present.chain_status(view.op),
    )
    response.status_code = status.HTTP_201_CREATED if shaped.chain.status == "confirmed" else status.HTTP_202_ACCEPTED
    return shaped


@router.get("")
def list_split_versions(work_id: str, ledger: LedgerDep, account: CurrentAccount) -> list[schemas.SplitVersionPublic]:
    """Every split version on chain, oldest first, read from the chain."""
    return [present.split_version(v) for v in splits.split_versions(ledger, account, work_id)]
