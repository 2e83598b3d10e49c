"""Settlement rule versions of a work: set by its owner, read by those it concerns."""

from typing import Any

from fastapi import APIRouter

from api import schemas
from api.deps import CurrentAccount, IdempotencyKey, LedgerDep
from ledger.days import day_number
from ledger.settlement import rules

router = APIRouter(prefix="/works/{work_id}/rules", tags=["settlement"])


def _public(record) -> dict:
    from ledger.reports.views import day_text

    return {
        "version": record.version,
        "platform_id": record.platform_id,
        "currency": record.currency,
        "effective_from": day_text(record.effective_from),
        "rule": record.body,
        "content_hash": record.content_hash,
    }


@router.post("", status_code=201, response_model=schemas.RulePublic)
def set_rule(
    work_id: str,
    body: schemas.RuleCreate,
    ledger: LedgerDep,
    account: CurrentAccount,
    idempotency_key: IdempotencyKey = None,
) -> dict[str, Any]:
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
    return _public(record)


@router.get("", response_model=list[schemas.RulePublic])
def list_rules(work_id: str, ledger: LedgerDep, account: CurrentAccount) -> list[dict[str, Any]]:
    return [_public(r) for r in rules.rules_of(ledger, account, work_id)]
