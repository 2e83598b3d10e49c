"""Settlement rule versions of a work: set by its owner, read by those it concerns."""

from fastapi import APIRouter

from api import present, schemas
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep
from ledger.days import day_number
from ledger.settlement import rules

router = APIRouter(prefix="/works/{work_id}/rules", tags=["settlement"])


@router.post("", status_code=201)
def set_rule(
    work_id: str,
    body: schemas.RuleCreate,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
) -> schemas.RulePublic:
    record = rules.set_rule(
        ledger,
        account,
        work_id,
        body.rule,
        effective_from=day_number(body.effective_from),
        platform_id=body.platform_id,
        currency=body.currency.upper() if body.currency else None,
        idempotency_key=idempotency_key,
    )
    return present.rule(record)


@router.get("")
def list_rules(work_id: str, ledger: LedgerDep, account: CurrentAccount) -> list[schemas.RulePublic]:
    return [present.rule(r) for r in rules.rules_of(ledger, account, work_id)]
