"""Settlement rule versions of a work: set by its owner, read by those it concerns."""

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from api.deps import CurrentAccount, IdempotencyKey, LedgerDep
from api.fields import Day, RowId, token
from api.routes.periods import EPOCH
from ledger.settlement import rules

router = APIRouter(prefix="/works/{work_id}/rules", tags=["settlement"])


class RuleCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    effective_from: Day = Field(description="The first day in force; at most a year ahead.")
    platform_id: RowId | None = Field(default=None, description="The deal with one platform; omit for every platform.")
    currency: token(3, 3) | None = None
    rule: dict = Field(max_length=len(rules.FIELDS), description="valid_play_tiers, watch_minute_price_micro, ad_revenue_bps, pool, "
                                   "commission_bps, advance (prices in millionths of a minor unit)")


def _public(record) -> dict:
    from ledger.reports.views import day_text

    return {"version": record.version, "platform_id": record.platform_id, "currency": record.currency,
            "effective_from": day_text(record.effective_from), "rule": record.body, "content_hash": record.content_hash}


@router.post("", status_code=201)
def set_rule(
    work_id: str, body: RuleCreate, ledger: LedgerDep, account: CurrentAccount, idempotency_key: IdempotencyKey = None,
) -> dict:
    record = rules.set_rule(
        ledger, account, work_id, body.rule, effective_from=(body.effective_from - EPOCH).days,
        platform_id=body.platform_id, currency=body.currency.upper() if body.currency else None,
        idempotency_key=idempotency_key,
    )
    return _public(record)


@router.get("")
def list_rules(work_id: str, ledger: LedgerDep, account: CurrentAccount) -> list[dict]:
    return [_public(r) for r in rules.rules_of(ledger, account, work_id)]
